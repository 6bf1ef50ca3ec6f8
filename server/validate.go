package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Bounds of stream options.
const (
	MaxTemperature = 2
	MaxNumPredict  = 1 << 20
	MaxNumCtx      = 1 << 20
	MaxRate        = 1e7
	// MinRate is the slowest pace of a demo source above 0 (as fast as
	// possible): a token every 10 s.
	MinRate     = 0.1
	maxLabelLen = 128
	maxModelLen = 256
)

// modelPattern is an Ollama model name: [host/][namespace/]name[:tag].
var modelPattern = regexp.MustCompile(`^(?:[A-Za-z0-9._-]+/){0,2}[A-Za-z0-9._-]+(?::[A-Za-z0-9._-]+)?$`)

// ValidModelName reports whether name is shaped like an Ollama model name
// or a demo source; it says nothing about whether the model exists.
func ValidModelName(name string) bool {
	if name == "" || len(name) > maxModelLen || !modelPattern.MatchString(name) {
		return false
	}
	base, _, _ := strings.Cut(name, ":")
	for seg := range strings.SplitSeq(base, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// validate checks a run request against the contract and fills in the
// default mode. It returns the refusal (400) of a request that breaks it.
func (s *Server) validate(req *wire.RunRequest) *refusal {
	bad := func(msg, hint string) *refusal { return &refusal{http.StatusBadRequest, msg, hint} }
	switch {
	case !utf8.ValidString(req.Prompt) || !utf8.ValidString(req.System):
		return bad("the prompt is not valid UTF-8", "send text encoded as UTF-8")
	case blank(req.Prompt):
		return bad("empty prompt", "write something for the models to answer")
	case len(req.Prompt) > s.cfg.MaxPromptBytes:
		return bad(fmt.Sprintf("prompt over %d bytes", s.cfg.MaxPromptBytes), "send a shorter prompt")
	case len(req.System) > s.cfg.MaxPromptBytes:
		return bad(fmt.Sprintf("system prompt over %d bytes", s.cfg.MaxPromptBytes), "send a shorter system prompt")
	case len(req.Streams) == 0:
		return bad("no streams", `add at least one stream, e.g. "streams":[{"model":"demo/hello"}]`)
	case len(req.Streams) > s.cfg.MaxStreamsPerRun:
		return bad(fmt.Sprintf("%d streams in one run (at most %d)", len(req.Streams), s.cfg.MaxStreamsPerRun), "split them over several runs")
	}
	switch req.Mode {
	case "":
		req.Mode = wire.ModeAsync
	case wire.ModeAsync, wire.ModeSync:
	default:
		return bad(fmt.Sprintf("unknown mode %q", req.Mode), `mode is "async" or "sync"`)
	}
	for i, sp := range req.Streams {
		if sp.Endpoint != "" {
			if bad := s.checkEndpoint(i, sp); bad != nil {
				return bad
			}
		} else if !ValidModelName(sp.Model) {
			return invalidModel(i, sp.Model)
		}
		if len(sp.Label) > maxLabelLen || !utf8.ValidString(sp.Label) || strings.ContainsFunc(sp.Label, isControl) {
			return bad(fmt.Sprintf("stream %d: invalid label", i), fmt.Sprintf("a label is up to %d printable characters", maxLabelLen))
		}
		if msg, hint := validOptions(sp.Options); msg != "" {
			return bad(fmt.Sprintf("stream %d: %s", i, msg), hint)
		}
		if msg, hint := s.validHistory(sp.History); msg != "" {
			return bad(fmt.Sprintf("stream %d: %s", i, msg), hint)
		}
	}
	return nil
}

// validHistory checks a stream's conversation: text in UTF-8, a prompt in
// every turn, and at most MaxConversationBytes in all.
func (s *Server) validHistory(turns []wire.Turn) (msg, hint string) {
	size := 0
	for i, t := range turns {
		switch {
		case !utf8.ValidString(t.Prompt) || !utf8.ValidString(t.Answer):
			return fmt.Sprintf("history turn %d is not valid UTF-8", i+1), "send text encoded as UTF-8"
		case blank(t.Prompt):
			return fmt.Sprintf("history turn %d has an empty prompt", i+1), "every earlier turn needs the user's line"
		}
		size += len(t.Prompt) + len(t.Answer)
	}
	if size > s.cfg.MaxConversationBytes {
		return fmt.Sprintf("conversation over %d bytes", s.cfg.MaxConversationBytes), "start a new conversation"
	}
	return "", ""
}

// invalidModel is the refusal of stream i's model name.
func invalidModel(i int, model string) *refusal {
	return &refusal{http.StatusBadRequest, fmt.Sprintf("stream %d: invalid model name %q", i, model),
		"model names look like llama3.2, llama3.2:1b, namespace/name:tag or demo/hello"}
}

// blank reports whether a prompt says nothing: only white space, control
// and format characters (a NUL, a zero-width space, a byte order mark).
func blank(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !unicode.IsSpace(r) && !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r)
	})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func validOptions(o *wire.Options) (msg, hint string) {
	if o == nil {
		return "", ""
	}
	if t := o.Temperature; t != nil && !(*t >= 0 && *t <= MaxTemperature) {
		return fmt.Sprintf("temperature %v out of range", *t), "temperature is from 0 to 2"
	}
	if v := o.Seed; v != nil && *v < 0 {
		return fmt.Sprintf("negative seed %d", *v), "seed is 0 or more"
	}
	if v := o.NumPredict; v != nil && (*v < -1 || *v > MaxNumPredict) {
		return fmt.Sprintf("num_predict %d out of range", *v), fmt.Sprintf("num_predict is -1 (no limit) or from 0 to %d", MaxNumPredict)
	}
	if v := o.NumCtx; v != nil && (*v < 1 || *v > MaxNumCtx) {
		return fmt.Sprintf("num_ctx %d out of range", *v), fmt.Sprintf("num_ctx is from 1 to %d", MaxNumCtx)
	}
	if v := o.Think; v != nil && !v.Valid() {
		return fmt.Sprintf("think %q out of range", string(*v)), `think is true, false, "low", "medium" or "high"`
	}
	if v := o.Rate; v != nil && !(*v == 0 || *v >= MinRate && *v <= MaxRate) {
		return fmt.Sprintf("rate %v out of range", *v), fmt.Sprintf("rate is tokens per second: 0 (as fast as possible), or from %v to %v", MinRate, MaxRate)
	}
	return "", ""
}

