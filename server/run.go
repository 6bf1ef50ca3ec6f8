package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// run is one POST /api/runs: a prompt and its streams.
type run struct {
	id        string
	req       wire.RunRequest
	clock     Clock
	startedAt time.Time // the clock's, when launched: for t_ms and the transcript
	streams   []*stream
	// replayOf and speed are set on a replay: the id of the run it plays
	// back and its playback rate.
	replayOf string
	speed    float64

	// guarded by Server.mu
	unfinished int
	finishedAt time.Time
	bytes      int64
}

// since is the run time in milliseconds, with microsecond precision, read
// from the run's clock (the real one reads the monotonic clock).
func (r *run) since() float64 {
	return float64(r.clock.Now().Sub(r.startedAt).Microseconds()) / 1000
}

// errStreamCancelled is the cancel cause of DELETE requests; errTooLong that
// of a stream that outgrew its log.
var (
	errStreamCancelled = errors.New("cancelled")
	errTooLong         = errors.New("stream too long")
)

// stream is one model answering one run's prompt. Its goroutine (see
// Server.runStream) is the only writer of its events; subscribers read the
// log under mu.
type stream struct {
	id     string
	index  int
	spec   wire.StreamSpec
	run    *run
	ctx    context.Context
	cancel context.CancelCauseFunc
	max    int           // most events kept
	replay *replayScript // set on the streams of a replay

	mu      sync.Mutex
	events  []logEvent
	bytes   int64
	wake    chan struct{} // closed and replaced when events grow, if handed out
	waited  bool          // wake was handed out since it was made
	text    strings.Builder
	stats   *wire.Stats
	errMsg  string
	settled bool // the terminal event is in the log

	// owned by the stream's goroutine
	phase   string
	startMs float64
	firstMs float64
	lastMs  float64
	tokens  int
}

// logEvent is one event, encoded once for every subscriber.
type logEvent struct {
	typ  string
	seq  int64
	data []byte
}

// eventOverhead approximates the memory of a logEvent beside its data.
const eventOverhead = 64

var _ Emitter = (*stream)(nil)

// Phase appends a phase event unless the stream is already in that phase.
func (s *stream) Phase(phase string) {
	if s.phase == phase {
		return
	}
	s.phase = phase
	s.append(wire.EventPhase, wire.EventData{Phase: phase, TMs: s.run.since()})
}

// Token appends a token event.
func (s *stream) Token(text string) {
	if text == "" {
		return
	}
	t := s.run.since()
	if s.tokens == 0 {
		s.firstMs = t
	}
	s.tokens++
	s.lastMs = t
	s.append(wire.EventToken, wire.EventData{Text: text, TMs: t})
}

// append encodes and logs one event. A stream that reaches its event limit
// is cancelled with errTooLong, keeping room for its terminal event.
func (s *stream) append(typ string, d wire.EventData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settled {
		return
	}
	terminal := typ == wire.EventDone || typ == wire.EventError
	if !terminal && len(s.events) >= s.max-1 {
		s.cancel(errTooLong)
		return
	}
	d.Seq = int64(len(s.events))
	data, err := wire.Marshal(d)
	if err != nil { // cannot happen: EventData has only plain fields
		panic(fmt.Sprintf("encode event: %v", err))
	}
	s.events = append(s.events, logEvent{typ: typ, seq: d.Seq, data: data})
	s.bytes += int64(len(data)) + eventOverhead
	if typ == wire.EventToken {
		s.text.WriteString(d.Text)
		s.bytes += int64(len(d.Text))
	}
	if terminal {
		s.settled = true
		s.stats = d.Stats
		s.errMsg = d.Message
	}
	// Only a channel someone holds needs closing: a stream nobody waits on
	// (the usual case between two frames) makes no channel per event.
	if s.waited {
		close(s.wake)
		s.wake = make(chan struct{})
		s.waited = false
	}
}

// eventsFrom returns the events from seq on, and a channel closed when more
// arrive. done is true when the returned events include the terminal one.
func (s *stream) eventsFrom(seq int64) (evs []logEvent, wake <-chan struct{}, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq < int64(len(s.events)) {
		evs = s.events[seq:len(s.events):len(s.events)]
	}
	s.waited = true
	return evs, s.wake, s.settled
}

