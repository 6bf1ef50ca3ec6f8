package e2e

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
)

// finalOf finds the last chunk whose clock the stats carry.
func finalOf(t *testing.T, finals []ollamaFinal, st *wire.Stats) ollamaFinal {
	t.Helper()
	for _, f := range finals {
		if o := st.Ollama; o != nil && o.TotalDurationNs == f.Total && o.EvalDurationNs == f.Eval {
			return f
		}
	}
	t.Fatalf("no last chunk of Ollama's with the clock of %+v among %+v", st.Ollama, finals)
	return ollamaFinal{}
}

// summaryOf decodes the summary line of `tokenloom run --json`.
type runSummary struct {
	Event    string   `json:"event"`
	WallMs   float64  `json:"wall_ms"`
	Speedup  *float64 `json:"speedup"`
	Headline string   `json:"headline"`
	Note     string   `json:"note"`
	Streams  []struct {
		End      string  `json:"end"`
		Tokens   int     `json:"tokens"`
		QueuedMs float64 `json:"queued_ms"`
		BusyMs   float64 `json:"busy_ms"`
		Clock    string  `json:"clock"`
	} `json:"streams"`
}

// runJSON runs `tokenloom run --json` against the Ollama at host and
// returns the summary and the last event of each stream.
func runJSON(t *testing.T, host string, args ...string) (runSummary, []eventData) {
	t.Helper()
	stdout, stderr, code := runCLI(t, cliEnv(host), append([]string{"run", "--json"}, args...)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var sum runSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Event != "summary" {
		t.Fatalf("exit %d, last line %q (%v), stderr %q", code, lines[len(lines)-1], err, stderr)
	}
	var ends []eventData
	for _, l := range lines[:len(lines)-1] {
		var jl jsonLine
		var d eventData
		if json.Unmarshal([]byte(l), &jl) != nil || json.Unmarshal(jl.Data, &d) != nil {
			continue
		}
		if jl.Event == wire.EventDone || jl.Event == wire.EventError {
			for len(ends) <= jl.Index {
				ends = append(ends, eventData{})
			}
			ends[jl.Index] = d
		}
	}
	return sum, ends
}

// TestServerClockOneSlot: Ollama at its default one slot per model takes
// two streams one at a time. However short they are, the run's summary
// claims no speed-up and says each stream's time in the queue, which is
// Ollama's own: total − load − prompt_eval − eval of its last chunk, as
// it left Ollama; the waiting stream's queue lasts about as long as the
// other's work, and its queued phase starts at its request (and the
// scheduler's hand-over of the model), not when a guess could tell.
func TestServerClockOneSlot(t *testing.T) {
	o := ollamatest.Start(t)
	tap := startChatTap(t, o.URL())
	host := strings.TrimPrefix(tap.URL, "http://")
	tiny := o.Model()
	runJSON(t, host, "-m", tiny, "-p", "The") // loads the model
	tap.takeFinals()
	for _, n := range []string{"400", "2500"} {
		t.Run(n+" tokens", func(t *testing.T) {
			sum, ends := runJSON(t, host, "-m", tiny, "-m", tiny, "-p", "one", "--max-tokens", n)
			finals := tap.takeFinals()
			t.Logf("%s\nnote: %s", sum.Headline, sum.Note)
			if sum.Speedup != nil && *sum.Speedup > 1.05 {
				t.Errorf("speedup %v claimed for streams Ollama took one at a time: %s", *sum.Speedup, sum.Headline)
			}
			if len(ends) != 2 || len(sum.Streams) != 2 || len(finals) != 2 {
				t.Fatalf("%d ends, %d summaries, %d last chunks; ends %+v", len(ends), len(sum.Streams), len(finals), ends)
			}
			// The one that waited is the one Ollama says waited longer.
			first, second := 0, 1
			if ends[0].Stats.QueuedMs > ends[1].Stats.QueuedMs {
				first, second = 1, 0
			}
			for i, end := range ends {
				st := end.Stats
				f := finalOf(t, finals, st)
				if st.Clock != wire.ClockServer || sum.Streams[i].Clock != wire.ClockServer || sum.Streams[i].QueuedMs != st.QueuedMs {
					t.Errorf("stream %d: clock %q (summary %q), queued %.3f ms (summary %.3f)", i, st.Clock, sum.Streams[i].Clock, st.QueuedMs, sum.Streams[i].QueuedMs)
				}
				if math.Abs(st.QueuedMs-f.queuedMs()) > 5 {
					t.Errorf("stream %d: queued %.3f ms, Ollama's total − load − prompt_eval − eval is %.3f ms", i, st.QueuedMs, f.queuedMs())
				}
			}
			st1, st2 := ends[first].Stats, ends[second].Stats
			if st2.QueuedMs < 0.8*st1.BusyMs {
				t.Errorf("the second stream waited %.1f ms queued, the first was busy %.1f ms: want at least 80%% of it", st2.QueuedMs, st1.BusyMs)
			}
			// Its queued phase starts at its request and the few
			// milliseconds of Ollama's scheduler handing over the model in
			// memory, which are no phase.
			queued := st2.Phases[0]
			if load := float64(finalOf(t, finals, st2).Load) / 1e6; queued.Phase != wire.PhaseQueued || queued.StartMs < st2.StartMs+load-0.002 ||
				queued.EndMs-queued.StartMs < 0.8*st1.BusyMs {
				t.Errorf("the second stream's phases %+v, from its start at %.3f ms: want queued from its request and the scheduler's %.3f ms", st2.Phases, st2.StartMs, load)
			}
			if !strings.Contains(sum.Note, "one at a time") || strings.Contains(sum.Headline, "×") {
				t.Errorf("headline %q, note %q: want no ratio, and the note naming the queue", sum.Headline, sum.Note)
			}
		})
	}
}

// TestServerClockParallel: with OLLAMA_NUM_PARALLEL=4, Ollama generates
// the two streams at once: the overlap is claimed, and nothing queued.
func TestServerClockParallel(t *testing.T) {
	o := ollamatest.Start(t, ollamatest.WithEnv(parallel4))
	host := strings.TrimPrefix(o.URL(), "http://")
	tiny := o.Model()
	runJSON(t, host, "-m", tiny, "-p", "The") // loads the model
	sum, ends := runJSON(t, host, "-m", tiny, "-m", tiny, "-p", "one", "--max-tokens", "2500")
	t.Logf("%s\nnote: %s", sum.Headline, sum.Note)
	if sum.Speedup == nil || *sum.Speedup <= 1.05 || !strings.Contains(sum.Headline, "busy at the same time") {
		t.Errorf("speedup %v, headline %q: want the overlap claimed", sum.Speedup, sum.Headline)
	}
	for i, end := range ends {
		if st := end.Stats; st.Clock != wire.ClockServer || figures.WasQueued(st) {
			t.Errorf("stream %d: clock %q, queued %.3f ms of %.3f ms busy", i, st.Clock, st.QueuedMs, st.BusyMs)
		}
	}
	if strings.Contains(sum.Note, "queue") {
		t.Errorf("note %q", sum.Note)
	}
}
