// Package wire holds the JSON shapes of Tokenloom's HTTP and SSE contract
// (docs/protocol.md), shared by the server and the client so that both sides
// encode and decode exactly the same fields.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Event types of the SSE stream. Every stream ends with exactly one EventDone
// or EventError. A thinking model's reasoning comes as EventThinking, never
// mixed into EventToken, which is the answer.
const (
	EventPhase    = "phase"
	EventThinking = "thinking"
	EventToken    = "token"
	EventDone     = "done"
	EventError    = "error"
)

// Phases reported by phase events.
const (
	PhaseQueued     = "queued"     // with Ollama, which is serving another stream of the model first
	PhaseWaiting    = "waiting"    // sync mode: waiting for the previous stream to end
	PhaseLoading    = "loading"    // the model is being loaded into memory
	PhasePrompt     = "prompt"     // the model is reading the prompt
	PhaseThinking   = "thinking"   // a thinking model reasons before its answer
	PhaseGenerating = "generating" // the answer's tokens are being produced
)

// End reasons of done events.
const (
	ReasonStop      = "stop"      // the model finished on its own
	ReasonLength    = "length"    // the token limit (num_predict) was reached
	ReasonCancelled = "cancelled" // a client or the server cancelled the stream
)

// Modes of a run.
const (
	ModeAsync = "async" // every stream starts at once
	ModeSync  = "sync"  // streams run one after another
)

// Sources of models, as Model.Source names them.
const (
	SourceOllama = "ollama" // a model of the local Ollama
	SourceDemo   = "demo"   // a built-in demo source
	SourceOpenAI = "openai" // a model of an OpenAI-compatible endpoint
)

// Kinds of endpoints (EndpointStatus.Kind).
const (
	EndpointOllama = "ollama" // an Ollama server
	EndpointOpenAI = "openai" // an OpenAI-compatible server (/v1/chat/completions)
)

// Demo models: the built-in scripted sources, which need no Ollama.
const (
	DemoPrefix = "demo/" // starts the name of every demo model
	DemoHello  = "demo/hello"
	DemoHamlet = "demo/hamlet"
	DemoFlood  = "demo/flood"
	DemoEcho   = "demo/echo"
	DemoThink  = "demo/think"
	// DemoTask1 and DemoTask2 are the lesson's two tasks that mostly wait:
	// task 1 takes 2 s in three steps, task 2 takes 3 s in two; one token a
	// finished step.
	DemoTask1 = "demo/task1"
	DemoTask2 = "demo/task2"
	// DemoShared and DemoOneSlot make the other two regimes of async
	// visible: the streams of a run share one simulated engine (k at once
	// get 1/k of it each), or queue for a server that answers one request
	// at a time.
	DemoShared  = "demo/shared"
	DemoOneSlot = "demo/oneslot"
)

// Capabilities of a model (Model.Capabilities), as Ollama names them.
const (
	CapabilityCompletion = "completion"
	CapabilityThinking   = "thinking"
)

