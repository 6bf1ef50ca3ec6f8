package server

import (
	"log/slog"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
)

// Config sets up a Server. The zero value is ready to use.
type Config struct {
	// OllamaURL is the Ollama server; empty takes OLLAMA_HOST, and without
	// it http://127.0.0.1:11434.
	OllamaURL string
	// Endpoints are the named model servers besides the local Ollama
	// (internal/base/endpoints): a stream names one in StreamSpec.Endpoint. Their
	// API keys are read from the environment when New makes their sources.
	// Default: none.
	Endpoints []endpoints.Endpoint
	// StartTimeout is how long a stream of a model server (the local
	// Ollama and every endpoint, of either kind) waits for the first byte
	// of the server's reply, which comes only once the model is loaded,
	// the requests ahead of it are served and the prompt is read. A stream
	// that waits longer ends with an error saying the server sent nothing
	// for that long. Default DefaultStartTimeout (10 minutes, so that a
	// big model loading from a slow disk is not cut off); negative: no
	// limit. The demo sources and replays send no request and have none.
	StartTimeout time.Duration
	// StallTimeout is how long a stream of a model server (the local
	// Ollama and every endpoint) waits for more bytes once the reply has
	// begun; a stream that waits longer ends with an error saying the
	// server sent nothing for that long. Default DefaultStallTimeout (1
	// minute: model servers send each token as it is made, every few
	// seconds at worst); negative: no limit.
	StallTimeout time.Duration
	// RunTTL is how long a finished run stays readable. Default 30 minutes.
	RunTTL time.Duration
	// MaxStoreBytes caps the memory of finished runs' logs; the oldest are
	// evicted beyond it. Default 64 MiB.
	MaxStoreBytes int64
	// MaxLogBytes caps the memory of every stream's log together, live and
	// finished. When a live stream's next event would not fit, finished
	// runs are dropped, oldest first, to make room; when none is left, the
	// stream ends with an error saying the server's memory for events is
	// full. Default 256 MiB.
	MaxLogBytes int64
	// IdleTimeout closes a keep-alive connection that waits this long for
	// its next request. Default 30 s.
	IdleTimeout time.Duration
	// BodyTimeout is how long a request body may take to arrive; one that
	// takes longer is answered 408 and its connection closed. It does not
	// bound responses: an SSE stream lasts as long as its stream. Default
	// 30 s.
	BodyTimeout time.Duration
	// MaxConns caps the open connections. A request on a connection beyond
	// it is answered 503 and the connection closed; beyond it by
	// connSlack more, connections are closed as soon as they are accepted.
	// Default 512.
	MaxConns int
	// MaxBodyBytes caps a request body. Default 8 MiB: a run of
	// conversations carries each stream's.
	MaxBodyBytes int64
	// MaxReplayBytes caps the body of POST /api/replays, which carries a
	// whole saved run. Default 64 MiB.
	MaxReplayBytes int64
	// MaxPromptBytes caps the prompt and the system prompt each. Default 256 KiB.
	MaxPromptBytes int
	// MaxConversationBytes caps a stream's history: its earlier prompts
	// and answers together. Default 1 MiB.
	MaxConversationBytes int
	// MaxStreamsPerRun caps the streams of one run. Default 16.
	MaxStreamsPerRun int
	// MaxActiveStreams caps the streams not yet ended, over all runs.
	// Default 64.
	MaxActiveStreams int
	// MaxStreamEvents caps the events of one stream; a stream that reaches
	// it is stopped with an error. Default 250,000. A stream's log is never
	// trimmed (there is no ring buffer), so a connected subscriber cannot
	// fall behind it: however slow, it gets every event from the one it
	// asked for (see the package comment for one that comes back after its
	// run was evicted).
	MaxStreamEvents int
	// Version is reported by /healthz. Default "dev".
	Version string
	// Logger receives the server's log. Default: discard.
	Logger *slog.Logger
	// Clock stamps every event's t_ms, paces the demo sources and
	// replays, and is the demo sources' own account of a stream's time.
	// Default RealClock. Eviction, timeouts and the model servers use real
	// time whatever it is.
	Clock Clock
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	if c.RunTTL <= 0 {
		c.RunTTL = 30 * time.Minute
	}
	if c.MaxStoreBytes <= 0 {
		c.MaxStoreBytes = 64 << 20
	}
	if c.MaxLogBytes <= 0 {
		c.MaxLogBytes = 256 << 20
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 30 * time.Second
	}
	def(&c.MaxConns, 512)
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.MaxReplayBytes <= 0 {
		c.MaxReplayBytes = 64 << 20
	}
	def(&c.MaxPromptBytes, 256<<10)
	def(&c.MaxConversationBytes, 1<<20)
	def(&c.MaxStreamsPerRun, 16)
	def(&c.MaxActiveStreams, 64)
	def(&c.MaxStreamEvents, 250_000)
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = RealClock{}
	}
	return c
}
