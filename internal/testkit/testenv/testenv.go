// Package testenv holds what Tokenloom's tests share about their
// environment: whether they run in CI, where tests must run rather than
// skip, the programs they need, a buffer for the output of processes, and
// how long a test waits for what must come (Patience, Eventually, and
// Leaks for goroutines that are still ending).
//
// The suite must pass on a busy machine, not only on an idle one: a test
// waits for the event it needs (a channel, a stream's terminal event, a
// process's exit), never for a time it guesses is enough. Where it must
// bound a wait, it bounds it by Patience, or by t.Context() and go test's
// -timeout.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Patience bounds a wait for an event that must come: a stream's end, a
// process's exit, a state that a poll waits for. It is no guess at the
// machine's speed: far longer than such a wait takes on the busiest
// machine, it only turns a hang into a failure that says what never came,
// well before go test's -timeout (30 minutes in scripts/test.sh) ends the
// whole package with a dump of its goroutines.
const Patience = 5 * time.Minute

// Eventually polls cond until it reports true, and fails the test, saying
// what it waited for, if that takes longer than Patience. It is for states
// that no event announces (a count that goes down, a run evicted from a
// store); where a channel or an event tells, wait for that instead. cond
// runs on the test's goroutine.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	eventually(t, what, cond, Patience)
}

// eventually is Eventually with its patience as a parameter, for its test.
func eventually(t testing.TB, what string, cond func() bool, patience time.Duration) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for delay := time.Millisecond; !cond(); delay = min(2*delay, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %v", what, patience)
			return
		}
		time.Sleep(delay)
	}
}

// InCI reports whether the environment variable CI is true, as in CI runs
// of scripts/test.sh.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// NeedTool finds a program a test needs. Without it the test skips, except
// in CI, where it fails: there the test must run.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is missing; scripts/test.sh installs it", name)
		}
		t.Skipf("%s is missing: run scripts/test.sh, which installs it", name)
	}
	return path
}

// Long skips a long test under -short, except in CI, where every test runs.
func Long(t testing.TB, why string) {
	t.Helper()
	if testing.Short() && !InCI() {
		t.Skip(why)
	}
}

// Leaks waits until goleak finds no goroutine left but those that opts
// ignore, and returns goleak's report if some are still there after
// Patience. goleak itself retries for about half a second only, while
// goroutines that end asynchronously (the reader of a closed connection,
// the callback of a timer) may take longer on a loaded machine.
func Leaks(opts ...goleak.Option) error {
	deadline := time.Now().Add(Patience)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}

// VerifyNoLeaks fails the test if Leaks reports goroutines left.
func VerifyNoLeaks(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	if err := Leaks(opts...); err != nil {
		t.Error(err)
	}
}

// VerifyTestMain is goleak.VerifyTestMain with the patience of Leaks: it
// runs the tests of m and, if they passed, fails the package when
// goroutines are left.
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		if err := Leaks(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Buffer is a bytes.Buffer safe for concurrent use, for the output of a
// process read while it runs.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
