package server

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// Bounds of stream options.
const (
	MaxTemperature = 2
	MaxNumPredict  = 1 << 20
	MaxNumCtx      = 1 << 20
	MaxRate        = 1e7
	maxLabelLen    = 128
	maxModelLen    = 256
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
// default mode. It returns the error message and hint of a 400, or "".
func (s *Server) validate(req *wire.RunRequest) (msg, hint string) {
	switch {
	case !utf8.ValidString(req.Prompt) || !utf8.ValidString(req.System):
		return "the prompt is not valid UTF-8", "send text encoded as UTF-8"
	case strings.TrimSpace(req.Prompt) == "":
		return "empty prompt", "write something for the models to answer"
	case len(req.Prompt) > s.cfg.MaxPromptBytes:
		return fmt.Sprintf("prompt over %d bytes", s.cfg.MaxPromptBytes), "send a shorter prompt"
	case len(req.System) > s.cfg.MaxPromptBytes:
		return fmt.Sprintf("system prompt over %d bytes", s.cfg.MaxPromptBytes), "send a shorter system prompt"
	case len(req.Streams) == 0:
		return "no streams", `add at least one stream, e.g. "streams":[{"model":"demo/hello"}]`
	case len(req.Streams) > s.cfg.MaxStreamsPerRun:
		return fmt.Sprintf("%d streams in one run (at most %d)", len(req.Streams), s.cfg.MaxStreamsPerRun), "split them over several runs"
	}
	switch req.Mode {
	case "":
		req.Mode = wire.ModeAsync
	case wire.ModeAsync, wire.ModeSync:
	default:
		return fmt.Sprintf("unknown mode %q", req.Mode), `mode is "async" or "sync"`
	}
	for i, sp := range req.Streams {
		if !ValidModelName(sp.Model) {
			return fmt.Sprintf("stream %d: invalid model name %q", i, sp.Model),
				"model names look like llama3.2, llama3.2:1b, namespace/name:tag or demo/hello"
		}
		if len(sp.Label) > maxLabelLen || !utf8.ValidString(sp.Label) || strings.ContainsFunc(sp.Label, isControl) {
			return fmt.Sprintf("stream %d: invalid label", i), fmt.Sprintf("a label is up to %d printable characters", maxLabelLen)
		}
		if msg, hint := validOptions(sp.Options); msg != "" {
			return fmt.Sprintf("stream %d: %s", i, msg), hint
		}
	}
	return "", ""
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
	if v := o.Rate; v != nil && !(*v >= 0 && *v <= MaxRate) {
		return fmt.Sprintf("rate %v out of range", *v), "rate is tokens per second, from 0 (as fast as possible) up"
	}
	return "", ""
}