// EventData is the data line of every SSE event. Which fields are set depends
// on the event type; Seq and TMs are always set.
type EventData struct {
	// Seq is the event's sequence number in its stream, from 0; it is also the
	// SSE id.
	Seq int64 `json:"seq"`
	// Phase is set on phase events.
	Phase string `json:"phase,omitempty"`
	// Text is set on token and thinking events (it may be empty only on
	// the wire of a broken server; the server never sends empty tokens).
	Text string `json:"text,omitempty"`
	// TMs is milliseconds since the run started, stamped by the server when
	// it received the event from its source (microsecond precision).
	TMs float64 `json:"t_ms"`
	// Reason is set on done events.
	Reason string `json:"reason,omitempty"`
	// Stats is set on done events.
	Stats *Stats `json:"stats,omitempty"`
	// Message and Hint are set on error events: what went wrong, and what a
	// person can do about it.
	Message string `json:"message,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// Stats are a stream's figures, sent with its done event and kept in the
// transcript.
type Stats struct {
	// Tokens is the number of token events: the answer.
	Tokens int `json:"tokens"`
	// TTFTMs is the time from the stream's start (its turn, in sync mode) to
	// its first answer token, what a person waits for; 0 when no token
	// arrived.
	TTFTMs float64 `json:"ttft_ms"`
	// DurationMs is the time from the stream's start to its end; waiting for
	// its turn in sync mode does not count.
	DurationMs float64 `json:"duration_ms"`
	// TokensPerS is tokens per second of generation, the reasoning's and the
	// answer's together: all of them divided by the time after the first
	// (or by DurationMs for a single one).
	TokensPerS float64 `json:"tokens_per_s"`
	// ThinkingTokens is the number of thinking events; ThinkingTTFTMs the
	// time from the stream's start to the first of them; ThinkingMs the time
	// from the first to the answer's first token (or to the end, without
	// an answer). All 0 for a stream that did not think.
	ThinkingTokens int     `json:"thinking_tokens,omitempty"`
	ThinkingTTFTMs float64 `json:"thinking_ttft_ms,omitempty"`
	ThinkingMs     float64 `json:"thinking_ms,omitempty"`
	// QueuedMs is how long the stream was queued: its model server served
	// other requests first (the queued phases of Phases). 0 when it never
	// was.
	QueuedMs float64 `json:"queued_ms,omitempty"`
	// BusyMs is how long the model server worked on the stream: loading
	// its model, reading the prompt, thinking and generating (the
	// phases of Phases other than waiting and queued).
	BusyMs float64 `json:"busy_ms"`
	// Phases are the stream's phases from its first event to its end, in
	// order, none overlapping: the exact ones once the stream has ended.
	// With Clock ClockServer they come from the model server's own
	// durations; else they are what Tokenloom saw (the phase events).
	Phases []PhaseSpan `json:"phases,omitempty"`
	// Clock says where Phases, BusyMs and QueuedMs come from: ClockServer
	// or ClockObserved ("" in transcripts saved before it was known:
	// observed).
	Clock string `json:"clock,omitempty"`
	// LastTokenMs is when the last token (of the answer or the reasoning)
	// arrived, in run time: generation ends there, the stream a little
	// later. 0 without tokens.
	LastTokenMs float64 `json:"last_token_ms,omitempty"`
	// StartMs and EndMs are the stream's start and end in run time (t_ms).
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
	// Ollama holds Ollama's own final metrics, when the source is Ollama and
	// it finished.
	Ollama *OllamaStats `json:"ollama,omitempty"`
	// Usage holds the token counts an OpenAI-compatible endpoint reported
	// (stream_options.include_usage), when it did.
	Usage *Usage `json:"usage,omitempty"`
}

// Usage are the token counts of an OpenAI-compatible endpoint's final
// chunk, as it counts them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// ReasoningTokens is the part of CompletionTokens spent reasoning,
	// when the endpoint says (completion_tokens_details.reasoning_tokens).
	ReasoningTokens int `json:"reasoning_tokens,omitempty"`
	TotalTokens     int `json:"total_tokens"`
}

// Clocks of a stream's figures (Stats.Clock).
const (
	// ClockServer: the model server measured the stream and said so in its
	// last chunk (Ollama's durations, llama.cpp's timings), or the demo
	// source that played it knows its own schedule.
	ClockServer = "server"
	// ClockObserved: the server gave no clock of its own (or the stream
	// did not end normally): the figures are Tokenloom's observation of
	// the reply as it came.
	ClockObserved = "observed"
)

// PhaseSpan is one stretch of a stream in one phase, in run time.
type PhaseSpan struct {
	Phase   string  `json:"phase"`
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
}

// Busy reports whether the model server works on the stream in the phase:
// loading, prompt, thinking and generating; not waiting (its turn, in a
// sync run) nor queued (behind other requests).
func Busy(phase string) bool { return phase != PhaseWaiting && phase != PhaseQueued }

// OllamaStats are the metrics of Ollama's final chunk.
type OllamaStats struct {
	EvalCount            int   `json:"eval_count"`
	EvalDurationNs       int64 `json:"eval_duration_ns"`
	PromptEvalCount      int   `json:"prompt_eval_count"`
	PromptEvalDurationNs int64 `json:"prompt_eval_duration_ns"`
	LoadDurationNs       int64 `json:"load_duration_ns"`
	TotalDurationNs      int64 `json:"total_duration_ns"`
}

// Options tune one stream. Nil fields take the model's defaults.
type Options struct {
	// Temperature, 0 to 2.
	Temperature *float64 `json:"temperature,omitempty"`
	// Seed, 0 or more; with temperature > 0 it makes sampling repeatable.
	Seed *int64 `json:"seed,omitempty"`
	// NumPredict is the most tokens to generate; -1 means no limit.
	NumPredict *int `json:"num_predict,omitempty"`
	// NumCtx is the context window in tokens.
	NumCtx *int `json:"num_ctx,omitempty"`
	// Rate is the token rate of demo/flood in tokens per second; 0 means as
	// fast as possible. Other sources ignore it.
	Rate *float64 `json:"rate,omitempty"`
	// Think asks a thinking model to reason first, or not; nil leaves it
	// to the model (Ollama 0.12 and later think by default).
	Think *Think `json:"think,omitempty"`
}

// Think is Ollama's think option: on or off, or for the models that take
// levels (gpt-oss) how hard. On the wire it is true, false, "low",
// "medium" or "high".
type Think string

// Think values.
const (
	ThinkOn     Think = "true"
	ThinkOff    Think = "false"
	ThinkLow    Think = "low"
	ThinkMedium Think = "medium"
	ThinkHigh   Think = "high"
)

// Valid reports whether t is one of the Think values.
func (t Think) Valid() bool {
	switch t {
	case ThinkOn, ThinkOff, ThinkLow, ThinkMedium, ThinkHigh:
		return true
	}
	return false
}

// Level reports whether t is a level rather than on or off.
func (t Think) Level() bool { return t == ThinkLow || t == ThinkMedium || t == ThinkHigh }

// MarshalJSON writes on and off as the booleans and levels as strings.
func (t Think) MarshalJSON() ([]byte, error) {
	switch t {
	case ThinkOn, ThinkOff:
		return []byte(t), nil
	}
	return json.Marshal(string(t))
}

// UnmarshalJSON reads true, false or a level.
func (t *Think) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*t = ThinkOff
		if v {
			*t = ThinkOn
		}
	case string:
		if !Think(v).Level() {
			return fmt.Errorf("think %q: want true, false, \"low\", \"medium\" or \"high\"", v)
		}
		*t = Think(v)
	default:
		return fmt.Errorf("think %s: want true, false, \"low\", \"medium\" or \"high\"", b)
	}
	return nil
}

// StreamSpec asks for one stream of a run.
type StreamSpec struct {
	Model string `json:"model"`
	// Endpoint names the configured endpoint that serves Model; empty: the
	// local Ollama, or a demo source for demo/ names.
	Endpoint string   `json:"endpoint,omitempty"`
	Options  *Options `json:"options,omitempty"`
	// Label is a free name shown instead of the model name.
	Label string `json:"label,omitempty"`
	// History is the stream's conversation so far, oldest first: the run's
	// prompt is its next line. Each stream has its own: its model answered
	// it.
	History []Turn `json:"history,omitempty"`
}

// Turn is one exchange of a conversation: the user's line and the answer
// the model gave (without its reasoning).
type Turn struct {
	Prompt string `json:"prompt"`
	Answer string `json:"answer"`
}

// RunRequest is the body of POST /api/runs.
type RunRequest struct {
	Prompt  string       `json:"prompt"`
	System  string       `json:"system,omitempty"`
	Mode    string       `json:"mode,omitempty"` // "async" (default) or "sync"
	Streams []StreamSpec `json:"streams"`
}

// RunCreated is the answer to POST /api/runs.
type RunCreated struct {
	ID      string          `json:"id"`
	Mode    string          `json:"mode"`
	Streams []StreamCreated `json:"streams"`
}

// StreamCreated names one stream of a new run.
type StreamCreated struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	// Endpoint is the stream's endpoint, as StreamSpec named it.
	Endpoint string `json:"endpoint,omitempty"`
	Label    string `json:"label,omitempty"`
	Index    int    `json:"index"`
}

// LoggedEvent is one event as kept in a transcript.
type LoggedEvent struct {
	Event string          `json:"event"`
	ID    int64           `json:"id"`
	Data  json.RawMessage `json:"data"`
}

// Transcript is a run with every event of every stream: the answer to
// GET /api/runs/{id} and the export format.
type Transcript struct {
	ID        string    `json:"id"`
	Mode      string    `json:"mode"`
	Prompt    string    `json:"prompt"`
	System    string    `json:"system,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Finished  bool      `json:"finished"`
	WallMs    float64   `json:"wall_ms,omitempty"`
	// ReplayOf is the id of the run this one plays back, and Speed its
	// playback rate; both are unset on a run that is not a replay.
	ReplayOf string             `json:"replay_of,omitempty"`
	Speed    float64            `json:"speed,omitempty"`
	Streams  []StreamTranscript `json:"streams"`
}

