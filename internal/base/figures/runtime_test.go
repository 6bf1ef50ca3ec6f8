package figures_test

import (
	"math"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// ph is a phase from ms to ms.
func ph(phase string, from, to float64) wire.PhaseSpan {
	return wire.PhaseSpan{Phase: phase, StartMs: from, EndMs: to}
}

// clocked is the stats of a stream of tokens tokens that went through
// phases, by its server's clock, as the server puts them together.
func clocked(tokens int, phases ...wire.PhaseSpan) *wire.Stats {
	st := &wire.Stats{Tokens: tokens, Phases: phases, Clock: wire.ClockServer}
	st.StartMs, st.EndMs = phases[0].StartMs, phases[len(phases)-1].EndMs
	for _, p := range phases {
		if p.Phase == wire.PhaseWaiting {
			st.StartMs = p.EndMs
		}
	}
	st.DurationMs = st.EndMs - st.StartMs
	for _, p := range phases {
		switch {
		case p.Phase == wire.PhaseQueued:
			st.QueuedMs += p.EndMs - p.StartMs
		case wire.Busy(p.Phase):
			st.BusyMs += p.EndMs - p.StartMs
		}
	}
	return st
}

// gen is a stream that generated tokens from ms to ms.
func gen(tokens int, from, to float64) *wire.Stats {
	return clocked(tokens, ph(wire.PhaseGenerating, from, to))
}

// ended are streams that ended normally, of model.
func ended(model string, stats ...*wire.Stats) []figures.Outcome {
	out := make([]figures.Outcome, len(stats))
	for i, st := range stats {
		out[i] = figures.Outcome{Stats: st, End: figures.EndNormal, Model: model}
	}
	return out
}

// with is outs with stream i ending as end.
func with(outs []figures.Outcome, i int, end figures.End) []figures.Outcome {
	outs[i].End = end
	return outs
}

// oneSlot is two streams of one model that Ollama served one at a time:
// the second queued while the first generated, both after a short load
// of the model by the scheduler.
func oneSlot(busyMs float64) []*wire.Stats {
	return []*wire.Stats{
		clocked(10, ph(wire.PhaseLoading, 0, 2), ph(wire.PhaseQueued, 2, 3), ph(wire.PhasePrompt, 3, 4), ph(wire.PhaseGenerating, 4, 4+busyMs)),
		clocked(10, ph(wire.PhaseLoading, 1, 2), ph(wire.PhaseQueued, 2, 5+busyMs), ph(wire.PhasePrompt, 5+busyMs, 6+busyMs), ph(wire.PhaseGenerating, 6+busyMs, 6+2*busyMs)),
	}
}

// TestHeadline: the run's line says what the run did, in every case it
// can describe: a speed-up only for busy time that overlapped, nothing for
// streams a server took in turn however short, failed and stopped streams
// said and left out.
func TestHeadline(t *testing.T) {
	demos := ended("demo", gen(2, 0, 2000), gen(13, 0, 3000))
	for _, tt := range []struct {
		name string
		outs []figures.Outcome
		mode string
		want string
	}{
		{"the demos side by side", demos, wire.ModeAsync,
			"async run: 3.00 s wall time for 5.00 s of work: streams were busy at the same time for 2.00 s; one after another at the same speed, it would take 5.00 s (1.67×)"},
		{"three at once", ended("m", gen(5, 0, 1000), gen(5, 0, 1000), gen(5, 0, 1000)), wire.ModeAsync,
			"async run: 1.00 s wall time for 3.00 s of work: streams were busy at the same time for 1.00 s; one after another at the same speed, it would take 3.00 s (3.00×)"},
		{"one slot", ended("tiny", oneSlot(600)...), wire.ModeAsync,
			"async run: 1.21 s wall time for 1.20 s of work: no two streams were busy at the same time, so async saved nothing"},
		{"one slot, a tenth of a second", ended("tiny", oneSlot(45)...), wire.ModeAsync,
			"async run: 0.10 s wall time for 0.09 s of work: no two streams were busy at the same time, so async saved nothing"},
		{"sync", ended("demo", gen(2, 0, 2000), clocked(13, ph(wire.PhaseWaiting, 0, 2000), ph(wire.PhaseGenerating, 2000, 5000))), wire.ModeSync,
			"sync run: 5.00 s wall time for 5.00 s of work, one stream after another"},
		{"both failed", with(with(ended("tiny", gen(3, 0, 900), gen(2, 0, 1200)), 0, figures.EndFailed), 1, figures.EndFailed), wire.ModeAsync,
			"async run: 1.20 s wall time: 2 streams failed"},
		{"one failed", with(ended("demo", gen(2, 0, 2000), gen(2, 0, 1500)), 1, figures.EndFailed), wire.ModeAsync,
			"async run: 2.00 s wall time for 2.00 s of work; 1 stream failed (not counted)"},
		{"failed and stopped", with(with(ended("demo", gen(2, 0, 2000), gen(2, 0, 1500), gen(2, 0, 1000)), 1, figures.EndFailed), 2, figures.EndCancelled), wire.ModeAsync,
			"async run: 2.00 s wall time for 2.00 s of work; 1 stream failed and 1 was stopped (not counted)"},
		{"stopped before the end", with(with(ended("demo", gen(2, 0, 700), gen(2, 0, 700)), 0, figures.EndCancelled), 1, figures.EndCancelled), wire.ModeAsync,
			"async run: 0.70 s wall time: 2 streams were stopped"},
		{"nothing", nil, wire.ModeAsync, "async run: 0.00 s wall time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := figures.RunTimeOf(tt.outs).Headline(tt.mode); got != tt.want {
				t.Errorf("headline\n%q, want\n%q", got, tt.want)
			}
		})
	}
}

