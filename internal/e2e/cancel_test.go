package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testmodel"
)

// cancelBound is how soon a cancelled stream must end.
const cancelBound = 2 * time.Second

// readTokens reads ch until n tokens have arrived and returns the events
// read; it fails the test if the stream ends or ctx is done first.
func readTokens(t *testing.T, ctx context.Context, ch <-chan client.Event, n int) events {
	t.Helper()
	var evs events
	for len(evs.tokens()) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended after %d tokens, before %d: %v", len(evs.tokens()), n, evs)
			}
			evs = append(evs, ev)
		case <-ctx.Done():
			t.Fatalf("no %d tokens within %v: %v", n, streamTimeout, evs)
		}
	}
	return evs
}

// cancelMidStream cancels a stream of which evs have been read from ch,
// reads the rest, checks that it ended as cancelled within cancelBound and
// with a clean prefix of the counting text, and returns all its events and
// how long the end took from the cancel request.
func cancelMidStream(t *testing.T, ctx context.Context, cl *client.Client, id string, ch <-chan client.Event, evs events) (events, time.Duration) {
	t.Helper()
	asked := time.Now()
	if err := cl.CancelStream(ctx, id); err != nil {
		t.Fatalf("CancelStream: %v", err)
	}
	for ev := range ch {
		evs = append(evs, ev)
	}
	if ctx.Err() != nil {
		t.Fatalf("the cancelled stream did not end within %v: %v", streamTimeout, evs)
	}
	n := len(evs.tokens())
	checkDone(t, "cancelled stream", evs, testmodel.Counting(n), client.ReasonCancelled)
	took := evs.last().Received.Sub(asked)
	if took >= cancelBound {
		t.Errorf("the cancelled stream ended %v after the cancel request, want < %v", took, cancelBound)
	}
	return evs, took
}

// TestCancelStream cancels one stream in the middle of a long generation.
func TestCancelStream(t *testing.T) {
	// Two streams generate side by side (Ollama's default parallelism);
	// cancelling one leaves the other to finish.
	t.Run("the other stream goes on", func(t *testing.T) {
		o := ollamatest.Start(t)
		t.Cleanup(func() { t.Logf("%v cleanup: ollama stop next", time.Now().Format("15:04:05.000")) })
		_, cl := newStack(t, o.URL())
		t.Cleanup(func() { t.Logf("%v cleanup: stack close next", time.Now().Format("15:04:05.000")) })
		ctx := testContext(t)

		// Ollama caps num_predict at 10 × num_ctx × parallel = 10240
		// tokens here, about 2 s at ~5,000 tokens/s; the other stream
		// takes about 1 s beside it.
		const otherLen = 3000
		created, chans := start(t, ctx, cl, client.RunRequest{Prompt: "one", Streams: []client.StreamSpec{
			{Model: o.Model(), Options: counting(100000, 0)},
			{Model: o.Model(), Options: counting(otherLen, 0)},
		}})
		otherStarted := make(chan struct{})
		otherDone := make(chan events, 1)
		go func() {
			var evs events
			for ev := range chans[1] {
				if ev.Type == client.EventToken && len(evs.tokens()) == 0 {
					close(otherStarted)
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
		evs, took := cancelMidStream(t, ctx, cl, created.Streams[0].ID, chans[0], evs)
		other := <-otherDone
		checkDone(t, "other stream", other, testmodel.Counting(otherLen), client.ReasonLength)
		if end := other.last().TMs; end <= evs.last().TMs {
			t.Errorf("the other stream ended at %v ms, before the cancelled one at %v ms: it did not go on after the cancel",
				end, evs.last().TMs)
		}
		t.Logf("%v", time.Now().Format("15:04:05.000"))
		t.Logf("cancelled after %d tokens, done %v after the request; the other stream went on %.0f ms more",
			len(evs.tokens()), took, other.last().TMs-evs.last().TMs)
	})

	// With one request at a time per model, a request sent after the
	// cancel is served at once only if Ollama stopped the cancelled
	// generation; otherwise it would queue behind the rest of it.
	t.Run("Ollama stops generating", func(t *testing.T) {
		o := ollamatest.Start(t, ollamatest.WithEnv("OLLAMA_NUM_PARALLEL=1"))
		_, cl := newStack(t, o.URL())
		ctx := testContext(t)

		// num_ctx 2048 (the model's maximum) lifts Ollama's cap to 20480
		// tokens and slows generation to about 2,000 tokens/s: this
		// stream would run about 10 s. The next request uses the same
		// num_ctx, so that Ollama need not reload the model for it.
		const numCtx, longLen = 2048, 20000
		created, chans := start(t, ctx, cl, client.RunRequest{Prompt: "one", Streams: []client.StreamSpec{
			{Model: o.Model(), Options: counting(longLen, numCtx)},
		}})
		evs := readTokens(t, ctx, chans[0], 200)
		evs, took := cancelMidStream(t, ctx, cl, created.Streams[0].ID, chans[0], evs)

		toks := evs.tokens()
		rate := float64(len(toks)-1) / (toks[len(toks)-1].TMs - toks[0].TMs) * 1000
		remaining := time.Duration(float64(longLen-len(toks)) / rate * float64(time.Second))

		_, got := runAll(t, ctx, cl, client.RunRequest{Prompt: "The", Streams: []client.StreamSpec{
			{Model: o.Model(), Options: &client.Options{NumCtx: intp(numCtx)}},
		}})
		checkDone(t, "next stream", got[0], testmodel.FoxSentence, client.ReasonStop)
		ttft := time.Duration(got[0].last().Stats.TTFTMs * float64(time.Millisecond))
		t.Logf("cancelled after %d tokens at %.0f tokens/s, done %v after the request; %v of generation left; next TTFT %v",
			len(toks), rate, took, remaining.Round(time.Millisecond), ttft)
		if remaining < 2*time.Second {
			t.Fatalf("only %v of generation was left at the cancel: too little to tell whether Ollama stopped", remaining)
		}
		if ttft > time.Second || ttft > remaining/4 {
			t.Errorf("the next request waited %v for its first token, with %v of the cancelled generation left: Ollama went on generating",
				ttft, remaining)
		}
	})
}
