package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// The run store: the runs the server holds, the streams not yet ended, and
// the eviction of finished runs by age, by the store's size cap and to make
// room in the log budget. Its state is guarded by Server.mu.

// Refusals of launch.
var (
	errTooBusy = &refusal{status: 429, msg: "too many streams running", hint: "wait for running streams to end, or cancel some"}
	errClosed  = &refusal{status: 503, msg: "the server is shutting down", hint: "start Tokenloom again"}
)

// newRun makes a run of a validated request and its streams, not started.
func (s *Server) newRun(req wire.RunRequest) *run {
	r := &run{id: newID("r_"), req: req, clock: s.cfg.Clock, unfinished: len(req.Streams)}
	if req.Mode == wire.ModeSync {
		r.turns = newTurns(len(req.Streams), &s.waits)
	}
	for i, spec := range req.Streams {
		ctx, cancel := context.WithCancelCause(s.streamsLife)
		r.streams = append(r.streams, &stream{
			id: newID("s_"), index: i, spec: spec, run: r,
			ctx: ctx, cancel: cancel, max: s.cfg.MaxStreamEvents, budget: &s.budget,
			wake: make(chan struct{}),
		})
	}
	return r
}

// launch registers a run made by newRun and starts its streams; its run
// time starts now. It refuses with errTooBusy or errClosed.
func (s *Server) launch(r *run) (*run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusing {
		return nil, errClosed
	}
	if s.active+len(r.streams) > s.cfg.MaxActiveStreams {
		for _, st := range r.streams {
			st.cancel(nil)
		}
		return nil, &refusal{status: errTooBusy.status,
			msg: fmt.Sprintf("%s (at most %d at once)", errTooBusy.msg, s.cfg.MaxActiveStreams), hint: errTooBusy.hint}
	}
	s.active += len(r.streams)
	r.startedAt = r.clock.Now()
	s.runs[r.id] = r
	for _, st := range r.streams {
		s.streams[st.id] = st
	}
	s.streamWG.Add(len(r.streams))
	models := make([]string, len(r.streams))
	for i, st := range r.streams {
		models[i] = st.spec.Model
		go s.runStream(st)
	}
	s.log.Info("run started", "run", r.id, "mode", r.req.Mode, "replay_of", r.replayOf, "models", strings.Join(models, ","))
	return r, nil
}

// streamFinished does the bookkeeping of a stream that has logged its
// terminal event.
func (s *Server) streamFinished(st *stream) {
	st.mu.Lock()
	size := st.bytes
	st.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	r := st.run
	r.bytes += size
	r.unfinished--
	if r.unfinished > 0 {
		return
	}
	r.finishedAt = time.Now()
	s.log.Info("run finished", "run", r.id, "wall_ms", figures.RoundMs(r.since()))
	s.finished = append(s.finished, r)
	s.stored += r.bytes
	s.evictLocked(r.finishedAt)
}

// evictLocked drops finished runs past their TTL or beyond the size cap,
// oldest first.
func (s *Server) evictLocked(now time.Time) {
	for len(s.finished) > 0 {
		r := s.finished[0]
		if s.stored <= s.cfg.MaxStoreBytes && now.Sub(r.finishedAt) < s.cfg.RunTTL {
			return
		}
		s.dropOldestLocked()
	}
}

// makeRoom drops finished runs, oldest first, until need more bytes fit in
// the log budget or none is left; it reports whether it dropped any. It is
// the budget's makeRoom: the asking stream's lock is held, and the store's
// lock is taken after it (never the other way round).
func (s *Server) makeRoom(need int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	dropped := false
	for len(s.finished) > 0 && s.budget.used.Load()+need > s.budget.max {
		s.dropOldestLocked()
		dropped = true
	}
	return dropped
}

// The janitor hands the memory of dropped runs back to the system at once
// (rather than when Go's scavenger gets to it, minutes later) after
// releaseAfter bytes of them, or after releaseQuiet bytes once no stream
// runs and no subscriber reads: then nothing holds their logs any more, and
// a full collection costs little.
const (
	releaseAfter = 32 << 20
	releaseQuiet = 1 << 20
)

