// Package server is Tokenloom's embedded SSE server: the HTTP API of runs and
// streams, the token sources (Ollama and the built-in demos), and the event
// log every subscriber reads from.
//
// Each stream is owned by one goroutine that appends its events to a log
// kept by this package (not by r3labs/sse, whose replay log grows forever and
// rewrites ids). Each SSE subscriber gets a private r3labs/sse stream fed from
// that log, so a slow subscriber never slows its stream's source or other
// subscribers, late subscribers start at seq 0, and Last-Event-ID: n resumes
// after n exactly once. Finished runs are evicted after a TTL, beyond a
// size cap, and to make room for live streams in the budget that all logs
// share (Config.MaxLogBytes).
//
// A subscriber never falls behind the log. A stream's log keeps every event
// of the stream (Config.MaxStreamEvents stops a stream that would outgrow
// it, with an error event), and a connected subscriber holds on to its
// stream's log even after the run is evicted from the store, so one that
// reads nothing for a while catches up with every event once it reads. Only
// a subscriber that comes back after its run was evicted cannot resume: it
// gets a 404, which package client turns into an error event, never a
// silent gap.
//
// No request can take the process down: a panic in a handler answers 500, a
// panic in a stream's source ends that stream with an error event, a panic
// while feeding a subscriber ends that response; the server goes on.
//
// Files: config.go the Config and its defaults; server.go the Server's life
// (New, Start, Close); store.go the run store and its eviction; run.go a
// run, its streams and the goroutine that owns each; log.go the event log
// and the log budget; events.go GET /events; http.go routing, guards and
// refusals; body.go reading request bodies; handlers.go the JSON
// endpoints; transcript.go GET /api/runs/{id} written as it goes;
// phases.go a stream's phases, exact at its end by its server's clock;
// validate.go what requests may ask; conns.go the cap on connections;
// clock.go the Clock of run times, demos and replays; waits.go the streams
// that wait for another (a sync run's turns, demo/oneslot's queue).
// Sources: source.go the Source interface and the routing of model names,
// options.go the options every source takes, demo.go with demoengine.go
// (the simulated machines of demo/shared and demo/oneslot), ollama.go with
// ollamamodels.go (its models and what they can do), ollamaerrors.go (its
// failures in sentences), silence.go (the silence limits) and queue.go (the
// queued phase), openai.go (an OpenAI-compatible endpoint) with upstream.go
// (its raw reply, kept per stream), endpoints.go the configured endpoints,
// and replay.go playing a saved run back.
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
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Server is the embedded SSE server. Create it with New, then either Start
// it on a loopback address or mount Handler yourself; Close stops it.
type Server struct {
	cfg    Config
	log    *slog.Logger
	demo   *Demo
	ollama *Ollama
	// waits counts the streams of sync runs waiting for their turn.
	waits   waitRoom
	sources []route // by model name prefix; Ollama takes the rest
	// endpoints are the configured endpoints, by name and in order.
	endpoints    map[string]*endpoint
	endpointList []*endpoint
	sse          *sse.Server
	subs         sync.Map // r3labs stream id -> *subscription
	subSeq       atomic.Int64
	budget       logBudget

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

	mu          sync.Mutex
	closed      bool
	refusing    bool // new runs: after CancelStreams or Close
	runs        map[string]*run
	streams     map[string]*stream
	finished    []*run // in the order they finished
	stored      int64  // bytes of finished runs
	active      int    // streams not ended
	dropped     int64  // bytes of runs dropped since the memory was last handed back when quiet
	droppedBusy int64  // bytes of runs dropped since the memory was last handed back
	following   int    // GET /events handlers running

	port    atomic.Int32 // the listening port, once known
	httpSrv *http.Server
	ln      net.Listener
}

// New returns a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ol, err := NewOllama(cfg.OllamaURL, WithSilenceLimits(cfg.StartTimeout, cfg.StallTimeout))
	if err != nil {
		return nil, err
	}
	byName, list, err := newEndpoints(cfg)
	if err != nil {
		ol.Close()
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		log:          cfg.Logger,
		ollama:       ol,
		endpoints:    byName,
		endpointList: list,
		runs:         map[string]*run{},
		streams:      map[string]*stream{},
		release:      make(chan struct{}, 1),
	}
	s.demo = NewDemo(WithClock(cfg.Clock))
	s.sources = []route{{wire.DemoPrefix, s.demo}}
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

// Config returns the server's configuration, with its defaults filled in.
func (s *Server) Config() Config { return s.cfg }

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
	for _, e := range s.endpointList {
		e.close()
	}
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