// TestSpeedup: the ratio for run --json, unrounded, only when claimed.
func TestSpeedup(t *testing.T) {
	for _, tt := range []struct {
		name string
		outs []figures.Outcome
		want float64
		ok   bool
	}{
		{"side by side", ended("demo", gen(2, 0.4, 2000.4), gen(13, 0.2, 3000.2)), (3000.2 + 2000) / 3000.2, true},
		{"one slot", ended("tiny", oneSlot(600)...), 0, false},
		{"overlap under a twentieth of the wall time", ended("m", gen(2, 0, 1000), gen(2, 960, 2000)), 0, false},
		{"one stream", ended("m", gen(2, 0, 1000)), 0, false},
		{"both failed", with(with(ended("m", gen(2, 0, 1000), gen(2, 0, 1000)), 0, figures.EndFailed), 1, figures.EndFailed), 0, false},
	} {
		r := figures.RunTimeOf(tt.outs)
		if x, ok := r.Speedup(); math.Abs(x-tt.want) > 1e-9 || ok != tt.ok {
			t.Errorf("%s: Speedup() = %v, %v; want %v, %v (%+v)", tt.name, x, ok, tt.want, tt.ok, r)
		}
	}
}

// TestWork: work counts busy time, not time queued, and a load that two
// streams of one model waited for at once once; the overlap is the time
// two or more were busy.
func TestWork(t *testing.T) {
	cold := ended("tiny",
		clocked(10, ph(wire.PhaseLoading, 0, 500), ph(wire.PhasePrompt, 500, 510), ph(wire.PhaseGenerating, 510, 1100)),
		clocked(10, ph(wire.PhaseLoading, 1, 501), ph(wire.PhaseQueued, 501, 1101), ph(wire.PhasePrompt, 1101, 1110), ph(wire.PhaseGenerating, 1110, 1700)))
	r := figures.RunTimeOf(cold)
	if r.WorkMs != 1700 || r.BusyMs != 1699 || r.OverlapMs != 1 || r.Queued != 1 || r.QueuedMs != 600 {
		t.Errorf("a shared cold load: %+v, want work 1700, busy 1699, 1 stream queued 600 ms", r)
	}
	if _, ok := r.Speedup(); ok {
		t.Errorf("a shared cold load claims a speed-up: %q", r.Headline(wire.ModeAsync))
	}
	if len(r.Loads) != 1 || r.Loads[0].Model != "tiny" || r.Loads[0].Ms != 501 {
		t.Errorf("loads %+v, want tiny once, 501 ms", r.Loads)
	}
	// Two models load on their own: both count, and overlap.
	two := append(ended("a", clocked(5, ph(wire.PhaseLoading, 0, 400), ph(wire.PhaseGenerating, 400, 1000))),
		ended("b", clocked(5, ph(wire.PhaseLoading, 0, 400), ph(wire.PhaseGenerating, 400, 1000)))...)
	if r := figures.RunTimeOf(two); r.WorkMs != 2000 || r.OverlapMs != 1000 {
		t.Errorf("two models: %+v", r)
	}
	// A stream kept before phases were: busy from the end of its queued
	// time (and of its load) to its end.
	old := []figures.Outcome{{End: figures.EndNormal, Stats: &wire.Stats{Tokens: 5, StartMs: 0, QueuedMs: 480, EndMs: 1000, DurationMs: 1000}},
		{End: figures.EndNormal, Stats: &wire.Stats{Tokens: 5, StartMs: 0, EndMs: 500, DurationMs: 500}}}
	if r := figures.RunTimeOf(old); r.WorkMs != 1020 || r.OverlapMs != 20 {
		t.Errorf("stats without phases: %+v", r)
	}
}

