package server

import (
	"bytes"
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
	"syscall"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// OpenAI is the source of an OpenAI-compatible endpoint (vLLM, SGLang,
// llama.cpp's llama-server, LM Studio, a LiteLLM router, Ollama's /v1):
// POST {url}/chat/completions with stream: true, through the openai-go
// client, and GET {url}/models.
//
// The API key, read from the environment variable the endpoint names, goes
// into the Authorization header only: every message, hint, logged error and
// kept upstream line has it replaced by "[redacted]", in case a server
// repeats it.
type OpenAI struct {
	name, url string
	keyEnv    string
	key       string
	keyErr    error // the variable the endpoint names is not set
	http      *http.Client
	chat      openai.ChatCompletionService
	models    openai.ModelService
	// sourceOptions holds the silence limits (WithSilenceLimits).
	sourceOptions
}

var _ Source = (*OpenAI)(nil)

// NewOpenAI returns the source of endpoint e, whose kind is openai. The
// key is read from the environment now; a variable that is not set makes
// every stream and model list of the endpoint fail, saying so.
func NewOpenAI(e endpoints.Endpoint, opts ...SourceOption) *OpenAI {
	transport := &http.Transport{
		// A remote endpoint may sit behind the proxy of the environment;
		// loopback never does.
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	hc := &http.Client{Transport: tapTransport{next: watchedTransport{base: transport}}}
	o := &OpenAI{name: e.Name, url: e.URL, keyEnv: e.APIKeyEnv, http: hc, sourceOptions: newSourceOptions(opts)}
	o.key, o.keyErr = e.Key()
	// Services made without openai.NewClient take nothing from the
	// environment (OPENAI_API_KEY, OPENAI_BASE_URL, …): a key meant for
	// one server must never reach another.
	reqOpts := []option.RequestOption{
		option.WithBaseURL(e.URL),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // a failure shows at once, with its reason
	}
	if o.key != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(o.key))
	}
	o.chat = openai.NewChatCompletionService(reqOpts...)
	o.models = openai.NewModelService(reqOpts...)
	return o
}

// URL is the endpoint's base URL.
func (o *OpenAI) URL() string { return o.url }

// Close drops idle connections to the endpoint.
func (o *OpenAI) Close() { o.http.CloseIdleConnections() }

// where names the endpoint in a sentence.
func (o *OpenAI) where() string { return fmt.Sprintf("endpoint %q (%s)", o.name, o.url) }

// redact replaces the API key in s.
func (o *OpenAI) redact(s string) string {
	if o.key == "" {
		return s
	}
	return strings.ReplaceAll(s, o.key, "[redacted]")
}

func (o *OpenAI) redactBytes(b []byte) []byte {
	if o.key == "" || !bytes.Contains(b, []byte(o.key)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(o.key), []byte("[redacted]"))
}

// redactedError is a cause whose text has the key replaced, for logs.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// sourceError is a *SourceError with the key redacted everywhere.
func (o *OpenAI) sourceError(msg, hint string, cause error) *SourceError {
	se := &SourceError{Message: o.redact(msg), Hint: o.redact(hint)}
	if cause != nil {
		se.Err = &redactedError{err: cause, text: o.redact(cause.Error())}
	}
	return se
}

// noKey is the error of an endpoint whose key variable is not set.
func (o *OpenAI) noKey() *SourceError {
	return &SourceError{
		Message: fmt.Sprintf("%s: the environment variable %s, which should hold its API key, is not set", o.where(), o.keyEnv),
		Hint:    fmt.Sprintf("set %s before starting Tokenloom, or take key=env:%s off the endpoint if it needs no key", o.keyEnv, o.keyEnv),
	}
}

