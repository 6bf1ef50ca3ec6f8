package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair: what is written to master, the
// program reads from slave as from a terminal. Both close when the test
// ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock the pseudo-terminal: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("number of the pseudo-terminal: %v", errno)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pseudo-terminal's slave: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestIsTerminal: only a terminal counts as one; a pipe, a file, /dev/null
// (a character device, but no terminal) and a reader that is no file do
// not.
func TestIsTerminal(t *testing.T) {
	_, tty := openPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	file, err := os.Create(t.TempDir() + "/prompt.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name string
		in   io.Reader
		want bool
	}{
		{"terminal", tty, true},
		{"pipe", r, false},
		{"/dev/null", devNull, false},
		{"file", file, false},
		{"reader", strings.NewReader("hi"), false},
		{"nil", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTerminal(tt.in); got != tt.want {
				t.Errorf("isTerminal = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRunPromptFromTerminal: without -p, on a terminal, the command says
// on stderr that it reads the prompt, then reads it up to Ctrl+D.
func TestRunPromptFromTerminal(t *testing.T) {
	master, tty := openPTY(t)
	// The terminal's line discipline hands the line over, then Ctrl+D at
	// the start of a line ends the input.
	if _, err := master.WriteString("hi there\n\x04"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, context.Background(), RunOptions{Models: []string{"demo/echo"}, Stdin: tty})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if errOut != promptFromStdinHint+"\n" {
		t.Errorf("stderr %q, want %q", errOut, promptFromStdinHint+"\n")
	}
	if !strings.HasPrefix(out, "hi there\n") {
		t.Errorf("output %q: want the prompt echoed", out)
	}
}