// dropOldestLocked drops the oldest finished run. Its memory is freed once
// no subscriber holds its streams.
func (s *Server) dropOldestLocked() {
	r := s.finished[0]
	s.finished[0] = nil
	s.finished = s.finished[1:]
	s.stored -= r.bytes
	s.budget.give(r.bytes)
	delete(s.runs, r.id)
	for _, st := range r.streams {
		delete(s.streams, st.id)
	}
	s.dropped += r.bytes
	s.droppedBusy += r.bytes
	s.maybeReleaseLocked()
}

// maybeReleaseLocked asks the janitor to hand the memory of dropped runs
// back to the system when enough of it has added up (see releaseAfter). A
// release while streams run or subscribers read frees only what nothing
// holds, so what was dropped is released again once all is quiet.
func (s *Server) maybeReleaseLocked() {
	quiet := s.active == 0 && s.following == 0
	switch {
	case quiet && s.dropped >= releaseQuiet:
		s.dropped, s.droppedBusy = 0, 0
	case s.droppedBusy >= releaseAfter:
		s.droppedBusy = 0
	default:
		return
	}
	select {
	case s.release <- struct{}{}:
	default:
	}
}

// janitor evicts expired runs while the server lives, and hands the memory
// of dropped runs back to the system.
func (s *Server) janitor() {
	defer s.wg.Done()
	every := min(s.cfg.RunTTL/4, time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			s.evictLocked(now)
			s.mu.Unlock()
		case <-s.release:
			debug.FreeOSMemory()
		}
	}
}

// StoreStats describes the run store.
type StoreStats struct {
	// Runs is the number of runs held, finished or not.
	Runs int
	// FinishedRuns is the number of finished runs held.
	FinishedRuns int
	// FinishedBytes is the memory of finished runs' logs.
	FinishedBytes int64
	// LogBytes is the memory of all logs, live and finished, charged to
	// Config.MaxLogBytes.
	LogBytes int64
	// ActiveStreams is the number of streams not yet ended.
	ActiveStreams int
	// WaitingStreams is the number of ActiveStreams blocked until another
	// stream ends: a sync run's streams before their turn, demo/oneslot's
	// streams queued behind the one it serves. They hold no timer of
	// Config.Clock, and a stream is off this count before it can run
	// again: a test that plays a fake clock forward advances it when every
	// other active stream waits for a timer (see
	// internal/testkit/fakeclock).
	WaitingStreams int
}

// Stats reports the run store's size.
func (s *Server) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Counted under s.mu: a stream is off the waiting count before the
	// stream that let it go is off the active one.
	return StoreStats{Runs: len(s.runs), FinishedRuns: len(s.finished), FinishedBytes: s.stored,
		LogBytes: s.budget.used.Load(), ActiveStreams: s.active, WaitingStreams: s.waits.count() + s.demo.waits.count()}
}

func (s *Server) lookupRun(id string) *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

func (s *Server) lookupStream(id string) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

func newID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}

// MemoryLimit is a soft memory limit (runtime/debug.SetMemoryLimit) for a
// process whose memory is mostly a server's with cfg: twice its log budget
// (the logs, and as much again for the garbage collector to work in) and
// 128 MiB for the rest. With the default budget, 640 MiB. Without a limit,
// Go lets the heap grow to twice what is live before it collects, on top
// of the logs' garbage: a soak of 64 streams filling the budget peaked at
// about 1 GB of RSS, and at about 660 MB with the limit
// (docs/performance.md). The limit is soft: a process that needs more gets
// it, at the cost of more collections.
func MemoryLimit(cfg Config) int64 {
	return 2*cfg.withDefaults().MaxLogBytes + 128<<20
}

// LimitMemory sets the process's soft memory limit to MemoryLimit(cfg)
// plus more, for what else the process holds, unless GOMEMLIMIT sets one.
// It is for programs whose memory is mostly this server's: tokenloom
// serve, and the desktop app with its views.
func LimitMemory(cfg Config, more int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit(cfg) + more)
	}
}

// mebibytes writes n bytes for a sentence: "256 MiB".
func mebibytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