// Models lists the endpoint's models (GET /models).
func (o *OpenAI) Models(ctx context.Context) ([]wire.Model, error) {
	if o.keyErr != nil {
		return nil, o.noKey()
	}
	tap := &upstreamTap{redact: o.redactBytes}
	page, err := o.models.List(context.WithValue(ctx, tapKey{}, tap))
	if err != nil {
		return nil, o.classify(err, tap, "")
	}
	out := make([]wire.Model, 0, len(page.Data))
	for _, m := range page.Data {
		if m.ID == "" {
			continue
		}
		out = append(out, wire.Model{Name: m.ID, Source: wire.SourceOpenAI, Endpoint: o.name, Capabilities: []string{wire.CapabilityCompletion}})
	}
	slices.SortFunc(out, func(a, b wire.Model) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Generate streams one chat completion. The stream is in the prompt phase
// until its first token; reasoning (delta.reasoning_content or
// delta.reasoning) comes as thinking events, delta.content as tokens. The
// raw data lines of the reply go to emit's Upstream when it keeps them.
func (o *OpenAI) Generate(ctx context.Context, req Request, emit Emitter) (Result, error) {
	if o.keyErr != nil {
		return Result{}, o.noKey()
	}
	emit.Phase(wire.PhasePrompt)
	params := openAIParams(req)
	tap := &upstreamTap{redact: o.redactBytes}
	if rec, ok := emit.(upstreamRecorder); ok {
		tap.record = rec.Upstream
	}
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	reqCtx, quiet := watchSilence(context.WithValue(reqCtx, tapKey{}, tap), o.startTimeout, o.stallTimeout, cancel)
	emit.Sent()
	stream := o.chat.NewStreaming(reqCtx, params)
	defer stream.Close()

	var finish string
	var usage *wire.Usage
	var clock *ServerClock
	answering, thinking := false, false
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			u := chunk.Usage
			usage = &wire.Usage{PromptTokens: int(u.PromptTokens), CompletionTokens: int(u.CompletionTokens),
				ReasoningTokens: int(u.CompletionTokensDetails.ReasoningTokens), TotalTokens: int(u.TotalTokens)}
		}
		if f, ok := chunk.JSON.ExtraFields["timings"]; ok {
			if c := llamaCppClock(f.Raw()); c != nil {
				clock = c
			}
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue // one answer per stream: n is never asked for
			}
			if r := reasoningOf(ch.Delta); r != "" {
				if !thinking {
					emit.Phase(wire.PhaseThinking)
					thinking = true
				}
				emit.Thinking(r)
			}
			if c := ch.Delta.Content; c != "" {
				if !answering {
					emit.Phase(wire.PhaseGenerating)
					answering = true
				}
				emit.Token(c)
			}
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
	}
	quiet.stop()
	err := stream.Err()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	var silent *silentError
	if errors.As(context.Cause(reqCtx), &silent) {
		return Result{}, o.silenceError(silent)
	}
	if err != nil {
		return Result{}, o.classify(err, tap, req.Model)
	}
	if !tap.done {
		if tap.brokeOff() {
			return Result{}, o.brokeOff(tap, nil)
		}
		return Result{}, o.sourceError(
			fmt.Sprintf("%s closed the stream before its end (no data: [DONE])", o.where()),
			"the server may have stopped or crashed, or a proxy cut the reply; check the server's log", nil)
	}
	reason := wire.ReasonStop
	if finish == "length" {
		reason = wire.ReasonLength
	}
	return Result{Reason: reason, Usage: usage, Clock: clock}, nil
}

// llamaCppClock reads the timings of llama.cpp's server (llama-server),
// which its last chunk carries beside the OpenAI fields: prompt_ms and
// predicted_ms, the time it read the prompt and the time it generated.
// It says nothing of the time before, so the clock counts back from the
// last token. nil when raw holds neither.
func llamaCppClock(raw string) *ServerClock {
	var t struct {
		PromptMs    *float64 `json:"prompt_ms"`
		PredictedMs *float64 `json:"predicted_ms"`
	}
	if json.Unmarshal([]byte(raw), &t) != nil || t.PromptMs == nil || t.PredictedMs == nil ||
		*t.PromptMs < 0 || *t.PredictedMs < 0 {
		return nil
	}
	return &ServerClock{Prompt: durationOf(*t.PromptMs / 1000), Generation: durationOf(*t.PredictedMs / 1000), FromEnd: true}
}

