package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// churnCounts are the figures of TestChurn.
type churnCounts struct {
	runs, streams, syncRuns           atomic.Int64
	runCancels, streamCancels         atomic.Int64
	followed, abandoned, rawAbandoned atomic.Int64
	eventsFollowed                    atomic.Int64
	droppedFirst                      atomic.Int64 // runs dropped beyond the store's cap before a late request
}

// TestChurn starts 1,000 runs of 8 demo streams, paced so that they are in
// the middle of their streams, and cancels them at random moments: whole
// runs, or single streams first, some before anyone subscribed, some with
// subscribers that follow them to the end, give up half way, or drop the
// connection without reading. Every followed stream must end with its
// terminal event. Afterwards no goroutine is left, the heap is back near
// where it started, the store of finished runs is within its cap, and the
// server serves a new run as if nothing had happened.
func TestChurn(t *testing.T) {
	testenv.Long(t, "1,000 runs")
	const (
		runs      = 1000
		perRun    = 8
		workers   = 8
		storeCap  = 4 << 20
		heapSlack = 16 << 20
	)
	srv, err := server.New(server.Config{OllamaURL: closedURL(t), MaxStoreBytes: storeCap, MaxActiveStreams: 4 * workers * perRun})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := client.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rawTransport := &http.Transport{}
	defer rawTransport.CloseIdleConnections()
	raw := &http.Client{Transport: rawTransport}

	// One run first, so that what the server and client start once is
	// running before the baseline.
	warm := startRun(t, cl, wire.RunRequest{Prompt: "warm up", Streams: []wire.StreamSpec{echo()}})
	collect(t, cl, warm.Streams[0].ID)
	cl.Close()
	stableGoroutines()
	baseline := goleak.IgnoreCurrent()
	goroutinesBefore := runtime.NumGoroutine()
	heapBefore := heapAlloc()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var counts churnCounts
	var failures atomic.Int64
	began := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for range runs / workers {
				if err := churnOnce(t.Context(), srv.URL(), cl, raw, rng, perRun, &counts); err != nil {
					t.Error(err)
					if failures.Add(1) > 5 {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	if t.Failed() {
		t.FailNow()
	}
	testenv.Eventually(t, "the streams to end after the churn", func() bool { return srv.Stats().ActiveStreams == 0 })
	cl.Close()
	rawTransport.CloseIdleConnections()
	goroutinesAfter := settleGoroutines(goroutinesBefore)
	if err := testenv.Leaks(baseline); err != nil {
		t.Errorf("goroutines left after the churn: %v", err)
	}
	heapAfter := heapAlloc()
	st := srv.Stats()
	t.Logf("%d runs of %d streams (%d sync) in %v: %d run cancels, %d stream cancels; %d subscribers followed to the end (%d events), %d abandoned half way, %d dropped without reading; %d late requests found their run dropped",
		counts.runs.Load(), perRun, counts.syncRuns.Load(), took.Round(time.Millisecond), counts.runCancels.Load(), counts.streamCancels.Load(),
		counts.followed.Load(), counts.eventsFollowed.Load(), counts.abandoned.Load(), counts.rawAbandoned.Load(), counts.droppedFirst.Load())
	t.Logf("goroutines %d before, %d after; heap %.1f MiB before, %.1f MiB after; store: %d runs held, %.1f MiB of finished runs (cap %.0f MiB)",
		goroutinesBefore, goroutinesAfter, mib(heapBefore), mib(heapAfter), st.Runs, mib(uint64(st.FinishedBytes)), mib(storeCap))
	if counts.runs.Load() != runs {
		t.Errorf("%d runs, want %d", counts.runs.Load(), runs)
	}
	if heapAfter > heapBefore+heapSlack {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", mib(heapBefore), mib(heapAfter))
	}
	if st.FinishedBytes > storeCap || st.ActiveStreams != 0 {
		t.Errorf("store %+v, cap %d bytes", st, storeCap)
	}

	// The server answers as before.
	fresh := startRun(t, cl, wire.RunRequest{Prompt: "after the churn", Streams: []wire.StreamSpec{echo(), flood(500, 0)}})
	if evs := collect(t, cl, fresh.Streams[0].ID); textOf(evs) != "after the churn" || evs[len(evs)-1].Reason != wire.ReasonStop {
		t.Errorf("a run after the churn: %q, %+v", textOf(evs), evs[len(evs)-1])
	}
	if evs := collect(t, cl, fresh.Streams[1].ID); len(tokensOf(evs)) != 500 {
		t.Errorf("a flood after the churn: %d tokens", len(tokensOf(evs)))
	}
}

// churnOnce starts one run and cancels it at random moments, with
// subscribers of every kind; it returns when every followed stream ended.
func churnOnce(ctx context.Context, base string, cl *client.Client, raw *http.Client, rng *rand.Rand, perRun int, counts *churnCounts) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := wire.RunRequest{Prompt: "one two three four five six seven eight nine ten", Mode: wire.ModeAsync}
	if rng.IntN(4) == 0 {
		req.Mode = wire.ModeSync
		counts.syncRuns.Add(1)
	}
	for range perRun {
		switch rng.IntN(4) {
		case 0:
			req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoHello})
		case 1:
			req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoHamlet})
		case 2:
			req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(20.0)}})
		default:
			req.Streams = append(req.Streams, flood(100000, 200+rng.Float64()*2000))
		}
	}
	run, err := cl.StartRun(ctx, req)
	if err != nil {
		return err
	}
	counts.runs.Add(1)
	counts.streams.Add(int64(len(run.Streams)))

	early := rng.IntN(5) == 0 // cancel before anyone subscribes
	var followers sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	// A run that has ended may be dropped at once when the store is over
	// its cap (a few big runs fill 4 MiB): then it is gone, not an error.
	dropped := func(err error) bool {
		if client.IsNotFound(err) && early {
			counts.droppedFirst.Add(1)
			return true
		}
		return false
	}
	subscribe := func() {
		for _, s := range run.Streams {
			switch rng.IntN(4) {
			case 0: // followed to the end
				ch, err := cl.Subscribe(ctx, s.ID)
				if dropped(err) {
					continue
				}
				if err != nil {
					fail(err)
					continue
				}
				counts.followed.Add(1)
				followers.Go(func() {
					var last client.Event
					n := int64(0)
					for ev := range ch {
						if ev.Seq != n {
							fail(fmt.Errorf("stream %s: a follower got seq %d after %d", s.ID, ev.Seq, n-1))
						}
						n, last = ev.Seq+1, ev
					}
					counts.eventsFollowed.Add(n)
					if !last.Terminal() || last.Local {
						fail(fmt.Errorf("stream %s: a follower's last event is %s %q, not the terminal event", s.ID, last.Type, last.Message))
					}
				})
			case 1: // given up after a few events
				subCtx, stop := context.WithCancel(ctx)
				ch, err := cl.Subscribe(subCtx, s.ID)
				if dropped(err) {
					stop()
					continue
				}
				if err != nil {
					stop()
					fail(err)
					continue
				}
				counts.abandoned.Add(1)
				read := rng.IntN(3)
				followers.Go(func() {
					for range read {
						<-ch
					}
					stop()
					for range ch {
					}
				})
			case 2: // connection dropped without reading
				r, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events?stream="+s.ID, nil)
				resp, err := raw.Do(r)
				if err != nil {
					fail(err)
					continue
				}
				counts.rawAbandoned.Add(1)
				if rng.IntN(2) == 0 {
					// What has come so far: at least the first phase.
					_, _ = resp.Body.Read(make([]byte, 1+rng.IntN(200)))
				}
				resp.Body.Close()
			}
		}
	}
	pause := func() { time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond) }
	if !early {
		subscribe()
	}
	pause()
	if rng.IntN(2) == 0 {
		for _, i := range rng.Perm(len(run.Streams))[:1+rng.IntN(len(run.Streams))] {
			if err := cl.CancelStream(ctx, run.Streams[i].ID); err != nil {
				return err
			}
			counts.streamCancels.Add(1)
			if rng.IntN(3) == 0 {
				pause()
			}
		}
	}
	if err := cl.CancelRun(ctx, run.ID); err != nil {
		// Every stream was cancelled one by one: the run has ended and
		// may have been dropped beyond the store's cap.
		if !client.IsNotFound(err) {
			return err
		}
		counts.droppedFirst.Add(1)
	}
	counts.runCancels.Add(1)
	if early {
		subscribe()
	}
	followers.Wait()
	return firstErr
}

// settleGoroutines waits up to testenv.Patience for the goroutines to fall
// to want and returns how many there are.
func settleGoroutines(want int) int {
	deadline := time.Now().Add(testenv.Patience)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// stableGoroutines waits until the number of goroutines has not changed
// for 200 ms (at most 10 s).
func stableGoroutines() {
	deadline := time.Now().Add(10 * time.Second)
	n, same := runtime.NumGoroutine(), 0
	for same < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
}

// heapAlloc is the live heap after two collections.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
