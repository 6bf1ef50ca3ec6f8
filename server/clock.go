package server

import (
	"context"
	"math"
	"time"
)

// Clock is the server's time for run times (every event's t_ms), for the
// demo sources' scripts and for the playback of replays. Tests set a fake
// one in Config.Clock to play demo runs and replays without waiting, with
// exact figures; eviction, timeouts and the model servers keep real time.
// A Clock is used by many goroutines at once.
type Clock interface {
	// Now returns the current time. Run times are differences of two Now
	// values, so a real clock should carry a monotonic reading.
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C delivers the time once, when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// RealClock is the wall clock: time.Now and time.NewTimer.
type RealClock struct{}

var _ Clock = RealClock{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// sleep waits d on clock, or until ctx ends; it returns ctx's error then.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// durationOf converts seconds to a Duration, rounded to the nanosecond,
// saturating instead of overflowing: NaN and negative values are 0, and
// anything beyond the largest Duration (292 years) is the largest.
func durationOf(seconds float64) time.Duration {
	ns := math.Round(seconds * float64(time.Second))
	switch {
	case !(ns > 0):
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(ns)
}
