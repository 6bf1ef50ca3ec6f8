package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// readTokens reads ch until n tokens have arrived and returns the events
// read; it fails the test if the stream ends or ctx is done first.
func readTokens(t *testing.T, ctx context.Context, ch <-chan client.Event, n int) events {
	t.Helper()
	var evs events
	for tokens := 0; tokens < n; {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended after %d tokens, before %d: %v", tokens, n, evs)
			}
			evs = append(evs, ev)
			if ev.Type == wire.EventToken {
				tokens++
			}
		case <-ctx.Done():
			t.Fatalf("no %d tokens within %v: %v", n, testenv.Patience, evs)
		}
	}
	return evs
}

// cancelMidStream cancels a stream of which evs have been read from ch,
// reads the rest, checks that it ended as cancelled and with a clean prefix
// of the counting text, and returns all its events, when the cancel was
// asked for and how long the end took from then. Ended as cancelled: had
// the cancel come too late, the stream would have ended at Ollama's cap,
// with reason length. How promptly is for the callers to check against
// what the stream would have done without the cancel.
func cancelMidStream(t *testing.T, ctx context.Context, cl *client.Client, id string, ch <-chan client.Event, evs events) (events, time.Time, time.Duration) {
	t.Helper()
	asked := time.Now()
	if err := cl.CancelStream(ctx, id); err != nil {
		t.Fatalf("CancelStream: %v", err)
	}
	for ev := range ch {
		evs = append(evs, ev)
	}
	if ctx.Err() != nil {
		t.Fatalf("the cancelled stream did not end within %v: %v", testenv.Patience, evs)
	}
	n := len(evs.tokens())
	checkDone(t, "cancelled stream", evs, testmodel.Counting(n), wire.ReasonCancelled)
	return evs, asked, evs.last().Received.Sub(asked)
}

// TestCancelStream cancels one stream in the middle of a long generation.
func TestCancelStream(t *testing.T) {
	// Two streams generate side by side (four slots per model, Ollama
	// 0.6's default; since 0.10 it is one); cancelling one leaves the other
	// to finish.
	t.Run("the other stream goes on", func(t *testing.T) {
		o := ollamatest.Start(t, ollamatest.WithEnv(parallel4))
		_, cl := newStack(t, o.URL())
		ctx := testContext(t)

		// Ollama caps num_predict at 10 × num_ctx × parallel = 10240
		// tokens here, about 2 s at ~5,000 tokens/s; the other stream
		// takes about 1 s beside it.
		const otherLen = 3000
		created, chans := start(t, ctx, cl, wire.RunRequest{Prompt: "one", Streams: []wire.StreamSpec{
			{Model: o.Model(), Options: counting(100000, 0)},
			{Model: o.Model(), Options: counting(otherLen, 0)},
		}})
		otherStarted := make(chan struct{})
		otherDone := make(chan events, 1)
		go func() {
			var evs events
			started := false
			for ev := range chans[1] {
				if ev.Type == wire.EventToken && !started {
					close(otherStarted)
					started = true
				}
				evs = append(evs, ev)
			}
			otherDone <- evs
		}()

		evs := readTokens(t, ctx, chans[0], 100)
		select {
		case <-otherStarted:
		case <-ctx.Done():
			t.Fatal("the other stream sent no token")
		}
		// Promptly: the other stream, generated side by side, goes on
		// after the cancelled one has ended.
		evs, _, took := cancelMidStream(t, ctx, cl, created.Streams[0].ID, chans[0], evs)
		other := <-otherDone
		checkDone(t, "other stream", other, testmodel.Counting(otherLen), wire.ReasonLength)
		if end := other.last().TMs; end <= evs.last().TMs {
			t.Errorf("the other stream ended at %v ms, before the cancelled one at %v ms: it did not go on after the cancel",
				end, evs.last().TMs)
		}
		t.Logf("cancelled after %d tokens, done %v after the request; the other stream went on %.0f ms more",
			len(evs.tokens()), took, other.last().TMs-evs.last().TMs)
	})

	// Ollama stops the cancelled generation: its CPU drops to nothing
	// (checkOllamaIdle), where the rest of the generation would keep a core
	// busy for seconds.
	t.Run("Ollama stops generating", func(t *testing.T) {
		o := ollamatest.Start(t, ollamatest.WithEnv("OLLAMA_NUM_PARALLEL=1"))
		_, cl := newStack(t, o.URL())
		ctx := testContext(t)

		// num_ctx 8192 lifts Ollama's cap to 81920 tokens (Ollama v0.6.5
		// does not clamp num_ctx to the model's context length of 2048),
		// and the longer context slows generation down as it grows: not
		// cancelled, this stream runs for tens of seconds here (a probe
		// with 10,000 tokens took 11.5 s).
		const numCtx, longLen = 8192, 80000
		created, chans := start(t, ctx, cl, wire.RunRequest{Prompt: "one", Streams: []wire.StreamSpec{
			{Model: o.Model(), Options: counting(longLen, numCtx)},
		}})
		evs := readTokens(t, ctx, chans[0], 200)
		busy := checkOllamaBusy(t, o)
		evs, asked, took := cancelMidStream(t, ctx, cl, created.Streams[0].ID, chans[0], evs)

		// What was left of the cancelled generation would take at least
		// this long, even at twice the fastest rate ever measured for the
		// tiny model: Ollama must be idle before then.
		left := longLen - len(evs.tokens()) - inFlight
		t.Logf("cancelled after %d tokens, done %v after the request; %d tokens (at least %v) were left",
			len(evs.tokens()), took, left, leftAtLeast(left))
		if leftAtLeast(left) < 4*cpuWindow {
			t.Fatalf("only %v of generation left: too little to tell whether Ollama stopped", leftAtLeast(left))
		}
		checkOllamaIdle(t, o, "the cancel request", asked, busy, leftAtLeast(left))
	})
}