// finish appends the terminal event for err (nil: a clean end with res).
func (s *stream) finish(res Result, err error) {
	t := s.run.since()
	stats := &wire.Stats{
		Tokens:     s.tokens,
		StartMs:    s.startMs,
		EndMs:      t,
		DurationMs: round3(t - s.startMs),
		Ollama:     res.Ollama,
	}
	if s.tokens > 0 {
		stats.TTFTMs = round3(s.firstMs - s.startMs)
		gen := (t - s.firstMs) / 1000
		if s.tokens == 1 || gen <= 0 {
			gen = stats.DurationMs / 1000
		}
		if gen > 0 {
			stats.TokensPerS = math.Round(float64(s.tokens)/gen*10) / 10
		}
	}
	cause := context.Cause(s.ctx)
	switch {
	case errors.Is(cause, errTooLong):
		s.append(wire.EventError, wire.EventData{TMs: t, Stats: stats,
			Message: fmt.Sprintf("the stream exceeded %d events and was stopped", s.max),
			Hint:    "ask for fewer tokens (num_predict)"})
	case s.ctx.Err() != nil:
		s.append(wire.EventDone, wire.EventData{TMs: t, Reason: wire.ReasonCancelled, Stats: stats})
	case err != nil:
		msg, hint := errorOf(err)
		s.append(wire.EventError, wire.EventData{TMs: t, Stats: stats, Message: msg, Hint: hint})
	default:
		s.append(wire.EventDone, wire.EventData{TMs: t, Reason: res.Reason, Stats: stats})
	}
}

func round3(ms float64) float64 { return math.Round(ms*1000) / 1000 }

// transcript copies the stream for GET /api/runs/{id}.
func (s *stream) transcript() wire.StreamTranscript {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := make([]wire.LoggedEvent, len(s.events))
	for i, e := range s.events {
		evs[i] = wire.LoggedEvent{Event: e.typ, ID: e.seq, Data: e.data}
	}
	return wire.StreamTranscript{
		ID:      s.id,
		Model:   s.spec.Model,
		Label:   s.spec.Label,
		Index:   s.index,
		Options: s.spec.Options,
		Text:    s.text.String(),
		Events:  evs,
		Stats:   s.stats,
		Error:   s.errMsg,
	}
}

// runStream is the goroutine that owns stream s: it waits for its turn in
// sync mode, asks the source, and logs the terminal event.
func (srv *Server) runStream(s *stream) {
	defer srv.streamWG.Done()
	defer srv.streamFinished(s)
	defer s.cancel(nil)

	if s.replay != nil {
		// A replay plays every stream at once: a sync run's waiting is in
		// its events.
		res, err := s.replay.play(s.ctx, s)
		s.finish(res, err)
		return
	}
	if s.run.req.Mode == wire.ModeSync && s.index > 0 {
		s.Phase(wire.PhaseWaiting)
		for _, prev := range s.run.streams[:s.index] {
			if !prev.wait(s.ctx) {
				break
			}
		}
	}
	if srv.streamsLife.Err() != nil {
		// The server is closing. Its cancellation reaches the streams one
		// by one, and may not have reached this one yet although the stream
		// it waited for has ended.
		s.cancel(nil)
	}
	s.startMs = s.run.since()
	if s.ctx.Err() != nil {
		s.finish(Result{}, nil)
		return
	}
	req := Request{Model: s.spec.Model, Prompt: s.run.req.Prompt, System: s.run.req.System}
	if s.spec.Options != nil {
		req.Options = *s.spec.Options
	}
	res, err := srv.sourceFor(s.spec.Model).Generate(s.ctx, req, s)
	if err != nil && s.ctx.Err() == nil {
		srv.log.Info("stream failed", "stream", s.id, "model", s.spec.Model, "err", err)
	}
	s.finish(res, err)
}

// wait blocks until the stream has ended or ctx is done; it reports whether
// the stream ended.
func (s *stream) wait(ctx context.Context) bool {
	for {
		_, wake, done := s.eventsFrom(math.MaxInt64)
		if done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-wake:
		}
	}
}
