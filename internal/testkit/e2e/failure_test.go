package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
	"github.com/tokenloom/tokenloom/server"
)

// checkDemoStillServes runs two demo streams and checks they complete: the
// server does not depend on Ollama for them.
func checkDemoStillServes(t *testing.T, ctx context.Context, cl *client.Client) {
	t.Helper()
	const prompt = "the server goes on"
	rate := 0.0
	_, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: prompt, Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: &rate}},
		{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: intp(500), Rate: &rate}},
	}})
	checkDone(t, "demo/echo", got[0], prompt, wire.ReasonStop)
	checkWellFormed(t, "demo/flood", got[1])
	if l := got[1].last(); l.Type != wire.EventDone || l.Reason != wire.ReasonStop || len(got[1].tokens()) != 500 {
		t.Errorf("demo/flood: %v, want 500 tokens and done %q", got[1], wire.ReasonStop)
	}
}

// TestOllamaKilled kills Ollama while two streams are generating: both end
// at once with a clear error, a demo stream of the same run goes on after
// them, the server goes on serving the demo sources, says Ollama is gone,
// and serves Ollama again once it is back.
func TestOllamaKilled(t *testing.T) {
	o := ollamatest.Start(t, ollamatest.WithEnv(parallel4))
	_, cl := newStack(t, o.URL())
	ctx := testContext(t)

	// About 2 s each if nothing stops them (Ollama's cap of 10240 tokens).
	// The demo stream would run for 1,000 s: the test cancels it once it
	// has gone on after the Ollama streams' errors.
	const demoRate = 100.0
	created, chans := start(t, ctx, cl, wire.RunRequest{Prompt: "one", Streams: []wire.StreamSpec{
		{Model: o.Model(), Options: counting(100000, 0)},
		{Model: o.Model(), Options: counting(100000, 0)},
		{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: intp(100000), Rate: floatp(demoRate)}},
	}})
	got := make([]events, len(chans))
	var generating, ended sync.WaitGroup
	for i, ch := range chans[:2] {
		generating.Add(1)
		ended.Go(func() {
			tokens := 0
			for ev := range ch {
				got[i] = append(got[i], ev)
				if ev.Type == wire.EventToken {
					if tokens++; tokens == 100 {
						generating.Done()
					}
				}
			}
			if tokens < 100 {
				generating.Done()
			}
		})
	}
	generating.Wait()

	killed := time.Now()
	o.Kill()
	killTook := time.Since(killed)
	ended.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the streams did not end within %v of the kill", testenv.Patience)
	}
	// The demo stream goes on after both errors: it sends a token stamped
	// after the later one, and then ends as the test cancels it.
	errorsAt := max(got[0].last().TMs, got[1].last().TMs)
	var demo events
	cancelled := false
	for ev := range chans[2] {
		demo = append(demo, ev)
		if ev.Type == wire.EventToken && ev.TMs > errorsAt && !cancelled {
			if err := cl.CancelStream(ctx, created.Streams[2].ID); err != nil {
				t.Fatalf("CancelStream: %v", err)
			}
			cancelled = true
		}
	}
	got[2] = demo
	checkWellFormed(t, "demo stream", demo)
	goneOn := demo.tokens()
	if l := demo.last(); l.Type != wire.EventDone || l.Reason != wire.ReasonCancelled || len(goneOn) == 0 || goneOn[len(goneOn)-1].TMs <= errorsAt {
		t.Errorf("the demo stream of the same run: %v, want tokens after the Ollama streams' errors at %.0f ms, then done %q", demo, errorsAt, wire.ReasonCancelled)
	}
	t.Logf("the demo stream of the same run went on after the errors at %.0f ms, to its token at %.0f ms", errorsAt, goneOn[len(goneOn)-1].TMs)
	for i, evs := range got[:2] {
		name := fmt.Sprintf("stream %d", i)
		checkWellFormed(t, name, evs)
		l := evs.last()
		if l.Type != wire.EventError || !strings.Contains(l.Message, "Ollama") || l.Hint == "" {
			t.Errorf("%s: %v\nwant an error naming Ollama, with a hint", name, evs)
			continue
		}
		n := len(evs.tokens())
		if n < 100 || n >= 10240 || evs.text() != testmodel.Counting(n) {
			t.Errorf("%s: %d tokens before the error, text %q…: want the counting text cut short", name, n, evs.text()[:min(60, len(evs.text()))])
		}
		// At once: the server saw the connection break. Had it missed
		// that, the stall limit would have ended the stream a minute
		// later, saying that Ollama sent nothing.
		if strings.Contains(l.Message, "sent nothing") {
			t.Errorf("%s: the error %q came from the stall limit, not from the broken connection", name, l.Message)
		}
		took := l.Received.Sub(killed)
		t.Logf("%s: error %v after the kill (Kill itself took %v), after %d tokens: %q (hint %q)",
			name, took.Round(time.Microsecond), killTook.Round(time.Microsecond), n, l.Message, l.Hint)
	}
	checkTranscript(t, ctx, cl, created, got)
	// The run's line claims nothing of streams that failed (or that were
	// stopped), and says them.
	var outcomes []figures.Outcome
	for i, evs := range got {
		outcomes = append(outcomes, evs.outcome(created.Streams[i].Model))
	}
	if h := figures.RunTimeOf(outcomes).Headline(wire.ModeAsync); strings.Contains(h, "×") || !strings.Contains(h, "2 streams failed and 1 was stopped") {
		t.Errorf("headline %q: want no ratio, both Ollama streams failed and the demo stopped", h)
	}
	if h := figures.RunTimeOf(outcomes[:2]).Headline(wire.ModeAsync); !regexp.MustCompile(`^async run: \d+\.\d\d s wall time: 2 streams failed$`).MatchString(h) {
		t.Errorf("headline of the two Ollama streams %q: want the wall time and both failed", h)
	}

	checkDemoStillServes(t, ctx, cl)

	// A new Ollama stream now finds nothing at the address.
	_, after := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{{Model: o.Model()}}})
	checkWellFormed(t, "after the kill", after[0])
	if l, want := after[0].last(), "Ollama is not reachable at "+o.URL(); l.Type != wire.EventError || l.Message != want {
		t.Errorf("a stream after the kill: %v\nwant the error %q", after[0], want)
	}

	// Ollama back on the same address: the server uses it again at once.
	o.Restart()
	_, back := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{{Model: o.Model()}}})
	checkDone(t, "after the restart", back[0], testmodel.FoxSentence, wire.ReasonStop)
}