// ReplayRequest is the body of POST /api/replays: a saved run to play back
// through the server with its original timing divided by Speed.
type ReplayRequest struct {
	// Transcript is the run, as GET /api/runs/{id} answers it.
	Transcript *Transcript `json:"transcript"`
	// Speed is the playback rate: 1 (the default when absent) is the
	// original timing, 2 twice as fast. From MinReplaySpeed to
	// MaxReplaySpeed.
	Speed *float64 `json:"speed,omitempty"`
}

// The slowest and the fastest playback rates of a replay.
const (
	MinReplaySpeed = 1.0 / 16
	MaxReplaySpeed = 16
)

// StreamTranscript is one stream of a Transcript.
type StreamTranscript struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	// Endpoint is the endpoint that served the stream; empty for the local
	// Ollama and the demo sources.
	Endpoint string   `json:"endpoint,omitempty"`
	Label    string   `json:"label,omitempty"`
	Index    int      `json:"index"`
	Options  *Options `json:"options,omitempty"`
	// History is the conversation the stream went on from, as its
	// StreamSpec sent it: the run's prompt and Text are its next turn.
	History []Turn `json:"history,omitempty"`
	Text    string `json:"text"`
	// Thinking is the stream's thinking events joined: its reasoning.
	Thinking string        `json:"thinking,omitempty"`
	Events   []LoggedEvent `json:"events"`
	Stats    *Stats        `json:"stats,omitempty"`
	// Error is the message of the stream's error event, if it ended in one.
	Error string `json:"error,omitempty"`
}

