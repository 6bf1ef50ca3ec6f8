package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// TestConcurrentStreams runs several streams of the same model at once
// (async) and one after another (sync).
func TestConcurrentStreams(t *testing.T) {
	o := ollamatest.Start(t, ollamatest.WithEnv(parallel4))
	_, cl := newStack(t, o.URL())

	// Every stream of a run gets the same prompt; different num_predict
	// give each its own exact text.
	specs := func(lengths ...int) []wire.StreamSpec {
		var out []wire.StreamSpec
		for _, n := range lengths {
			out = append(out, wire.StreamSpec{Model: o.Model(), Options: counting(n, 0)})
		}
		return out
	}

	for _, lengths := range [][]int{{1000, 1100}, {600, 700, 800, 900}} {
		t.Run(fmt.Sprintf("async %d", len(lengths)), func(t *testing.T) {
			ctx := testContext(t)
			created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "one", Mode: "async", Streams: specs(lengths...)})
			for i, n := range lengths {
				checkDone(t, fmt.Sprintf("stream %d", i), got[i], testmodel.Counting(n), wire.ReasonLength)
			}
			checkTranscript(t, ctx, cl, created, got)
			if t.Failed() {
				return
			}
			// With four slots Ollama runs up to 4 requests of one model in
			// one batch: the streams are generated side by side, each
			// starting before any other has ended, and none is queued.
			for i, a := range got {
				first := a.tokens()[0].TMs
				for j, b := range got {
					if i != j && first >= b.last().TMs {
						t.Errorf("stream %d started at %v ms, after stream %d ended at %v ms: want the streams side by side",
							i, first, j, b.last().TMs)
					}
				}
				if slices.Contains(a.phases(), wire.PhaseQueued) {
					t.Errorf("stream %d: phases %v, want none queued with four slots", i, a.phases())
				}
				t.Logf("stream %d: first token at %.1f ms, end at %.1f ms, %.0f tokens/s", i, first, a.last().TMs, a.last().Stats.TokensPerS)
			}
		})
	}

	t.Run("sync 2", func(t *testing.T) {
		ctx := testContext(t)
		lengths := []int{300, 400}
		created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "one", Mode: "sync", Streams: specs(lengths...)})
		for i, n := range lengths {
			checkDone(t, fmt.Sprintf("stream %d", i), got[i], testmodel.Counting(n), wire.ReasonLength)
		}
		checkTranscript(t, ctx, cl, created, got)
		if t.Failed() {
			return
		}
		first, second := got[0], got[1]
		if ev := second[0]; ev.Type != wire.EventPhase || ev.Phase != wire.PhaseWaiting {
			t.Errorf("the second stream's first event is %s %q, want phase %q", ev.Type, ev.Phase, wire.PhaseWaiting)
		}
		if p := first.phases(); len(p) == 0 || p[0] == wire.PhaseWaiting {
			t.Errorf("the first stream's phases are %v: it must not wait", p)
		}
		end := first.last().TMs
		if start := second.tokens()[0].TMs; start <= end {
			t.Errorf("the second stream's first token at %v ms, not after the first stream ended at %v ms", start, end)
		}
		if st := second.last().Stats; st.StartMs < end {
			t.Errorf("the second stream started at %v ms, before the first ended at %v ms", st.StartMs, end)
		}
		t.Logf("first stream ends at %.1f ms, second waits from %.1f ms, starts at %.1f ms, first token at %.1f ms",
			end, second[0].TMs, second.last().Stats.StartMs, second.tokens()[0].TMs)
	})
}
