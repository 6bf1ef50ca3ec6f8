package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tokenloom/tokenloom/internal/commands/cli"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// TestExitStatuses runs the commands into each exit status: every status
// has one meaning, whatever the command. (bench --check's
// cli.ExitMissedTarget is the bench package's test: it needs a bench run.)
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir) // no endpoints file of the user's
	t.Setenv("TOKENLOOM_HISTORY", filepath.Join(dir, "history.db"))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"done", []string{"run", "-m", "demo/echo", "-p", "hi"}, cli.ExitOK, ""},
		{"a stream's error", []string{"run", "-m", "demo/echo", "-m", "demo/nope", "-p", "hi"}, cli.ExitStreamError, `model "demo/nope" not found`},
		{"a step of a sweep that could not run", []string{"sweep", "-m", "demo/nope", "--streams", "1", "--no-history"}, cli.ExitStreamError, `model "demo/nope" not found`},
		{"a stream's error, compared", []string{"run", "--compare", "-m", "demo/nope", "-p", "hi", "--no-history"}, cli.ExitStreamError, `model "demo/nope" not found`},
		{"an unknown command", []string{"bogus"}, cli.ExitUsage, `unknown command "bogus"`},
		{"a wrong value", []string{"run", "--max-tokens", "x"}, cli.ExitUsage, "invalid value"},
		{"a model without its endpoint", []string{"run", "-m", "demo/echo@", "-p", "hi"}, cli.ExitUsage, "no endpoint after the @"},
		{"a request the server refuses", []string{"run", "-m", "../x", "-p", "hi"}, cli.ExitUsage, `invalid model name "../x"`},
		{"a sweep the server refuses", []string{"sweep", "-m", "../x", "--streams", "1", "--no-history"}, cli.ExitUsage, "invalid model name \"../x\"\n  hint: "},
		{"a file that is not a run", []string{"replay", filepath.Join(dir, "none.json")}, cli.ExitUsage, "no such file"},
		{"a picture too small", []string{"sweep", "-m", "demo/echo", "--picture-size", "10x10"}, cli.ExitUsage, "want 320x200 to 4000x3000"},
		{"a run not in the history", []string{"history", "show", "r_nope"}, cli.ExitNotFound, "no run r_nope in the history"},
		{"a run to continue not in the history", []string{"run", "--continue", "r_nope", "-p", "x"}, cli.ExitNotFound, "no run r_nope in the history"},
		{"a sweep not in the history", []string{"sweep", "--open", "w_nope"}, cli.ExitNotFound, `no sweep "w_nope"`},
		{"a file that cannot be written", []string{"run", "-m", "demo/echo", "-p", "hi", "--save", filepath.Join(dir, "missing", "run.json")}, cli.ExitFailed, "could not save the run"},
		{"a history that cannot be opened", []string{"history", "list"}, cli.ExitFailed, "tokenloom history: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == cli.ExitFailed && tt.args[0] == "history" {
				t.Setenv("TOKENLOOM_HISTORY", dir) // a folder, not a database
			}
			var out, errOut bytes.Buffer
			code := realMain(tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tt.code, errOut.String(), tt.want)
			}
			if httpStatus.MatchString(errOut.String()) {
				t.Errorf("stderr %q shows an HTTP status", errOut.String())
			}
		})
	}
	t.Run("a stream not in the run", func(t *testing.T) {
		var out, errOut bytes.Buffer
		var runs []struct{ ID string }
		if code := realMain([]string{"history", "list", "--json"}, strings.NewReader(""), &out, &errOut); code != cli.ExitOK ||
			json.Unmarshal(out.Bytes(), &runs) != nil || len(runs) == 0 {
			t.Fatalf("history list: exit %d, %q %q", code, out.String(), errOut.String())
		}
		errOut.Reset()
		id := runs[0].ID
		code := realMain([]string{"history", "diff", id + ":9", id}, strings.NewReader(""), io.Discard, &errOut)
		if want := "has no stream 9"; code != cli.ExitNotFound || !strings.Contains(errOut.String(), want) {
			t.Errorf("exit %d, want %d; stderr %q, want %q", code, cli.ExitNotFound, errOut.String(), want)
		}
	})
}

// httpStatus is how client.APIError.Error ends: for logs, not for people.
var httpStatus = regexp.MustCompile(`\[\d{3}\]`)

// TestExitInterrupted: Ctrl+C (SIGINT) stops a run, which prints what had
// arrived and exits with cli.ExitInterrupted.
func TestExitInterrupted(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("TOKENLOOM_HISTORY", "off")
	var errOut bytes.Buffer
	out := &signalOnWrite{}
	code := realMain([]string{"run", "-m", "demo/hamlet", "-p", "hi"}, strings.NewReader(""), out, &errOut)
	if code != cli.ExitInterrupted {
		t.Errorf("exit %d, want %d; stderr %q", code, cli.ExitInterrupted, errOut.String())
	}
	if s := out.String(); !strings.HasPrefix(s, "To") || strings.Contains(s, "the question") || !strings.Contains(s, "cancelled") {
		t.Errorf("stdout %q: want the tokens until Ctrl+C, not the whole text, and the stream cancelled", s)
	}
}

// signalOnWrite sends this process SIGINT on its first write: by then the
// command has set up its handling of signals.
type signalOnWrite struct {
	testenv.Buffer
	once sync.Once
}

func (w *signalOnWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { _ = syscall.Kill(os.Getpid(), syscall.SIGINT) })
	return w.Buffer.Write(p)
}
