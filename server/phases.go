package server

import (
	"slices"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// A stream's phases. While it goes on, its phase events are what Tokenloom
// sees of it: Ollama says nothing of its queue or of when it starts
// generating, so the queued phase is a guess (see serving.watch). At its
// end, the model server's own clock, when it gives one, says exactly how
// the stream's time went: the stats' phases are then set from it, and
// every view of the finished stream uses them.

// notePhase opens a span of phase at t, closing the one before, unless the
// stream is in that phase already.
func (s *stream) notePhase(phase string, t float64) {
	n := len(s.spans)
	if n > 0 && s.spans[n-1].Phase == phase {
		return
	}
	if n > 0 {
		s.spans[n-1].EndMs = t
	}
	s.spans = append(s.spans, wire.PhaseSpan{Phase: phase, StartMs: t, EndMs: -1})
}

// finalPhases are the phases of the stream that ended at end: from the
// server's clock when it ended normally with one (res.Clock, or a
// replay's recorded phases), else those it was seen in.
func (s *stream) finalPhases(res Result, normal bool, end float64) ([]wire.PhaseSpan, string) {
	observed := make([]wire.PhaseSpan, 0, len(s.spans))
	for _, sp := range s.spans {
		if sp.EndMs < 0 {
			sp.EndMs = end
		}
		if sp.EndMs > sp.StartMs {
			observed = append(observed, sp)
		}
	}
	switch {
	case !normal:
		return observed, wire.ClockObserved
	case res.phases != nil:
		// A replay's: on its clock, within its end (the original's times
		// divided by the speed may round a microsecond past it).
		out := make([]wire.PhaseSpan, len(res.phases))
		for i, p := range res.phases {
			p.StartMs, p.EndMs = min(p.StartMs, end), min(p.EndMs, end)
			out[i] = p
		}
		return out, res.clock
	case res.Clock != nil:
		return s.clockedPhases(*res.Clock, observed, end), wire.ClockServer
	}
	return observed, wire.ClockObserved
}

// clockedPhases lays the server's clock c out on the run's clock: from the
// moment the request was sent (or back from the last token, with
// c.FromEnd), loading (unless the model was in memory and the load short),
// queued, prompt, then generation, split into thinking and generating at
// the first answer token. What the stream saw
// before its request (its wait for its turn, in a sync run) stays.
func (s *stream) clockedPhases(c ServerClock, observed []wire.PhaseSpan, end float64) []wire.PhaseSpan {
	sent := s.startMs
	if s.sent {
		sent = s.sentMs
	}
	var out []wire.PhaseSpan
	for _, sp := range observed {
		if sp.Phase == wire.PhaseWaiting && sp.StartMs < sent {
			sp.EndMs = min(sp.EndMs, sent)
			out = append(out, sp)
		}
	}
	at := sent
	if c.FromEnd {
		last := end
		if s.tokens+s.thinkTokens > 0 {
			last = s.lastMs
		}
		at = figures.RoundMs(max(last-msOf(c.Load+c.Prompt+c.Generation), sent))
		c.Queued = durationOf((at - sent) / 1000)
		at = sent
	}
	add := func(phase string, d time.Duration) {
		to := figures.RoundMs(min(at+msOf(d), end))
		if to > at {
			out = append(out, wire.PhaseSpan{Phase: phase, StartMs: at, EndMs: to})
		}
		at = max(at, to)
	}
	if c.Load < figures.ColdLoad && !slices.ContainsFunc(observed, func(sp wire.PhaseSpan) bool { return sp.Phase == wire.PhaseLoading }) {
		// The model was in memory at the request: the load is the
		// server's scheduler handing it over (Ollama: a few milliseconds,
		// tens on a busy machine, while its runner may be generating
		// another stream). Neither the model's work nor a wait for a slot,
		// it is no phase.
		at = figures.RoundMs(min(at+msOf(c.Load), end))
	} else {
		add(wire.PhaseLoading, c.Load)
	}
	add(wire.PhaseQueued, c.Queued)
	add(wire.PhasePrompt, c.Prompt)
	switch {
	case s.thinkTokens > 0 && s.tokens > 0:
		// The answer begins with its first token; the reasoning before it
		// is the server's generation too.
		genEnd := min(at+msOf(c.Generation), end)
		split := min(max(s.firstMs, at), genEnd)
		add(wire.PhaseThinking, durationOf((split-at)/1000))
		add(wire.PhaseGenerating, durationOf((genEnd-at)/1000))
	case s.thinkTokens > 0:
		add(wire.PhaseThinking, c.Generation)
	default:
		add(wire.PhaseGenerating, c.Generation)
	}
	return out
}

// phaseTimes sums the busy phases (wire.Busy) and the queued ones, each
// rounded to the microsecond.
func phaseTimes(phases []wire.PhaseSpan) (busyMs, queuedMs float64) {
	for _, p := range phases {
		switch d := p.EndMs - p.StartMs; {
		case p.Phase == wire.PhaseQueued:
			queuedMs += d
		case wire.Busy(p.Phase):
			busyMs += d
		}
	}
	return figures.RoundMs(busyMs), figures.RoundMs(queuedMs)
}

// msOf is d in milliseconds, to the microsecond.
func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