// openAIParams is the request of req. Of the options, temperature and seed
// are sent as they are, num_predict above 0 as max_tokens (which every
// OpenAI-compatible server takes; max_completion_tokens is OpenAI's own),
// a think level as reasoning_effort. think on or off, num_ctx and rate
// have no counterpart and are not sent.
func openAIParams(req Request) openai.ChatCompletionNewParams {
	var msgs []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, openai.SystemMessage(req.System))
	}
	for _, t := range req.History {
		msgs = append(msgs, openai.UserMessage(t.Prompt), openai.AssistantMessage(t.Answer))
	}
	msgs = append(msgs, openai.UserMessage(req.Prompt))
	p := openai.ChatCompletionNewParams{
		Model:         req.Model,
		Messages:      msgs,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	opts := req.Options
	if opts.Temperature != nil {
		p.Temperature = openai.Float(*opts.Temperature)
	}
	if opts.Seed != nil {
		p.Seed = openai.Int(*opts.Seed)
	}
	if opts.NumPredict != nil && *opts.NumPredict > 0 {
		p.MaxTokens = openai.Int(int64(*opts.NumPredict))
	}
	if t := opts.Think; t != nil && t.Level() {
		p.ReasoningEffort = shared.ReasoningEffort(*t)
	}
	return p
}

// reasoningOf returns the reasoning in a delta: reasoning_content (vLLM,
// SGLang, llama-server, DeepSeek) or reasoning (Ollama, OpenRouter), which
// are not OpenAI's fields: they are read from the delta's raw JSON.
func reasoningOf(d openai.ChatCompletionChunkChoiceDelta) string {
	raw := d.RawJSON()
	if !strings.Contains(raw, `"reasoning`) {
		return ""
	}
	var v struct {
		ReasoningContent string `json:"reasoning_content"`
		Reasoning        string `json:"reasoning"`
	}
	if json.Unmarshal([]byte(raw), &v) != nil {
		return ""
	}
	if v.ReasoningContent != "" {
		return v.ReasoningContent
	}
	return v.Reasoning
}

// silenceError is the error of a request the endpoint left without a byte
// for too long.
func (o *OpenAI) silenceError(s *silentError) *SourceError {
	if s.began {
		return o.sourceError(fmt.Sprintf("%s sent nothing for %s in the middle of the reply", o.where(), humanDuration(s.after)),
			"the server may be stuck or overloaded; check its log", s)
	}
	return o.sourceError(fmt.Sprintf("%s sent nothing for %s after the request", o.where(), humanDuration(s.after)),
		"the server may be stuck, or still loading the model; check its log", s)
}

// classify turns the errors of a request to the endpoint into sentences a
// person can act on. tap saw the reply; model is "" for the list of models.
func (o *OpenAI) classify(err error, tap *upstreamTap, model string) error {
	if tap.status >= 400 {
		return o.statusError(tap.status, upstreamMessage(err, tap.errBody), tap.errBody, model, err)
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		msg := upstreamMessage(nil, streamErr.Event.Data)
		return o.sourceError(fmt.Sprintf("%s failed in the middle of the reply: %s", o.where(), truncate(msg, 200)),
			"see the server's log for details", err)
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typeErr) {
		return o.sourceError(fmt.Sprintf("%s sent a chunk Tokenloom cannot read: %s", o.where(), truncate(string(tap.lastData), 200)),
			"check that the URL points at an OpenAI-compatible API (…/v1)", err)
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr), errors.As(err, &opErr) && opErr.Op == "dial":
		return o.sourceError(fmt.Sprintf("%s is not reachable", o.where()),
			"check that the server is running and that the endpoint's URL is right", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		if len(tap.line) > 0 || tap.pending {
			return o.brokeOff(tap, err)
		}
		return o.sourceError(fmt.Sprintf("%s closed the connection in the middle of the reply", o.where()),
			"the server may have stopped or crashed; check its log", err)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return o.sourceError(fmt.Sprintf("%s is not reachable", o.where()),
			"check that the server is running and that the endpoint's URL is right", err)
	}
	return o.sourceError(fmt.Sprintf("%s failed: %s", o.where(), truncate(err.Error(), 200)), "see the server's log for details", err)
}

