// Package server is Tokenloom's embedded SSE server: the HTTP API of runs and
// streams, the token sources (Ollama and the built-in demos), and the event
// log every subscriber reads from.
//
// Each stream is owned by one goroutine that appends its events to a log
// kept by this package (not by r3labs/sse, whose replay log grows forever and
// rewrites ids). Each SSE subscriber gets a private r3labs/sse stream fed from
// that log, so a slow subscriber never slows its stream's source or other
// subscribers, late subscribers start at seq 0, and Last-Event-ID: n resumes
// after n exactly once. Finished runs are evicted after a TTL and beyond a
// size cap.
//
// A subscriber never falls behind the log. A stream's log keeps every event
// of the stream (Config.MaxStreamEvents stops a stream that would outgrow
// it, with an error event), and a connected subscriber holds on to its
// stream's log even after the run is evicted from the store, so one that
// reads nothing for a while catches up with every event once it reads. Only
// a subscriber that comes back after its run was evicted cannot resume: it
// gets a 404, which package client turns into an error event, never a
// silent gap.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
)

// Config sets up a Server. The zero value is ready to use.
type Config struct {
	// OllamaURL is the Ollama server; empty takes OLLAMA_HOST, and without
	// it http://127.0.0.1:11434.
	OllamaURL string
	// OllamaStartTimeout is how long an Ollama stream waits for the first
	// byte of Ollama's reply, which comes only once the model is loaded,
	// the requests ahead of it are served and the prompt is read. A stream
	// that waits longer ends with an error saying Ollama sent nothing for
	// that long. Default DefaultOllamaStartTimeout (10 minutes, so that a
	// big model loading from a slow disk is not cut off); negative: no
	// limit.
	OllamaStartTimeout time.Duration
	// OllamaStallTimeout is how long an Ollama stream waits for more bytes
	// once the reply has begun; a stream that waits longer ends with an
	// error saying Ollama sent nothing for that long. Default
	// DefaultOllamaStallTimeout (1 minute: Ollama sends each token as it is
	// made, every few seconds at worst); negative: no limit.
	OllamaStallTimeout time.Duration
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
	// MaxBodyBytes caps a request body. Default 1 MiB.
	MaxBodyBytes int64
	// MaxReplayBytes caps the body of POST /api/replays, which carries a
	// whole saved run. Default 64 MiB.
	MaxReplayBytes int64
	// MaxPromptBytes caps the prompt and the system prompt each. Default 256 KiB.
	MaxPromptBytes int
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
	// Clock stamps every event's t_ms and paces replays. Default
	// RealClock. The demo sources, eviction and timeouts use real time
	// whatever it is.
	Clock Clock
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.OllamaStartTimeout == 0 {
		c.OllamaStartTimeout = DefaultOllamaStartTimeout
	}
	if c.OllamaStallTimeout == 0 {
		c.OllamaStallTimeout = DefaultOllamaStallTimeout
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
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxReplayBytes <= 0 {
		c.MaxReplayBytes = 64 << 20
	}
	def(&c.MaxPromptBytes, 256<<10)
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

// Server is the embedded SSE server. Create it with New, then either Start
// it on a loopback address or mount Handler yourself; Close stops it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	demo    Demo
	ollama  *Ollama
	sources []route // by model name prefix; Ollama takes the rest
	sse     *sse.Server
	subs    sync.Map // r3labs stream id -> *subscription
	subSeq  atomic.Int64
	budget  logBudget

	// Close first stops the streams, so that subscribers still get their
	// terminal events, then the subscriptions.
	streamsLife context.Context // parent of every stream's context
	stopStreams context.CancelFunc
	streamWG    sync.WaitGroup  // stream goroutines
	life        context.Context // subscriptions and the janitor
	stopLife    context.CancelFunc
	wg          sync.WaitGroup // the janitor and the HTTP server's Serve
	handlers    sync.WaitGroup // GET /events handlers
	release     chan struct{}  // asks the janitor to hand freed memory back

	mu       sync.Mutex
	closed   bool
	refusing bool // new runs: after CancelStreams or Close
	runs     map[string]*run
	streams  map[string]*stream
	finished []*run // in the order they finished
	stored   int64  // bytes of finished runs
	active   int    // streams not ended
	dropped  int64  // bytes of runs dropped since the memory was last handed back

	port    atomic.Int32 // the listening port, once known
	httpSrv *http.Server
	ln      net.Listener
}

// New returns a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ol, err := NewOllama(cfg.OllamaURL, WithSilenceLimits(cfg.OllamaStartTimeout, cfg.OllamaStallTimeout))
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		ollama:  ol,
		runs:    map[string]*run{},
		streams: map[string]*stream{},
		release: make(chan struct{}, 1),
	}
	s.sources = []route{{DemoPrefix, s.demo}}
	s.budget = logBudget{max: cfg.MaxLogBytes, makeRoom: s.makeRoom}
	s.life, s.stopLife = context.WithCancel(context.Background())
	s.streamsLife, s.stopStreams = context.WithCancel(context.Background())
	s.sse = sse.New()
	s.sse.AutoReplay = false // the log is ours; r3labs's grows forever and rewrites ids
	s.sse.AutoStream = false
	s.sse.OnSubscribe = func(id string, _ *sse.Subscriber) {
		if sub, ok := s.subs.Load(id); ok {
			close(sub.(*subscription).subscribed)
		}
	}
	s.sse.OnUnsubscribe = func(id string, _ *sse.Subscriber) {
		if sub, ok := s.subs.Load(id); ok {
			close(sub.(*subscription).unsubscribed)
		}
	}
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// Ollama returns the server's Ollama source.
func (s *Server) Ollama() *Ollama { return s.ollama }

