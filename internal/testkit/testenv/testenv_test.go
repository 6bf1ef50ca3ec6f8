package testenv

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "false": false, "": false, "yes": false} {
		t.Setenv("CI", v)
		if InCI() != want {
			t.Errorf("CI=%q: InCI() = %v", v, !want)
		}
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { fmt.Fprintf(&b, "%d", i%10) })
	}
	wg.Wait()
	if len(b.String()) != 10 {
		t.Errorf("buffer %q", b.String())
	}
}

func TestEventually(t *testing.T) {
	calls := 0
	Eventually(t, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func TestEventuallyGivesUp(t *testing.T) {
	r := &fatalRecorder{TB: t}
	eventually(r, "what never comes", func() bool { return false }, 20*time.Millisecond)
	if r.msg != "still waiting for what never comes after 20ms" {
		t.Errorf("failure %q", r.msg)
	}
}
