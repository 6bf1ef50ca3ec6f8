package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

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

// Models lists Ollama's local models, marking those loaded in memory.
func (o *Ollama) Models(ctx context.Context) ([]wire.Model, error) {
	list, err := o.client.List(ctx)
	if err != nil {
		return nil, o.classify(err, "")
	}
	loaded := map[string]bool{}
	if ps, err := o.client.ListRunning(ctx); err == nil {
		for _, m := range ps.Models {
			loaded[m.Name] = true
		}
	}
	// The models not seen before are asked about at once, a few at a time.
	caps := make([][]string, len(list.Models))
	var wg sync.WaitGroup
	limit := make(chan struct{}, showAtOnce)
	for i, m := range list.Models {
		wg.Go(func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			caps[i] = o.capabilities(ctx, m)
		})
	}
	wg.Wait()
	out := make([]wire.Model, 0, len(list.Models))
	for i, m := range list.Models {
		mod := m.ModifiedAt
		out = append(out, wire.Model{
			Name:          m.Name,
			Source:        wire.SourceOllama,
			Size:          m.Size,
			Family:        m.Details.Family,
			ParameterSize: m.Details.ParameterSize,
			Quantization:  m.Details.QuantizationLevel,
			ModifiedAt:    &mod,
			Loaded:        loaded[m.Name],
			Capabilities:  caps[i],
		})
	}
	slices.SortFunc(out, func(a, b wire.Model) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// showAtOnce is how many /api/show requests Models makes at once.
const showAtOnce = 8

// capabilities asks Ollama what model m can do (thinking among it), once
// per model digest: a model's capabilities change only with its digest.
// Ollama says since 0.6.4; an older one, or a failure, leaves them unknown
// (and asked again next time).
func (o *Ollama) capabilities(ctx context.Context, m api.ListModelResponse) []string {
	if caps, ok := o.caps.Load(m.Digest); ok {
		return caps.([]string)
	}
	show, err := o.client.Show(ctx, &api.ShowRequest{Model: m.Name})
	if err != nil {
		return nil
	}
	caps := make([]string, 0, len(show.Capabilities))
	for _, c := range show.Capabilities {
		caps = append(caps, string(c))
	}
	o.caps.Store(m.Digest, caps)
	return caps
}

// loaded tells whether Ollama holds model in memory; when it cannot tell it
// says true, so no loading phase is shown that may not happen.
func (o *Ollama) loaded(ctx context.Context, model string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ps, err := o.client.ListRunning(ctx)
	if err != nil {
		return true
	}
	for _, m := range ps.Models {
		if m.Name == model || m.Model == model || strings.TrimSuffix(m.Name, ":latest") == model {
			return true
		}
	}
	return false
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

// silenceError is the error of a request that Ollama left without a byte
// for too long.
func (o *Ollama) silenceError(s *silentError) *SourceError {
	if s.began {
		return &SourceError{
			Message: fmt.Sprintf("Ollama at %s sent nothing for %s in the middle of the reply", o.URL(), humanDuration(s.after)),
			Hint:    "Ollama may be stuck or overloaded; check the log of `ollama serve`, and restart it if it does not recover",
			Err:     s,
		}
	}
	return &SourceError{
		Message: fmt.Sprintf("Ollama at %s sent nothing for %s after the request", o.URL(), humanDuration(s.after)),
		Hint:    "Ollama may be stuck, or still loading a model too big for this machine; check `ollama ps` and the log of `ollama serve`",
		Err:     s,
	}
}

// unreachable is the error of an Ollama that does not answer.
func (o *Ollama) unreachable(cause error) *SourceError {
	if o.endpoint != "" {
		return &SourceError{
			Message: fmt.Sprintf("Ollama endpoint %q is not reachable at %s", o.endpoint, o.URL()),
			Hint:    "check that Ollama runs there (to take requests from other machines it needs OLLAMA_HOST=0.0.0.0), and the endpoint's URL",
			Err:     cause,
		}
	}
	return &SourceError{
		Message: "Ollama is not reachable at " + o.URL(),
		Hint:    "start it with `ollama serve`, or point OLLAMA_HOST at a running Ollama",
		Err:     cause,
	}
}

// classify turns the api client's errors into sentences a person can act on.
func (o *Ollama) classify(err error, model string) error {
	var status api.StatusError
	if errors.As(err, &status) {
		msg := strings.TrimSpace(status.ErrorMessage)
		// Ollama's own 404 of a chat names the model; another server's
		// 404 ("404 page not found") means the URL is not Ollama's.
		if status.StatusCode == http.StatusNotFound && model != "" && strings.Contains(msg, "model") {
			return modelNotFound(model, "run: ollama pull "+model)
		}
		if msg == "" {
			msg = status.Status
		}
		hint := "see the log of `ollama serve` for details"
		if status.StatusCode == http.StatusNotFound {
			hint = "check that the Ollama URL points at Ollama and not at another server"
		}
		return &SourceError{
			Message: fmt.Sprintf("Ollama answered %d: %s", status.StatusCode, truncate(msg, 200)),
			Hint:    hint,
			Err:     err,
		}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr),
		errors.As(err, &opErr) && opErr.Op == "dial":
		return o.unreachable(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return &SourceError{
			Message: fmt.Sprintf("Ollama at %s closed the connection", o.URL()),
			Hint:    "Ollama may have stopped or crashed; check that `ollama serve` is still running",
			Err:     err,
		}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return o.unreachable(err)
	}
	// The api client reports both an error line of Ollama's and a line it
	// cannot parse as a plain error holding the text: tell them apart by
	// whether the text reads like a sentence. The last line of a reply cut
	// in the middle is the start of a JSON object.
	text := err.Error()
	var syntax *json.SyntaxError
	if perr := json.Unmarshal([]byte(text), new(any)); strings.HasPrefix(text, "{") &&
		errors.As(perr, &syntax) && syntax.Offset == int64(len(text)) {
		return &SourceError{
			Message: fmt.Sprintf("Ollama's reply broke off in the middle of a line: %s", truncate(text, 200)),
			Hint:    "Ollama may have stopped or crashed; check that `ollama serve` is still running",
			Err:     err,
		}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) || errors.As(err, &syntax) {
		// A JSON line of the wrong shape.
		return &SourceError{
			Message: "Ollama sent a reply Tokenloom cannot read: " + truncate(text, 200),
			Hint:    "check that the Ollama URL points at Ollama and not at another server",
			Err:     err,
		}
	}
	if looksLikeSentence(text) {
		return &SourceError{
			Message: "Ollama failed: " + truncate(text, 200),
			Hint:    "see the log of `ollama serve` for details",
			Err:     err,
		}
	}
	return &SourceError{
		Message: "Ollama sent a reply Tokenloom cannot read: " + truncate(text, 200),
		Hint:    "check that the Ollama URL points at Ollama and not at another server",
		Err:     err,
	}
}

// looksLikeSentence tells an error message of Ollama's ("an error was
// encountered while running the model") from a line of something else
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
