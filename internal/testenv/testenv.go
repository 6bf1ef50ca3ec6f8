// Package testenv holds what Tokenloom's tests share about their
// environment: whether they run in CI, where tests must run rather than
// skip, the programs they need, and a buffer for the output of processes.
package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

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