// TestOllamaNotRunning points the server at a loopback port where nothing
// listens: the demo sources still work, and everything that needs Ollama
// says clearly that it is not reachable and how to start it.
func TestOllamaNotRunning(t *testing.T) {
	url := "http://" + closedPort(t)
	_, cl := newStack(t, url)
	ctx := testContext(t)

	h, err := cl.Health(ctx)
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if !h.OK || h.Ollama.URL != url || h.Ollama.Reachable || !strings.Contains(h.Ollama.Error, "not reachable") {
		t.Errorf("Health = %+v: want ok, Ollama %s not reachable", *h, url)
	}

	ms, err := cl.Models(ctx)
	if err != nil {
		t.Fatalf("Models: %v", err)
	}
	for _, name := range server.DemoModelNames() {
		if !hasModel(ms.Models, name, "demo") {
			t.Errorf("models %v: %s missing", modelNames(ms.Models), name)
		}
	}
	if len(ms.Models) != len(server.DemoModelNames()) {
		t.Errorf("models %v: want the demo sources only", modelNames(ms.Models))
	}
	if !strings.Contains(ms.OllamaError, "not reachable") || !strings.Contains(ms.OllamaError, url) ||
		!strings.Contains(ms.OllamaHint, "ollama serve") {
		t.Errorf("ollama_error %q, ollama_hint %q: want %q, the URL %s and how to start Ollama",
			ms.OllamaError, ms.OllamaHint, "not reachable", url)
	}

	_, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{
		{Model: testmodel.Name},
		{Model: wire.DemoEcho},
	}})
	checkWellFormed(t, "Ollama stream", got[0])
	if l, want := got[0].last(), "Ollama is not reachable at "+url; l.Type != wire.EventError || l.Message != want || !strings.Contains(l.Hint, "ollama serve") {
		t.Errorf("Ollama stream: %v\nwant the error %q with a hint naming `ollama serve`", got[0], want)
	}
	checkDone(t, "demo stream", got[1], "The", wire.ReasonStop)
	checkDemoStillServes(t, ctx, cl)
}

// TestOllamaHostEnv checks that a server configured with no Ollama URL
// finds Ollama through OLLAMA_HOST, in the host:port form the ollama CLI
// takes.
func TestOllamaHostEnv(t *testing.T) {
	o := ollamatest.Start(t)
	t.Setenv("OLLAMA_HOST", o.Host())
	srv, cl := newStack(t, "")
	ctx := testContext(t)

	if got := srv.Ollama().URL(); got != o.URL() {
		t.Errorf("the server's Ollama URL is %q, want %q from OLLAMA_HOST=%s", got, o.URL(), o.Host())
	}
	h, err := cl.Health(ctx)
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if h.Ollama.URL != o.URL() || !h.Ollama.Reachable || h.Ollama.Version == "" {
		t.Errorf("Health = %+v: want Ollama reachable at %s with its version", *h, o.URL())
	}
	// The model is listed, and marked loaded once a stream has used it.
	for _, loaded := range []bool{false, true} {
		if loaded {
			_, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{{Model: o.Model()}}})
			checkDone(t, "stream", got[0], testmodel.FoxSentence, wire.ReasonStop)
		}
		ms, err := cl.Models(ctx)
		if err != nil {
			t.Fatalf("Models: %v", err)
		}
		name := o.Model() + ":latest"
		i := slices.IndexFunc(ms.Models, func(m wire.Model) bool { return m.Name == name && m.Source == "ollama" })
		if i < 0 || ms.OllamaError != "" {
			t.Fatalf("models %v (ollama_error %q): want %s from Ollama", modelNames(ms.Models), ms.OllamaError, name)
		}
		if m := ms.Models[i]; m.Loaded != loaded || m.Family != "llama" || m.Size <= 0 {
			t.Errorf("model %+v: want loaded=%v, family llama and its size", m, loaded)
		}
	}
}