// Start listens on addr, which must be a loopback address ("127.0.0.1:8765",
// "[::1]:0", "localhost:0"); empty means 127.0.0.1 on a free port. It serves
// in the background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	switch host {
	case "localhost", "":
		host = "127.0.0.1"
	case "127.0.0.1", "::1":
	default:
		return fmt.Errorf("listen address %q: Tokenloom listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.port.Store(int32(ln.Addr().(*net.TCPAddr).Port))
	limited := newConnLimiter(ln, s.cfg.MaxConns)
	s.ln = limited
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext:       limited.connContext,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// maxHeaderBytes caps a request's headers: Tokenloom's clients send a few
// hundred bytes; net/http's default is 1 MiB. readHeaderTimeout bounds the
// time to send them.
const (
	maxHeaderBytes    = 64 << 10
	readHeaderTimeout = 10 * time.Second
)

// URL is the base URL of a started server, e.g. http://127.0.0.1:8765.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// shutdownGrace is how long Close lets subscribers read the terminal
// events of the streams it cancelled.
const shutdownGrace = 500 * time.Millisecond

// CancelStreams cancels every stream and refuses new runs, without waiting
// for anything: the first step of Close, for a caller that wants the
// streams (and their requests to Ollama) to end at once while it winds
// other things down before calling Close.
func (s *Server) CancelStreams() {
	s.mu.Lock()
	s.refusing = true
	s.mu.Unlock()
	s.stopStreams()
}

// Close cancels every stream, lets subscribers receive the cancelled
// streams' terminal events for up to half a second, then ends every
// connection and waits for its goroutines. It returns within about a second.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.refusing = true
	s.mu.Unlock()

	s.stopStreams()
	s.streamWG.Wait()
	var err error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if serr := s.httpSrv.Shutdown(ctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = serr
		}
		cancel()
	}
	// Subscribers that did not read their events in time are cut off.
	s.stopLife()
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	s.handlers.Wait()
	s.wg.Wait()
	s.sse.Close()
	s.ollama.Close()
	return err
}

// port returns the listening port as text, or "" before Start.
func (s *Server) portText() string {
	p := s.port.Load()
	if p == 0 {
		return ""
	}
	return strconv.Itoa(int(p))
}
