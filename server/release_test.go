package server

import (
	"runtime"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// TestMemoryHandedBack: once the runs that filled the log budget are
// dropped and their subscribers gone, the server collects their memory and
// hands it back to the system at once, rather than leaving it to the
// scavenger (the issue: 3.8 GB still held after the runs were dropped).
func TestMemoryHandedBack(t *testing.T) {
	const budget = 32 << 20
	s, err := New(Config{OllamaURL: "http://127.0.0.1:1", MaxLogBytes: budget, RunTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cl, err := client.New(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n, zero := 250_000, 0.0
	req := wire.RunRequest{Prompt: "hi"}
	for range 4 {
		req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: &n, Rate: &zero}})
	}
	run, err := cl.StartRun(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	var chans []<-chan client.Event
	for _, st := range run.Streams {
		ch, err := cl.Subscribe(t.Context(), st.ID)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	for _, ch := range chans {
		for range ch {
		}
	}
	// The run is kept for its TTL (long enough for the subscriptions
	// above to find it), then dropped.
	testenv.Eventually(t, "the run dropped after its TTL", func() bool { return s.Stats().Runs == 0 })
	// The release runs on the janitor's goroutine: wait for it.
	var m runtime.MemStats
	for deadline := time.Now().Add(testenv.Patience); ; time.Sleep(20 * time.Millisecond) {
		runtime.ReadMemStats(&m)
		if m.HeapAlloc < budget/4 && m.HeapReleased >= budget/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memory not handed back: heap %d MiB allocated, %d MiB released", m.HeapAlloc>>20, m.HeapReleased>>20)
		}
	}
	t.Logf("heap %d MiB allocated, %d MiB released, after logs of %d MiB", m.HeapAlloc>>20, m.HeapReleased>>20, budget>>20)
}
