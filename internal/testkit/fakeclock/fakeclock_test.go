package fakeclock_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestTimers: timers fire only when the clock is advanced, at their
// deadline, earliest first; stopped timers never fire; a timer of no
// duration fires at once.
func TestTimers(t *testing.T) {
	c := fakeclock.New(t0)
	late := c.NewTimer(3 * time.Second)
	early := c.NewTimer(time.Second)
	stopped := c.NewTimer(2 * time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Errorf("Stop of a pending timer, then again: want true, false")
	}
	select {
	case <-c.NewTimer(0).C():
	default:
		t.Errorf("a timer of 0 did not fire at once")
	}
	if c.Pending() != 2 {
		t.Fatalf("%d timers pending, want 2", c.Pending())
	}
	for _, want := range []struct {
		at    time.Duration
		timer interface{ C() <-chan time.Time }
	}{{time.Second, early}, {3 * time.Second, late}} {
		now, ok := c.AdvanceToNext()
		if !ok || !now.Equal(t0.Add(want.at)) || !c.Now().Equal(now) {
			t.Fatalf("advanced to %v (%v), want %v", now, ok, t0.Add(want.at))
		}
		select {
		case fired := <-want.timer.C():
			if !fired.Equal(now) {
				t.Errorf("timer fired with %v, want %v", fired, now)
			}
		default:
			t.Fatalf("timer due at %v did not fire", want.at)
		}
	}
	select {
	case <-stopped.C():
		t.Errorf("a stopped timer fired")
	default:
	}
	if _, ok := c.AdvanceToNext(); ok {
		t.Errorf("advanced with no timer pending")
	}
	if late.Stop() {
		t.Errorf("Stop of a fired timer reported true")
	}
}

// TestRunUntilIdle runs goroutines that each sleep a different schedule on
// the clock, at once: each wakes exactly at its deadlines, whatever the
// scheduling of the goroutines.
func TestRunUntilIdle(t *testing.T) {
	c := fakeclock.New(t0)
	schedules := [][]time.Duration{
		{10 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond},
		{15 * time.Millisecond, time.Millisecond},
		{0, 50 * time.Millisecond, 0, 1},
		{},
	}
	var running atomic.Int64
	running.Store(int64(len(schedules)))
	woke := make([][]time.Duration, len(schedules))
	var wg sync.WaitGroup
	for i, sched := range schedules {
		wg.Go(func() {
			defer running.Add(-1)
			start := c.Now()
			at := time.Duration(0)
			for _, d := range sched {
				at += d
				timer := c.NewTimer(start.Add(at).Sub(c.Now()))
				<-timer.C()
				woke[i] = append(woke[i], c.Now().Sub(start))
			}
		})
	}
	if err := c.RunUntilIdle(t.Context(), func() int { return int(running.Load()) }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, sched := range schedules {
		var want []time.Duration
		at := time.Duration(0)
		for _, d := range sched {
			at += d
			want = append(want, at)
		}
		if fmt.Sprint(woke[i]) != fmt.Sprint(want) {
			t.Errorf("goroutine %d woke at %v, want %v", i, woke[i], want)
		}
	}
	if got := c.Now().Sub(t0); got != 50*time.Millisecond+1 {
		t.Errorf("clock at %v after the last timer, want 50.000001ms", got)
	}
}

// TestPlay plays two rounds of sleepers, the second started once the first
// has ended, as an app starts its next run: Play waits through the gap
// without advancing, each sleeper wakes exactly at its deadline, and Play
// returns when its context ends.
func TestPlay(t *testing.T) {
	c := fakeclock.New(t0)
	var running atomic.Int64
	sleep := func(d time.Duration, woke *time.Duration) {
		defer running.Add(-1)
		<-c.NewTimer(d).C()
		*woke = c.Now().Sub(t0)
	}
	var first, second [2]time.Duration
	ctx, cancel := context.WithCancel(t.Context())
	played := make(chan error)
	go func() { played <- c.Play(ctx, func() int { return int(running.Load()) }) }()
	var round sync.WaitGroup
	running.Store(2)
	round.Go(func() { sleep(10*time.Millisecond, &first[0]) })
	round.Go(func() { sleep(30*time.Millisecond, &first[1]) })
	round.Wait()
	// Nothing runs: a timer made now is not played.
	idle := c.NewTimer(time.Hour)
	time.Sleep(5 * time.Millisecond)
	if c.Now() != t0.Add(30*time.Millisecond) || c.Pending() != 1 {
		t.Errorf("with nothing running the clock moved to %v (%d pending)", c.Now().Sub(t0), c.Pending())
	}
	idle.Stop()
	running.Store(2)
	round.Go(func() { sleep(5*time.Millisecond, &second[0]) })
	round.Go(func() { sleep(time.Millisecond, &second[1]) })
	round.Wait()
	cancel()
	if err := <-played; !errors.Is(err, context.Canceled) {
		t.Errorf("Play returned %v, want context.Canceled", err)
	}
	want := [2][2]time.Duration{{10 * time.Millisecond, 30 * time.Millisecond}, {35 * time.Millisecond, 31 * time.Millisecond}}
	if got := [2][2]time.Duration{first, second}; got != want {
		t.Errorf("woke at %v, want %v", got, want)
	}
}
