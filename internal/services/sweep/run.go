package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Hooks follow a sweep as it runs. Each is optional and runs on Run's
// goroutine, in order: Started, the step's events, then Stepped.
type Hooks struct {
	// Started is called when step k (from 0) of total has started: n
	// streams at once, the repeat-th time, as the server started them.
	Started func(k, total, n, repeat int, created *wire.RunCreated)
	// Event is called with each event of the running step, in the order
	// they arrive.
	Event func(client.IndexedEvent)
	// Stepped is called when a step has ended, with the sweep so far: its
	// last step is the one that ended. r is Run's, changed by the next
	// step: keep a copy (Clone), not r.
	Stepped func(r *Result)
}

// Run runs spec through the server of cl, one step at a time: every
// repeat of the first number of streams, then of the next. Each step is
// an async run of that many streams of the model; the next starts when it
// has ended. When ctx ends, the running step's run is cancelled and Run
// returns the steps that ended, with Stopped set. A step that cannot
// start ends the sweep with the error and the steps so far.
func Run(ctx context.Context, cl *client.Client, spec Spec, h Hooks) (*Result, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	r := &Result{ID: NewID(), Spec: spec, StartedAt: time.Now().UTC()}
	total := len(spec.Streams) * spec.Repeat
	k := 0
	for _, n := range spec.Streams {
		for rep := 1; rep <= spec.Repeat; rep++ {
			if ctx.Err() != nil {
				r.Stopped = true
				return r, nil
			}
			step, err := runStep(ctx, cl, spec, n, rep, k, total, h)
			k++
			if errors.Is(err, errStopped) {
				r.Stopped = true
				return r, nil
			}
			if err != nil {
				if step.Run != "" {
					r.Steps = append(r.Steps, step)
				}
				return r, err
			}
			r.Steps = append(r.Steps, step)
			if h.Stepped != nil {
				h.Stepped(r)
			}
		}
	}
	return r, nil
}

// errStopped is a step that ctx stopped.
var errStopped = errors.New("sweep stopped")

// runStep runs n streams at once and reads the step from the run's
// transcript.
func runStep(ctx context.Context, cl *client.Client, spec Spec, n, rep, k, total int, h Hooks) (Step, error) {
	req := wire.RunRequest{Prompt: spec.Prompt, Mode: wire.ModeAsync}
	for range n {
		opts := spec.Options
		req.Streams = append(req.Streams, wire.StreamSpec{Model: spec.Model, Endpoint: spec.Endpoint, Options: &opts})
	}
	created, err := cl.StartRun(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return Step{}, errStopped
		}
		return Step{}, fmt.Errorf("step %d of %d (%s): %w", k+1, total, figures.Plural(n, "stream"), err)
	}
	if h.Started != nil {
		h.Started(k, total, n, rep, created)
	}
	ids := make([]string, len(created.Streams))
	for i, s := range created.Streams {
		ids[i] = s.ID
	}
	events, err := cl.SubscribeAll(ctx, ids)
	if err == nil {
		for ev := range events {
			if h.Event != nil {
				h.Event(ev)
			}
		}
	}
	// Stopped: the run goes too, whatever its streams were doing. The
	// sweep's context is over, so the request gets one of its own.
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = cl.CancelRun(cctx, created.ID)
		return Step{}, errStopped
	}
	if err != nil {
		return Step{}, fmt.Errorf("step %d of %d: follow the streams: %w", k+1, total, err)
	}
	t, err := cl.Run(ctx, created.ID)
	if err != nil {
		if ctx.Err() != nil {
			return Step{}, errStopped
		}
		return Step{}, fmt.Errorf("step %d of %d: read the run: %w", k+1, total, err)
	}
	step := StepOf(t, n, rep)
	if step.Finished == 0 {
		// No stream finished: the next steps would fail alike (an unknown
		// model, a server gone).
		why := "no stream finished"
		for _, st := range t.Streams {
			if st.Error != "" {
				why = st.Error
				break
			}
		}
		return step, fmt.Errorf("step %d of %d (%s): %s", k+1, total, figures.Plural(n, "stream"), why)
	}
	return step, nil
}

// Clone is a copy of r that shares nothing with it.
func (r *Result) Clone() *Result {
	c := *r
	c.Spec.Streams = slices.Clone(r.Spec.Streams)
	c.Steps = make([]Step, len(r.Steps))
	for i, s := range r.Steps {
		s.TTFTs = slices.Clone(s.TTFTs)
		c.Steps[i] = s
	}
	return &c
}

// NewID names a new sweep: "w_" and 12 hex digits.
func NewID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "w_" + hex.EncodeToString(b[:])
}