// Conversation is stream i's conversation as it stands after run t: the
// history the stream went on from, then t's prompt with the stream's
// answer. It is what a follow-up to the stream sends as its History. A
// stream that ended with no answer, and not by the model's own stop (it
// failed, or was stopped before its first token), adds no turn.
func (t *Transcript) Conversation(i int) []Turn {
	st := t.Streams[i]
	h := slices.Clone(st.History)
	if st.Text == "" && !st.stoppedByModel() {
		return h
	}
	return append(h, Turn{Prompt: t.Prompt, Answer: st.Text})
}

// stoppedByModel reports whether the stream's last event is done with
// reason stop.
func (st *StreamTranscript) stoppedByModel() bool {
	if len(st.Events) == 0 || st.Events[len(st.Events)-1].Event != EventDone {
		return false
	}
	var d struct {
		Reason string `json:"reason"`
	}
	return json.Unmarshal(st.Events[len(st.Events)-1].Data, &d) == nil && d.Reason == ReasonStop
}

// Error is the body of every 4xx/5xx answer.
type Error struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

// Health is the answer to GET /healthz.
type Health struct {
	OK      bool         `json:"ok"`
	Version string       `json:"version"`
	Ollama  OllamaHealth `json:"ollama"`
	// Endpoints are the configured endpoints, in their order, each with
	// whether it answers.
	Endpoints []EndpointStatus `json:"endpoints,omitempty"`
}