// TestCaveat: what the headline does not say by itself.
func TestCaveat(t *testing.T) {
	const again = " in this run (a cold start): run again to compare warm models"
	load := func(ms, end float64) *wire.Stats {
		return clocked(10, ph(wire.PhaseLoading, 0, ms), ph(wire.PhaseGenerating, ms, end))
	}
	observed := gen(2, 0, 2000)
	observed.Clock = wire.ClockObserved
	for _, tt := range []struct {
		name string
		outs []figures.Outcome
		mode string
		want string
	}{
		{"one slot", ended("tiny", oneSlot(600)...), wire.ModeAsync,
			"the model server answered the streams one at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10): 1 stream waited 0.60 s in its queue"},
		{"one slot, a tenth of a second", ended("tiny", oneSlot(45)...), wire.ModeAsync,
			"the model server answered the streams one at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10): 1 stream waited 0.05 s in its queue"},
		{"queued beside an overlap", append(ended("demo", gen(5, 0, 1300)), ended("tiny", oneSlot(600)...)...), wire.ModeAsync,
			"1 stream waited 0.60 s in its queue, not counted as work: the model server answered some streams of a model one at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10)"},
		{"templating is not a queue", ended("tiny", clocked(5, ph(wire.PhaseQueued, 0, 3), ph(wire.PhaseGenerating, 3, 1000)), gen(5, 0, 1000)), wire.ModeAsync, ""},
		{"the same in sync mode", ended("tiny", oneSlot(600)...), wire.ModeSync, ""},
		{"observed", append(ended("demo", gen(2, 0, 2000)), ended("vllm", observed)...), wire.ModeAsync,
			"the times of 1 stream are what Tokenloom saw: its server sent no clock of its own"},
		{"all observed", ended("vllm", observed), wire.ModeAsync,
			"the stream's times are what Tokenloom saw: its server sent no clock of its own"},
		{"cold", ended("llama3.2", load(2100, 3000)), wire.ModeSync, "llama3.2 loaded for 2.1 s" + again},
		{"warm", ended("llama3.2", load(12, 900)), wire.ModeSync, ""},
		{"just under ColdLoad", ended("llama3.2", load(249, 900)), wire.ModeSync, ""},
		{"a small part of a long run", ended("llama3.2", load(900, 12_000)), wire.ModeSync, ""},
		{"two models", append(ended("llama3.2", load(2100, 4000)), ended("qwen3:0.6b", load(1400, 4000))...), wire.ModeAsync,
			"llama3.2 loaded for 2.1 s and qwen3:0.6b for 1.4 s in this run (cold starts): run again to compare warm models"},
		{"no model names", ended("", gen(2, 0, 2000), load(2100, 3000)), wire.ModeSync, "the model of stream 2 loaded for 2.1 s" + again},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := figures.RunTimeOf(tt.outs).Caveat(tt.mode); got != tt.want {
				t.Errorf("caveat\n%q, want\n%q", got, tt.want)
			}
		})
	}
	// Queued and cold at once: both are said.
	r := figures.RunTimeOf(ended("tiny",
		clocked(10, ph(wire.PhaseLoading, 0, 2100), ph(wire.PhaseGenerating, 2100, 2600)),
		clocked(10, ph(wire.PhaseLoading, 0, 2100), ph(wire.PhaseQueued, 2100, 2600), ph(wire.PhaseGenerating, 2600, 3100))))
	q, l, ok := strings.Cut(r.Caveat(wire.ModeAsync), "; ")
	if !ok || !strings.Contains(q, "1 stream waited 0.50 s in its queue") || l != "tiny loaded for 2.1 s"+again {
		t.Errorf("caveat %q: want the queued caveat, then the load caveat", r.Caveat(wire.ModeAsync))
	}
}

// TestOutcomesOf: a transcript's streams end as their last events say.
func TestOutcomesOf(t *testing.T) {
	ev := func(typ, data string) wire.LoggedEvent { return wire.LoggedEvent{Event: typ, Data: []byte(data)} }
	tr := &wire.Transcript{Streams: []wire.StreamTranscript{
		{Model: "a", Events: []wire.LoggedEvent{ev(wire.EventDone, `{"reason":"stop"}`)}},
		{Model: "b", Endpoint: "gpu", Events: []wire.LoggedEvent{ev(wire.EventDone, `{"reason":"cancelled"}`)}},
		{Model: "c", Events: []wire.LoggedEvent{ev(wire.EventError, `{"message":"x"}`)}},
		{Model: "d", Events: []wire.LoggedEvent{ev(wire.EventToken, `{"text":"x"}`)}},
	}}
	var got []string
	for _, o := range figures.OutcomesOf(tr) {
		got = append(got, o.Model+" "+[]string{"none", "normal", "cancelled", "failed"}[o.End])
	}
	if want := "a normal,b@gpu cancelled,c failed,d none"; strings.Join(got, ",") != want {
		t.Errorf("outcomes %q, want %q", strings.Join(got, ","), want)
	}
}