// MaxReplayDuration is the longest a replay may play: a saved stream that
// would last longer at the asked speed is refused.
const MaxReplayDuration = 24 * time.Hour

// validateReplay checks a replay request and fills in the default speed.
// It returns the stream scripts, or the refusal (400) of a request that
// breaks the contract.
func (s *Server) validateReplay(req *wire.ReplayRequest) ([]*replayScript, *refusal) {
	const saveHint = "replay a run saved by `tokenloom run --save FILE.json`, the app's export, or GET /api/runs/{id}"
	bad := func(msg, hint string) *refusal { return &refusal{http.StatusBadRequest, msg, hint} }
	if req.Speed == nil {
		one := 1.0
		req.Speed = &one
	}
	speed := *req.Speed
	if !(speed >= wire.MinReplaySpeed && speed <= wire.MaxReplaySpeed) {
		return nil, bad(fmt.Sprintf("speed %v out of range", speed),
			fmt.Sprintf("speed is from %v to %d: 1 plays the original timing, 2 twice as fast", wire.MinReplaySpeed, wire.MaxReplaySpeed))
	}
	t := req.Transcript
	if t == nil {
		return nil, bad("no transcript", saveHint)
	}
	events, err := wire.CheckTranscript(t)
	if err != nil {
		return nil, bad("the transcript is not a valid run: "+err.Error(), saveHint)
	}
	switch {
	case len(t.Streams) > s.cfg.MaxStreamsPerRun:
		return nil, bad(fmt.Sprintf("%d streams in one replay (at most %d)", len(t.Streams), s.cfg.MaxStreamsPerRun), "replay a run with fewer streams")
	case len(t.Prompt) > s.cfg.MaxPromptBytes:
		return nil, bad(fmt.Sprintf("prompt over %d bytes", s.cfg.MaxPromptBytes), "replay a run with a shorter prompt")
	case len(t.System) > s.cfg.MaxPromptBytes:
		return nil, bad(fmt.Sprintf("system prompt over %d bytes", s.cfg.MaxPromptBytes), "replay a run with a shorter system prompt")
	}
	var scripts []*replayScript
	for i, st := range t.Streams {
		evs := events[i]
		switch {
		case st.Endpoint == "" && !ValidModelName(st.Model),
			st.Endpoint != "" && !validOpenAIModel(st.Model):
			// A saved run's endpoint need not be configured here: its
			// stream is played from the file.
			return nil, invalidModel(i, st.Model)
		case len(st.Events) > s.cfg.MaxStreamEvents:
			return nil, bad(fmt.Sprintf("stream %d (%s): %d events (at most %d)", i, st.Model, len(st.Events), s.cfg.MaxStreamEvents), "replay a shorter run")
		case evs[len(evs)-1].TMs/speed > float64(MaxReplayDuration/time.Millisecond):
			return nil, bad(fmt.Sprintf("stream %d (%s) would play for longer than %s at speed %v", i, st.Model, humanDuration(MaxReplayDuration), speed),
				"replay it faster, or a shorter run")
		}
		if msg, hint := s.validHistory(st.History); msg != "" {
			return nil, bad(fmt.Sprintf("stream %d (%s): %s", i, st.Model, msg), hint)
		}
		scripts = append(scripts, newReplayScript(&t.Streams[i], evs, speed, s.cfg.Clock))
	}
	return scripts, nil
}
