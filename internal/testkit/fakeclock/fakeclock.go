// Package fakeclock is a server.Clock for tests: its time moves only when
// the test advances it, so a replay's timing can be checked exactly and
// without waiting.
//
// With several streams playing at once, a test must advance only when every
// stream is blocked on a timer; otherwise a stream that has not yet asked for
// its next timer would find the time already past its deadline. RunUntilIdle
// does that: it waits until the number of pending timers equals the number
// of streams still running, then jumps to the earliest deadline.
package fakeclock

import (
	"context"
	"slices"
	"sync"
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

// RunUntilIdle plays the clock forward until running reports 0: each time
// as many timers are pending as running reports (every running stream is
// blocked on its timer), it advances to the next deadline. running is
// typically the server's Stats().ActiveStreams; between checks it waits a
// little real time for the streams to get to their next timer. running must
// not grow while it runs (start the streams first). It returns ctx's error
// if ctx ends first.
func (c *Clock) RunUntilIdle(ctx context.Context, running func() int) error {
	return c.RunUntil(ctx, running, func() bool { return false })
}

// RunUntil is RunUntilIdle that also stops, without advancing further, as
// soon as stop reports true at a point where every running stream is
// blocked on its timer (stop is checked before each advance).
func (c *Clock) RunUntil(ctx context.Context, running func() int, stop func() bool) error {
	for {
		// Read the timers first: running only goes down, so equal counts
		// mean every stream still running is blocked on a timer.
		pending := c.Pending()
		n := running()
		switch {
		case n == 0:
			return nil
		case pending == n:
			if stop() {
				return nil
			}
			c.AdvanceToNext()
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Microsecond):
		}
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
