// Package fakeclock is a server.Clock for tests: its time moves only when
// the test advances it, so the timing of a demo run or a replay can be
// checked exactly and without waiting.
//
// With several streams playing at once, a test must advance only when every
// stream is blocked on a timer; otherwise a stream that has not yet asked for
// its next timer would find the time already past its deadline. RunUntilIdle
// does that: it waits until the number of pending timers equals the number
// of streams still running, then jumps to the earliest deadline. A stream
// that waits for another (in a sync run, or queued on demo/oneslot) holds
// no timer: Playing counts the streams of a server that play on its clock.
package fakeclock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/server"
)

// Clock is a fake server.Clock. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer // pending: neither fired nor stopped
}

var _ server.Clock = (*Clock)(nil)

// New returns a clock that reads start until it is advanced.
func New(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches now + d; a
// timer with d <= 0 fires at once.
func (c *Clock) NewTimer(d time.Duration) server.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

// Pending is the number of timers that have neither fired nor been
// stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// AdvanceToNext sets the time to the earliest deadline of the pending
// timers and fires every timer due then. It reports false, and changes
// nothing, when no timer is pending.
func (c *Clock) AdvanceToNext() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return c.now, false
	}
	next := c.timers[0].at
	for _, t := range c.timers[1:] {
		if t.at.Before(next) {
			next = t.at
		}
	}
	c.now = next
	c.timers = slices.DeleteFunc(c.timers, func(t *timer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.ch <- c.now
		return true
	})
	return c.now, true
}

// Playing returns the number of srv's streams that play on its clock, for
// RunUntilIdle, RunUntil and Play: the streams not yet ended, less those
// waiting for another stream to end (server.StoreStats.WaitingStreams),
// which hold no timer.
func Playing(srv *server.Server) func() int {
	return func() int {
		st := srv.Stats()
		return st.ActiveStreams - st.WaitingStreams
	}
}

// RunUntilIdle plays the clock forward until running reports 0: each time
// as many timers are pending as running reports (every running stream is
// blocked on its timer), it advances to the next deadline. running is
// typically Playing(srv); between checks it waits a little real time for
// the streams to get to their next timer. No stream may start while it
// runs (start them first); one stream may let another go (a sync run's
// next stream) as long as running counts the other before the one ends. It
// returns ctx's error if ctx ends first.
func (c *Clock) RunUntilIdle(ctx context.Context, running func() int) error {
	return c.RunUntil(ctx, running, func() bool { return false })
}

// RunUntil is RunUntilIdle that also stops, without advancing further, as
// soon as stop reports true at a point where every running stream is
// blocked on its timer (stop is checked before each advance).
func (c *Clock) RunUntil(ctx context.Context, running func() int, stop func() bool) error {
	return c.run(ctx, running, stop, false)
}

// Play plays the clock forward as RunUntilIdle does, from one run to the
// next, until ctx ends: when nothing runs, it waits for streams to start
// instead of returning. It is for a test whose runs are started by the code
// under test (an app that starts its second run once its first has ended):
// run it on a goroutine of its own and end it with ctx. Streams may start
// only while running reports 0 (no stream plays), as they do when runs
// follow one another. It returns ctx's error.
func (c *Clock) Play(ctx context.Context, running func() int) error {
	return c.run(ctx, running, func() bool { return false }, true)
}

// run advances the clock each time every running stream waits for a timer,
// until running reports 0 (unless forever), stop reports true or ctx ends.
// Between checks it waits a little real time: 50 µs after a change, up to
// a millisecond while nothing changes.
func (c *Clock) run(ctx context.Context, running func() int, stop func() bool, forever bool) error {
	const minPause, maxPause = 50 * time.Microsecond, time.Millisecond
	pause := minPause
	lastPending, lastN := -1, -1
	for {
		// Read the timers first: between the two reads a stream takes a
		// timer only after it counts in running, and ends without one, so
		// equal counts mean every stream running is blocked on a timer.
		pending := c.Pending()
		n := running()
		switch {
		case n == 0 && !forever:
			return nil
		case n > 0 && pending == n:
			if stop() {
				return nil
			}
			c.AdvanceToNext()
			continue
		}
		if pending != lastPending || n != lastN {
			pause, lastPending, lastN = minPause, pending, n
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

type timer struct {
	c  *Clock
	at time.Time
	ch chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	n := len(t.c.timers)
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *timer) bool { return x == t })
	return len(t.c.timers) < n
}

// PlayDuring plays the clock for the streams of srv (Play with
// Playing(srv)) on a goroutine of its own until tb's test ends; the play
// stops before the cleanups registered earlier run (a server's close among
// them).
func (c *Clock) PlayDuring(tb testing.TB, srv *server.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	played := make(chan struct{})
	go func() {
		defer close(played)
		_ = c.Play(ctx, Playing(srv))
	}()
	tb.Cleanup(func() {
		cancel()
		<-played
	})
}
