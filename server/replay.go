package server

import (
	"context"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// replayLabelPrefix starts the label of every replayed stream.
const replayLabelPrefix = "replay of "

// replayScript is one saved stream to play back: its events, decoded and
// checked by wire.CheckTranscript, at their original times divided by
// speed.
type replayScript struct {
	types   []string
	events  []wire.EventData
	speed   float64
	startMs float64 // the original stream's start (its turn, in sync mode)
	clock   Clock
}

// newReplayScript prepares the stream st of a checked transcript.
func newReplayScript(st *wire.StreamTranscript, events []wire.EventData, speed float64, clock Clock) *replayScript {
	p := &replayScript{types: make([]string, len(events)), events: events, speed: speed, clock: clock}
	for i, e := range st.Events {
		p.types[i] = e.Event
	}
	if last := events[len(events)-1]; last.Stats != nil {
		p.startMs = last.Stats.StartMs
	}
	return p
}

// play emits the saved events through s, the normal Emitter path, each at
// its original t_ms divided by the speed after the replay's start, and
// returns how the original ended: its reason and Ollama stats, or its error
// message and hint. Times are absolute offsets from the run's start, so
// delays do not drift. The stream's own start is set when the original's
// was, so that the replay's TTFT and duration are the original's divided by
// the speed too. It runs on the stream's goroutine.
func (p *replayScript) play(ctx context.Context, s *stream) (Result, error) {
	started := false
	for i, d := range p.events {
		typ := p.types[i]
		terminal := i == len(p.events)-1
		if !started && (terminal || d.TMs >= p.startMs && !(typ == wire.EventPhase && d.Phase == wire.PhaseWaiting)) {
			if err := p.sleepUntil(ctx, s.run, p.startMs); err != nil {
				return Result{}, err
			}
			s.startMs = s.run.since()
			started = true
		}
		if err := p.sleepUntil(ctx, s.run, d.TMs); err != nil {
			return Result{}, err
		}
		switch typ {
		case wire.EventPhase:
			s.Phase(d.Phase)
		case wire.EventToken:
			s.Token(d.Text)
		case wire.EventThinking:
			s.Thinking(d.Text)
		case wire.EventDone:
			res := Result{Reason: d.Reason}
			if d.Stats != nil {
				res.Ollama = d.Stats.Ollama
				res.phases, res.clock = p.phasesOf(d.Stats)
			}
			return res, nil
		case wire.EventError:
			var res Result
			if d.Stats != nil {
				res.Ollama = d.Stats.Ollama
			}
			return res, &SourceError{Message: d.Message, Hint: d.Hint}
		}
	}
	// Unreachable for a checked transcript, which ends with done or error.
	return Result{}, &SourceError{Message: "the saved stream has no end", Hint: "save the run again once it has finished"}
}

// phasesOf are the recorded phases of st on the replay's clock (their
// times divided by the speed), and where they came from; none when the
// recording has none (a run saved before they were kept), so that the
// replay's own observation stands.
func (p *replayScript) phasesOf(st *wire.Stats) ([]wire.PhaseSpan, string) {
	if len(st.Phases) == 0 {
		return nil, ""
	}
	out := make([]wire.PhaseSpan, len(st.Phases))
	for i, ph := range st.Phases {
		out[i] = wire.PhaseSpan{Phase: ph.Phase, StartMs: figures.RoundMs(ph.StartMs / p.speed), EndMs: figures.RoundMs(ph.EndMs / p.speed)}
	}
	clock := st.Clock
	if clock == "" {
		clock = wire.ClockObserved
	}
	return out, clock
}

// sleepUntil waits until the run time reaches ms/speed (in the original's
// milliseconds), or ctx ends.
func (p *replayScript) sleepUntil(ctx context.Context, r *run, ms float64) error {
	wait := durationOf(ms/p.speed/1000) - p.clock.Now().Sub(r.startedAt)
	if wait <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, p.clock, wait)
}
