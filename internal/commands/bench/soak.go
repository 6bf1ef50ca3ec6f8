package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// ChildSoak is the part that loads the server's memory: it runs in a
// process of its own, so that its RSS is the server's alone.
const ChildSoak = "soak"

// soakTTL is how long the soak's finished runs are kept: the soak waits
// for their eviction.
const soakTTL = 2 * time.Second

// soakResult is what the soak child prints: one JSON line.
type soakResult struct {
	// IdleRSSBytes is the process's RSS with the server started and idle;
	// PeakRSSBytes its peak (VmHWM) over the soak; AfterRSSBytes its RSS
	// one second after the last run was evicted.
	IdleRSSBytes  int64 `json:"idle_rss_bytes"`
	PeakRSSBytes  int64 `json:"peak_rss_bytes"`
	AfterRSSBytes int64 `json:"after_rss_bytes"`
	// PeakLogBytes is the most the logs held at once, as the server
	// counts them against its budget (MaxLogBytes).
	PeakLogBytes int64 `json:"peak_log_bytes"`
	LogBudget    int64 `json:"log_budget"`
	// Events is how many events the subscribers received; Stopped how
	// many streams the budget stopped.
	Events  int64   `json:"events"`
	Streams int     `json:"streams"`
	Stopped int     `json:"stopped"`
	Seconds float64 `json:"seconds"`
}

// runSoak starts c.SoakStreams demo/flood streams of c.SoakEvents events at
// once (in runs of at most 16 streams), follows each to its end, waits for
// the runs to be evicted and prints what the memory did.
func runSoak(ctx context.Context, c Config, stdout io.Writer) error {
	cfg := server.Config{RunTTL: soakTTL, MaxActiveStreams: c.SoakStreams}
	server.LimitMemory(cfg, 0) // as tokenloom serve does
	e, err := embedded.Start(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	res := soakResult{Streams: c.SoakStreams, IdleRSSBytes: rss()}

	// The stats are sampled while the streams run, for the peak of the
	// logs.
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			res.PeakLogBytes = max(res.PeakLogBytes, e.Server.Stats().LogBytes)
			select {
			case <-sampleCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	began := time.Now()
	var events, stopped atomic.Int64
	var wg sync.WaitGroup
	var errs []error
	var errMu sync.Mutex
	tokens := c.SoakEvents - 2 // a phase and the end
	zero := 0.0
	for first := 0; first < c.SoakStreams; first += 16 {
		req := wire.RunRequest{Prompt: "soak"}
		for range min(16, c.SoakStreams-first) {
			req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoFlood,
				Options: &wire.Options{NumPredict: &tokens, Rate: &zero}})
		}
		created, err := e.Client.StartRun(ctx, req)
		if err != nil {
			stopSampling()
			<-sampled
			return err
		}
		for _, st := range created.Streams {
			ch, err := e.Client.Subscribe(ctx, st.ID)
			if client.IsNotFound(err) {
				// It ended and was dropped to make room for the others
				// before it could be followed.
				stopped.Add(1)
				continue
			}
			if err != nil {
				stopSampling()
				<-sampled
				return err
			}
			wg.Go(func() {
				var last client.Event
				for ev := range ch {
					events.Add(1)
					last = ev
				}
				switch {
				case last.Type == wire.EventError && strings.Contains(last.Message, "memory"):
					stopped.Add(1)
				case last.Type != wire.EventDone:
					errMu.Lock()
					errs = append(errs, fmt.Errorf("stream %s ended %s: %s", st.ID, last.Type, last.Message))
					errMu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	stopSampling()
	<-sampled
	if err := errors.Join(errs...); err != nil {
		return err
	}
	res.Seconds = round(time.Since(began).Seconds(), 2)
	res.PeakRSSBytes = peakRSS()
	res.Events, res.Stopped = events.Load(), int(stopped.Load())
	res.LogBudget = e.Server.Config().MaxLogBytes

	for e.Server.Stats().Runs > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
	}
	res.AfterRSSBytes = rss()
	return json.NewEncoder(stdout).Encode(res)
}

// rss is the process's resident set size in bytes, from /proc/self/status
// (VmRSS); 0 where that is not available.
func rss() int64 { return procStatus("VmRSS:") }

// peakRSS is the process's peak resident set size in bytes, from
// /proc/self/status (VmHWM); 0 where that is not available.
func peakRSS() int64 { return procStatus("VmHWM:") }

// procStatus reads a size in kB from /proc/self/status.
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(l, key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
