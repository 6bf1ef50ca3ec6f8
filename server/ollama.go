package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Ollama is the source backed by an Ollama server, through its Go client.
type Ollama struct {
	base   *url.URL
	http   *http.Client
	client *api.Client
	// sourceOptions holds the silence limits and, for a configured
	// endpoint, its name.
	sourceOptions
	// serving is the streams Ollama is answering, by model: for the queued
	// phase.
	serving serving
	// caps caches the capabilities of models by digest (a []string).
	caps sync.Map
}

var _ Source = (*Ollama)(nil)

// NewOllama returns the source for the Ollama server at rawURL; an empty
// rawURL takes OLLAMA_HOST the way api.ClientFromEnvironment does (default
// http://127.0.0.1:11434). It uses its own HTTP transport so that Close can
// drop its idle connections.
func NewOllama(rawURL string, opts ...SourceOption) (*Ollama, error) {
	base := envconfig.Host()
	if rawURL != "" {
		u, err := parseOllamaURL(rawURL)
		if err != nil {
			return nil, err
		}
		base = u
	}
	transport := &http.Transport{
		Proxy:               nil, // a local model server is never reached through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	hc := &http.Client{Transport: watchedTransport{base: transport}}
	return &Ollama{base: base, http: hc, client: api.NewClient(base, hc), sourceOptions: newSourceOptions(opts)}, nil
}

// parseOllamaURL accepts "host:port", "http://host:port" and the like.
func parseOllamaURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid Ollama URL %q: want http://host:port", raw)
	}
	return u, nil
}

// URL is the Ollama server's base URL.
func (o *Ollama) URL() string { return o.base.String() }

// Close drops idle connections to Ollama.
func (o *Ollama) Close() { o.http.CloseIdleConnections() }

// Version asks Ollama for its version; the error says whether it is reachable.
func (o *Ollama) Version(ctx context.Context) (string, error) {
	v, err := o.client.Version(ctx)
	if err != nil {
		return "", o.classify(err, "")
	}
	return v, nil
}

// Generate runs one chat completion and streams its thinking and content
// tokens. When Ollama sends nothing for longer than the silence limits (see
// WithSilenceLimits), it closes the request and returns a *SourceError
// saying so. While the request has had no reply and Ollama serves another
// stream of the same model, the stream is in the queued phase.
func (o *Ollama) Generate(ctx context.Context, req Request, emit Emitter) (Result, error) {
	// The emitter is called from the request's callback and from the
	// queue watcher: one at a time.
	em := &lockedEmitter{e: emit}
	if o.loaded(ctx, req.Model) {
		em.Phase(wire.PhasePrompt)
	} else {
		em.Phase(wire.PhaseLoading)
	}
	var msgs []api.Message
	if req.System != "" {
		msgs = append(msgs, api.Message{Role: "system", Content: req.System})
	}
	for _, t := range req.History {
		msgs = append(msgs, api.Message{Role: "user", Content: t.Prompt}, api.Message{Role: "assistant", Content: t.Answer})
	}
	msgs = append(msgs, api.Message{Role: "user", Content: req.Prompt})
	stream := true
	chat := &api.ChatRequest{Model: req.Model, Messages: msgs, Stream: &stream, Options: ollamaOptions(req.Options)}
	if t := req.Options.Think; t != nil {
		chat.Think = &api.ThinkValue{Value: string(*t)}
		if !t.Level() {
			chat.Think.Value = *t == wire.ThinkOn
		}
	}

	var final *api.ChatResponse
	answering, thinking := false, false
	chatCtx, cancelChat := context.WithCancelCause(ctx)
	defer cancelChat(nil)
	chatCtx, quiet := watchSilence(chatCtx, o.startTimeout, o.stallTimeout, cancelChat)
	replied := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		o.serving.watch(watchCtx, req.Model, replied, em)
	}()
	var servingID int64
	em.Sent()
	err := o.client.Chat(chatCtx, chat, func(r api.ChatResponse) error {
		em.mu.Lock()
		defer em.mu.Unlock()
		if servingID == 0 {
			close(replied)
			servingID = o.serving.begin(req.Model)
		}
		if r.Message.Thinking != "" {
			if !thinking {
				em.e.Phase(wire.PhaseThinking)
				thinking = true
			}
			em.e.Thinking(r.Message.Thinking)
		}
		if r.Message.Content != "" {
			if !answering {
				em.e.Phase(wire.PhaseGenerating)
				answering = true
			}
			em.e.Token(r.Message.Content)
		}
		if r.Done {
			final = &r
		}
		return nil
	})
	quiet.stop()
	stopWatch()
	<-watched
	if servingID != 0 {
		o.serving.end(req.Model, servingID)
	}
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	var silent *silentError
	if (err != nil || final == nil) && errors.As(context.Cause(chatCtx), &silent) {
		return Result{}, o.silenceError(silent)
	}
	if err != nil {
		return Result{}, o.classify(err, req.Model)
	}
	if final == nil {
		// The api client ends without error when the connection breaks
		// between two chunks: only the missing final chunk tells.
		return Result{}, &SourceError{
			Message: fmt.Sprintf("Ollama at %s stopped answering before the reply was complete", o.URL()),
			Hint:    "Ollama may have stopped or crashed; check that `ollama serve` is still running",
		}
	}
	reason := wire.ReasonStop
	if final.DoneReason == "length" {
		reason = wire.ReasonLength
	}
	m := final.Metrics
	return Result{Reason: reason, Ollama: &wire.OllamaStats{
		EvalCount:            m.EvalCount,
		EvalDurationNs:       int64(m.EvalDuration),
		PromptEvalCount:      m.PromptEvalCount,
		PromptEvalDurationNs: int64(m.PromptEvalDuration),
		LoadDurationNs:       int64(m.LoadDuration),
		TotalDurationNs:      int64(m.TotalDuration),
	}, Clock: ollamaClock(m)}, nil
}

// ollamaClock is how Ollama spent a request's time, from the durations of
// its last chunk, or nil when it sent none. total_duration runs from the
// request's arrival to the end; load_duration is the scheduler's part
// (loading the model, or waiting for another request's load of it);
// prompt_eval_duration and eval_duration are the runner's work. What
// remains waited for a free slot of the runner (with OLLAMA_NUM_PARALLEL
// slots, 1 by default since 0.10), plus a few milliseconds of templating.
func ollamaClock(m api.Metrics) *ServerClock {
	if m.TotalDuration <= 0 {
		return nil
	}
	c := &ServerClock{Load: max(m.LoadDuration, 0), Prompt: max(m.PromptEvalDuration, 0), Generation: max(m.EvalDuration, 0)}
	c.Queued = max(m.TotalDuration-c.Load-c.Prompt-c.Generation, 0)
	return c
}

func ollamaOptions(o wire.Options) map[string]any {
	opts := map[string]any{}
	if o.Temperature != nil {
		opts["temperature"] = *o.Temperature
	}
	if o.Seed != nil {
		opts["seed"] = *o.Seed
	}
	if o.NumPredict != nil {
		opts["num_predict"] = *o.NumPredict
	}
	if o.NumCtx != nil {
		opts["num_ctx"] = *o.NumCtx
	}
	return opts
}
