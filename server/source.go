package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Source produces the tokens of streams. A Source is used by many streams at
// once; each Generate call runs on the goroutine that owns its stream.
type Source interface {
	// Generate streams the reply to req through emit until the reply ends,
	// ctx is cancelled or the source fails. It reports the end reason
	// (wire.ReasonStop or wire.ReasonLength) and, for Ollama, its metrics.
	// A cancelled ctx may be reported with any error: the caller checks ctx
	// itself. Failures a person can act on are returned as *SourceError.
	Generate(ctx context.Context, req Request, emit Emitter) (Result, error)
	// Models lists what the source offers.
	Models(ctx context.Context) ([]wire.Model, error)
}

// Request is what a Source is asked to answer.
type Request struct {
	// Run is the id of the run the stream belongs to.
	Run     string
	Model   string
	Prompt  string
	System  string
	Options wire.Options
	// History is the conversation before Prompt, oldest first.
	History []wire.Turn
}

// Emitter receives a stream's events from its Source, on the stream's
// goroutine. Each call stamps the event with its arrival time.
type Emitter interface {
	// Phase reports the stream's phase (wire.Phase...). Repeating the
	// current phase is a no-op.
	Phase(phase string)
	// Token reports one token of the answer. Empty tokens are dropped.
	Token(text string)
	// Thinking reports one token of a thinking model's reasoning, which
	// comes before its answer. Empty tokens are dropped.
	Thinking(text string)
	// Sent marks the moment the request left for the model server: its
	// own clock (Result.Clock) counts from there. A source that never
	// calls it is taken to have sent it at the stream's start.
	Sent()
}

// Result is how a stream ended without error.
type Result struct {
	// Reason is wire.ReasonStop or wire.ReasonLength.
	Reason string
	// Ollama holds Ollama's final metrics; nil for other sources.
	Ollama *wire.OllamaStats
	// Usage holds the token counts of an OpenAI-compatible endpoint, when
	// it reported them; nil for other sources.
	Usage *wire.Usage
	// Clock is the model server's own account of the stream's time, when
	// it gave one (Ollama's durations, llama.cpp's timings, a demo
	// source's schedule); nil: the stream's figures are what Tokenloom
	// saw.
	Clock *ServerClock
	// phases are a replay's recorded phases, already on its clock, and
	// clock where they came from.
	phases []wire.PhaseSpan
	clock  string
}

// ServerClock is how a model server spent a stream's time, by its own
// clock: in order, loading the model, waiting for a free slot (behind
// other requests), reading the prompt and generating (the reasoning and
// the answer).
type ServerClock struct {
	Load, Queued, Prompt, Generation time.Duration
	// FromEnd says that the durations end at the stream's last token,
	// because the server does not say how long it had the request in all
	// (llama.cpp's timings): the time from the request to the prompt is
	// then taken as queued. false: they count from the request (Ollama's
	// total_duration covers them all).
	FromEnd bool
}

// SourceError is a failure with a sentence a person can act on. Message and
// Hint go into the stream's error event; Err keeps the cause for logs.
type SourceError struct {
	Message string
	Hint    string
	Err     error
}

// Error returns the message and, when there is one, the cause.
func (e *SourceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *SourceError) Unwrap() error { return e.Err }

// modelNotFound is the error of an unknown model, in the words Ollama's
// users know.
func modelNotFound(model, hint string) *SourceError {
	return &SourceError{Message: fmt.Sprintf("model %q not found", model), Hint: hint}
}

// errorOf turns any error into the message and hint of an error event.
func errorOf(err error) (message, hint string) {
	var se *SourceError
	if errors.As(err, &se) {
		return se.Message, se.Hint
	}
	return err.Error(), ""
}

// route sends the models whose names start with prefix to a source.
type route struct {
	prefix string
	source Source
}

// sourceFor picks the source of a stream: its endpoint's when it names one
// (validate has checked that it exists), else the first route whose prefix
// its model has, else the local Ollama.
func (s *Server) sourceFor(spec wire.StreamSpec) Source {
	if spec.Endpoint != "" {
		return s.endpoints[spec.Endpoint].source
	}
	for _, r := range s.sources {
		if strings.HasPrefix(spec.Model, r.prefix) {
			return r.source
		}
	}
	return s.ollama
}

// looksLikeSentence tells an error message of a model server's ("an error
// was encountered while running the model") from a line of something else
// ("<html>…", "{…"): it starts with a letter and has no control characters.
func looksLikeSentence(s string) bool {
	if first, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(first) || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// truncate cuts s to n bytes, at a character's end, marking the cut: for a
// server's text quoted in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
