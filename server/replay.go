package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/tokenloom/tokenloom/internal/wire"
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
		case wire.EventDone:
			res := Result{Reason: d.Reason}
			if d.Stats != nil {
				res.Ollama = d.Stats.Ollama
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

// sleepUntil waits until the run time reaches ms/speed (in the original's
// milliseconds), or ctx ends.
func (p *replayScript) sleepUntil(ctx context.Context, r *run, ms float64) error {
	at := time.Duration(math.Round(ms / p.speed * float64(time.Millisecond)))
	wait := at - p.clock.Now().Sub(r.startedAt)
	if wait <= 0 {
		return ctx.Err()
	}
	t := p.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// handleCreateReplay serves POST /api/replays: it checks the saved run and
// starts a run that plays it back.
func (s *Server) handleCreateReplay(w http.ResponseWriter, r *http.Request) {
	tooBig := func() {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("replay body over %d bytes", s.cfg.MaxReplayBytes),
			"replay a shorter run; the server's limit is Config.MaxReplayBytes")
	}
	if r.ContentLength > s.cfg.MaxReplayBytes {
		tooBig()
		return
	}
	var req wire.ReplayRequest
	if err := decodeBody(http.MaxBytesReader(w, r.Body, s.cfg.MaxReplayBytes), &req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooBig()
			return
		}
		writeError(w, http.StatusBadRequest, err.Error(), `send {"transcript": <a run as GET /api/runs/{id} answers it>, "speed": 1}`)
		return
	}
	scripts, msg, hint := s.validateReplay(&req)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg, hint)
		return
	}
	t := req.Transcript
	runReq := wire.RunRequest{Prompt: t.Prompt, System: t.System, Mode: t.Mode}
	for _, st := range t.Streams {
		runReq.Streams = append(runReq.Streams, wire.StreamSpec{Model: st.Model, Options: st.Options, Label: replayLabelPrefix + st.Model})
	}
	rn := s.newRun(runReq)
	rn.replayOf, rn.speed = t.ID, *req.Speed
	for i, st := range rn.streams {
		st.replay = scripts[i]
	}
	started, err := s.launch(rn)
	s.answerStarted(w, started, err)
}

// validateReplay checks a replay request and fills in the default speed.
// It returns the stream scripts, or the message and hint of a 400.
func (s *Server) validateReplay(req *wire.ReplayRequest) (scripts []*replayScript, msg, hint string) {
	const saveHint = "replay a run saved by `tokenloom run --save FILE.json`, the app's export, or GET /api/runs/{id}"
	if req.Speed == nil {
		one := 1.0
		req.Speed = &one
	}
	if v := *req.Speed; !(v > 0 && v <= wire.MaxReplaySpeed) {
		return nil, fmt.Sprintf("speed %v out of range", v), fmt.Sprintf("speed is more than 0 and at most %d: 1 plays the original timing, 2 twice as fast", wire.MaxReplaySpeed)
	}
	t := req.Transcript
	if t == nil {
		return nil, "no transcript", saveHint
	}
	events, err := wire.CheckTranscript(t)
	if err != nil {
		return nil, "the transcript is not a valid run: " + err.Error(), saveHint
	}
	switch {
	case len(t.Streams) > s.cfg.MaxStreamsPerRun:
		return nil, fmt.Sprintf("%d streams in one replay (at most %d)", len(t.Streams), s.cfg.MaxStreamsPerRun), "replay a run with fewer streams"
	case len(t.Prompt) > s.cfg.MaxPromptBytes:
		return nil, fmt.Sprintf("prompt over %d bytes", s.cfg.MaxPromptBytes), "replay a run with a shorter prompt"
	case len(t.System) > s.cfg.MaxPromptBytes:
		return nil, fmt.Sprintf("system prompt over %d bytes", s.cfg.MaxPromptBytes), "replay a run with a shorter system prompt"
	}
	for i, st := range t.Streams {
		switch {
		case !ValidModelName(st.Model):
			return nil, fmt.Sprintf("stream %d: invalid model name %q", i, st.Model),
				"model names look like llama3.2, llama3.2:1b, namespace/name:tag or demo/hello"
		case len(st.Events) > s.cfg.MaxStreamEvents:
			return nil, fmt.Sprintf("stream %d (%s): %d events (at most %d)", i, st.Model, len(st.Events), s.cfg.MaxStreamEvents), "replay a shorter run"
		}
		scripts = append(scripts, newReplayScript(&t.Streams[i], events[i], *req.Speed, s.cfg.Clock))
	}
	return scripts, "", ""
}
