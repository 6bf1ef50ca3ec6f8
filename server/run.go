package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
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
	// turns lets a sync run's streams go one after another; nil in an
	// async run.
	turns *turns

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

// Causes of a stream's cancellation: a DELETE request, a stream that
// outgrew its log, a stream that found no room in the server's log budget.
var (
	errStreamCancelled = errors.New("cancelled")
	errTooLong         = errors.New("stream too long")
	errNoRoom          = errors.New("no room for events")
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
	budget *logBudget    // the server's, shared by every stream
	replay *replayScript // set on the streams of a replay

	mu      sync.Mutex
	log     eventLog
	bytes   int64         // memory of the log, charged to budget
	wake    chan struct{} // closed and replaced when events grow, if handed out
	waited  bool          // wake was handed out since it was made
	text    strings.Builder
	think   strings.Builder // the thinking events' text
	stats   *wire.Stats
	errMsg  string
	settled bool // the terminal event is in the log
	encoded bytes.Buffer
	enc     *json.Encoder // writes to encoded
	// upstream is the raw reply of an OpenAI-compatible endpoint
	upstream upstreamLog

	// owned by the stream's goroutine
	phase   string
	startMs float64
	firstMs float64 // the first answer token
	lastMs  float64
	tokens  int
	// the thinking events
	thinkFirstMs float64
	thinkTokens  int
	// sentMs is when the source sent its request, if sent (Sent)
	sentMs float64
	sent   bool
	// spans are the phases as they came (the phase events, and the
	// generating phase a token implies); the last one is open (EndMs -1)
	spans []wire.PhaseSpan
}

var _ Emitter = (*stream)(nil)

// Phase appends a phase event unless the stream is already in that phase.
func (s *stream) Phase(phase string) {
	if s.phase == phase {
		return
	}
	t := s.run.since()
	s.phase = phase
	s.notePhase(phase, t)
	s.append(wire.EventPhase, wire.EventData{Phase: phase, TMs: t})
}

// Sent notes when the source sent its request.
func (s *stream) Sent() { s.sentMs, s.sent = s.run.since(), true }

// Token appends a token event: a piece of the answer.
func (s *stream) Token(text string) { s.piece(wire.EventToken, text, &s.tokens, &s.firstMs) }

// Thinking appends a thinking event: a piece of the reasoning.
func (s *stream) Thinking(text string) {
	s.piece(wire.EventThinking, text, &s.thinkTokens, &s.thinkFirstMs)
}

// piece appends an event of typ with text, counting it in *n and noting
// the first one's time in *firstMs. Empty texts are dropped.
func (s *stream) piece(typ, text string, n *int, firstMs *float64) {
	if text == "" {
		return
	}
	t := s.run.since()
	if *n == 0 {
		*firstMs = t
	}
	*n++
	s.lastMs = t
	if typ == wire.EventToken {
		s.notePhase(wire.PhaseGenerating, t) // as the views take a token
	}
	s.append(typ, wire.EventData{Text: text, TMs: t})
}

// append encodes and logs one event. A stream that reaches its event limit
// is cancelled with errTooLong, and one that finds no room in the log
// budget with errNoRoom, keeping room for its terminal event.
func (s *stream) append(typ string, d wire.EventData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settled {
		return
	}
	terminal := typ == wire.EventDone || typ == wire.EventError
	if !terminal && len(s.log.events) >= s.max-1 {
		s.cancel(errTooLong)
		return
	}
	d.Seq = int64(len(s.log.events))
	data := s.encode(d)
	cost := s.log.cost(len(data), terminal)
	if typ == wire.EventToken || typ == wire.EventThinking {
		cost += int64(len(d.Text))
	}
	switch {
	case terminal:
		s.budget.force(cost)
	case !s.budget.take(cost):
		s.cancel(errNoRoom)
		return
	}
	s.log.add(eventTypeOf(typ), data, terminal)
	s.bytes += cost
	switch typ {
	case wire.EventToken:
		s.text.WriteString(d.Text)
	case wire.EventThinking:
		s.think.WriteString(d.Text)
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

// encode writes d as one line of JSON (see wire.Marshal) into a buffer of
// the stream's, valid until the next call; s.mu is held.
func (s *stream) encode(d wire.EventData) []byte {
	if s.enc == nil {
		s.enc = json.NewEncoder(&s.encoded)
		s.enc.SetEscapeHTML(false)
	}
	s.encoded.Reset()
	if err := s.enc.Encode(d); err != nil { // cannot happen: EventData has only plain fields
		panic(fmt.Sprintf("encode event: %v", err))
	}
	return bytes.TrimSuffix(s.encoded.Bytes(), []byte("\n"))
}

// eventsFrom returns the events from seq on, and a channel closed when more
// arrive. done is true when the returned events include the terminal one,
// or when the stream has ended before seq.
func (s *stream) eventsFrom(seq int64) (evs []logEvent, wake <-chan struct{}, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waited = true
	return s.log.from(seq), s.wake, s.settled
}

// length is the number of events logged, and whether the terminal one is
// among them.
func (s *stream) length() (n int64, settled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.log.events)), s.settled
}