// EndpointStatus is one configured endpoint and whether it answers. It
// never holds an API key: only the name of the variable that holds it.
type EndpointStatus struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // EndpointOllama or EndpointOpenAI
	URL  string `json:"url"`
	// Reachable is true when the endpoint answered: its version (Ollama) or
	// its list of models (OpenAI-compatible).
	Reachable bool `json:"reachable"`
	// Version is the server's version, when it tells (Ollama does).
	Version string `json:"version,omitempty"`
	// Error and Hint say why it did not answer, and what to do.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// OllamaHealth tells whether Ollama answers.
type OllamaHealth struct {
	URL       string `json:"url"`
	Reachable bool   `json:"reachable"`
	Version   string `json:"version,omitempty"`
	Error     string `json:"error,omitempty"`
	Hint      string `json:"hint,omitempty"`
}

// Model is one entry of GET /api/models.
type Model struct {
	Name   string `json:"name"`
	Source string `json:"source"` // "ollama", "openai" or "demo"
	// Endpoint is the configured endpoint that serves the model; empty for
	// the local Ollama's models and the demo sources.
	Endpoint string `json:"endpoint,omitempty"`
	// Description says what a demo source does.
	Description   string     `json:"description,omitempty"`
	Size          int64      `json:"size,omitempty"`
	Family        string     `json:"family,omitempty"`
	ParameterSize string     `json:"parameter_size,omitempty"`
	Quantization  string     `json:"quantization,omitempty"`
	ModifiedAt    *time.Time `json:"modified_at,omitempty"`
	// Loaded is true when Ollama holds the model in memory.
	Loaded bool `json:"loaded,omitempty"`
	// Capabilities are what the model can do, as Ollama's /api/show says
	// (CapabilityThinking among them); empty when unknown.
	Capabilities []string `json:"capabilities,omitempty"`
}

// Models is the answer to GET /api/models.
type Models struct {
	Models      []Model `json:"models"`
	OllamaError string  `json:"ollama_error,omitempty"`
	OllamaHint  string  `json:"ollama_hint,omitempty"`
	// Endpoints are the configured endpoints, in their order, each with
	// whether it answered the list of its models.
	Endpoints []EndpointStatus `json:"endpoints,omitempty"`
}

// UpstreamFrames is the answer to GET /api/streams/{id}/upstream: the raw
// data lines of the SSE reply an OpenAI-compatible endpoint sent for the
// stream, the newest MaxUpstreamLines of them.
type UpstreamFrames struct {
	Stream   string `json:"stream"`
	Endpoint string `json:"endpoint,omitempty"`
	Kind     string `json:"kind,omitempty"` // the endpoint's kind; "" for the local Ollama and demo sources
	// Lines are the lines after ?after=N, oldest first.
	Lines []UpstreamLine `json:"lines"`
	// Next is the N of the line the upstream will send next: ask with
	// ?after=Next-1 for what comes after these.
	Next int64 `json:"next"`
	// Dropped is how many of the oldest lines are no longer kept.
	Dropped int64 `json:"dropped"`
	// Finished is true once the stream has ended: no line will follow.
	Finished bool `json:"finished"`
}

// UpstreamLine is one data line of the upstream's SSE reply.
type UpstreamLine struct {
	// N numbers the stream's upstream lines: 0, 1, 2, …
	N int64 `json:"n"`
	// TMs is when it arrived, in run time, on the clock of the events' t_ms.
	TMs float64 `json:"t_ms"`
	// Data is the line after "data:" and its space, as sent ("[DONE]" too).
	Data string `json:"data"`
}

// MaxUpstreamLines is how many upstream data lines a stream keeps.
const MaxUpstreamLines = 2000

// Marshal encodes v as one line of JSON without HTML escaping, so token text
// such as "<b>" stays readable on the wire. It never contains a raw newline:
// encoding/json escapes control characters inside strings.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Thinks reports whether the model can think before it answers.
func (m Model) Thinks() bool { return slices.Contains(m.Capabilities, CapabilityThinking) }