// brokeOff is the error of a reply that ended in the middle of an event:
// its last line, whole or not.
func (o *OpenAI) brokeOff(tap *upstreamTap, cause error) *SourceError {
	last := tap.lastData
	if len(tap.line) > 0 {
		last = o.redactBytes(bytes.Clone(tap.line))
	}
	return o.sourceError(fmt.Sprintf("the reply of %s broke off in the middle of an event: %s", o.where(), truncate(string(last), 200)),
		"the server may have stopped or crashed; check its log", cause)
}

// statusError is the error of an HTTP error status.
func (o *OpenAI) statusError(status int, msg string, body []byte, model string, cause error) *SourceError {
	what := fmt.Sprintf("%d %s", status, http.StatusText(status))
	detail := ""
	if msg != "" {
		detail = ": " + truncate(msg, 200)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		hint := "this endpoint needs an API key: add key=env:VARIABLE to its --endpoint flag, or \"api_key_env\" to endpoints.json, and set that variable"
		if o.keyEnv != "" {
			hint = fmt.Sprintf("check the API key in the environment variable %s", o.keyEnv)
		}
		return o.sourceError(fmt.Sprintf("%s refused the API key (%s)%s", o.where(), what, detail), hint, cause)
	case status == http.StatusNotFound && model != "" && json.Valid(bytes.TrimSpace(body)):
		// The server's own answer about the model; a 404 page that is
		// not JSON means the URL is not the API's.
		se := modelNotFound(model, fmt.Sprintf("list the models of endpoint %q (GET /api/models), or check the name", o.name))
		se.Message = o.redact(fmt.Sprintf("model %q not found at %s%s", model, o.where(), detail))
		se.Err = &redactedError{err: cause, text: o.redact(cause.Error())}
		return se
	case status == http.StatusNotFound:
		return o.sourceError(fmt.Sprintf("%s answered %s: no OpenAI API there", o.where(), what),
			"the URL should be the API's base, usually ending in /v1", cause)
	case status == http.StatusTooManyRequests:
		return o.sourceError(fmt.Sprintf("%s is limiting requests (%s)%s", o.where(), what, detail),
			"wait a moment and try again, or run fewer streams on this endpoint at once", cause)
	case status >= 500:
		return o.sourceError(fmt.Sprintf("%s failed (%s)%s", o.where(), what, detail), "see the server's log for details", cause)
	}
	return o.sourceError(fmt.Sprintf("%s refused the request (%s)%s", o.where(), what, detail),
		"the server may not take an option Tokenloom sent (temperature, seed, max_tokens, reasoning_effort), or the model name", cause)
}

// upstreamMessage finds what a server said in an error: the library's
// reading of {"error":{"message":…}}, else the message of another JSON
// shape ({"message":…}, {"error":"…"}, {"detail":…}), else a body that reads
// like a sentence.
func upstreamMessage(err error, body []byte) string {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return apiErr.Message
	}
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &v) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			return s
		case v.Message != "":
			return v.Message
		case v.Detail != nil:
			return fmt.Sprint(v.Detail)
		}
		return ""
	}
	if text := strings.TrimSpace(string(body)); looksLikeSentence(text) {
		return text
	}
	return ""
}