// finish appends the terminal event for err (nil: a clean end with res).
func (s *stream) finish(res Result, err error) {
	t := s.run.since()
	stats := &wire.Stats{
		Tokens:     s.tokens,
		StartMs:    s.startMs,
		EndMs:      t,
		DurationMs: figures.RoundMs(t - s.startMs),
		Ollama:     res.Ollama,
		Usage:      res.Usage,
	}
	stats.TTFTMs, stats.TokensPerS = figures.Timing(s.tokens, s.startMs, s.firstMs, t)
	cause := context.Cause(s.ctx)
	normal := err == nil && s.ctx.Err() == nil
	stats.Phases, stats.Clock = s.finalPhases(res, normal, t)
	stats.BusyMs, stats.QueuedMs = phaseTimes(stats.Phases)
	if s.tokens+s.thinkTokens > 0 {
		stats.LastTokenMs = s.lastMs
	}
	if s.thinkTokens > 0 {
		stats.ThinkingTokens = s.thinkTokens
		stats.ThinkingTTFTMs, stats.ThinkingMs, stats.TokensPerS = figures.Thinking(s.thinkTokens, s.tokens, s.startMs, s.thinkFirstMs, s.firstMs, t)
	}
	switch {
	case errors.Is(cause, errTooLong):
		s.append(wire.EventError, wire.EventData{TMs: t, Stats: stats,
			Message: fmt.Sprintf("the stream exceeded %d events and was stopped", s.max),
			Hint:    "ask for fewer tokens (num_predict)"})
	case errors.Is(cause, errNoRoom):
		s.append(wire.EventError, wire.EventData{TMs: t, Stats: stats,
			Message: fmt.Sprintf("the server's memory for events (%s over all streams) is full: the stream was stopped", mebibytes(s.budget.max)),
			Hint:    "ask for fewer tokens (num_predict), or run fewer long streams at once"})
	case s.ctx.Err() != nil:
		s.append(wire.EventDone, wire.EventData{TMs: t, Reason: wire.ReasonCancelled, Stats: stats})
	case err != nil:
		msg, hint := errorOf(err)
		s.append(wire.EventError, wire.EventData{TMs: t, Stats: stats, Message: msg, Hint: hint})
	default:
		s.append(wire.EventDone, wire.EventData{TMs: t, Reason: res.Reason, Stats: stats})
	}
}

// runStream is the goroutine that owns stream s: it waits for its turn in
// sync mode, asks the source, and logs the terminal event.
func (srv *Server) runStream(s *stream) {
	defer srv.streamWG.Done()
	defer srv.streamFinished(s)
	defer s.cancel(nil)
	defer s.run.turns.end(s.index) // after the terminal event, whatever ends the stream
	// A panic in a source would take the whole process down: end this
	// stream with an error instead, and let the others go on.
	defer func() {
		if v := recover(); v != nil {
			srv.log.Error("panic in a stream", "stream", s.id, "model", s.spec.Model, "panic", v, "stack", string(debug.Stack()))
			s.finish(Result{}, &SourceError{
				Message: fmt.Sprintf("internal error: %v", v),
				Hint:    "this is a bug in Tokenloom; the other streams go on",
			})
		}
	}()

	if s.replay != nil {
		// A replay plays every stream at once: a sync run's waiting is in
		// its events.
		res, err := s.replay.play(s.ctx, s)
		s.finish(res, err)
		return
	}
	if s.run.turns != nil && s.index > 0 {
		s.Phase(wire.PhaseWaiting)
		s.run.turns.wait(s.ctx, s.index)
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
	req := Request{Run: s.run.id, Model: s.spec.Model, Prompt: s.run.req.Prompt, System: s.run.req.System, History: s.spec.History}
	if s.spec.Options != nil {
		req.Options = *s.spec.Options
	}
	res, err := srv.sourceFor(s.spec).Generate(s.ctx, req, s)
	if err != nil && s.ctx.Err() == nil {
		srv.log.Info("stream failed", "stream", s.id, "model", s.spec.Model, "endpoint", s.spec.Endpoint, "err", err)
	}
	s.finish(res, err)
}
