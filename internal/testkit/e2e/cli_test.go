package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// exitBound bounds how long the tokenloom binary takes to exit after SIGINT
// (`run`, `serve`) or SIGTERM (the app). It promises about a second: the
// streams are cancelled at once, then the embedded server closes, giving
// subscribers half a second. The bound is thrice that, generous for a
// loaded machine, and still fails an exit that waits for its streams, which
// run for a minute or more here.
const exitBound = 3 * time.Second

// cliEnv is this process's environment for the tokenloom binary, with
// OLLAMA_HOST set to ollamaHost and no other OLLAMA_ variable, then the
// "KEY=VALUE" overrides. It asks for colours the way a colour terminal
// would, so that only the output not being a terminal can turn them off,
// and sets an English locale (see TestCLILocale for the C locale). The
// runs it makes are not recorded in the user's history.
func cliEnv(ollamaHost string, overrides ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OLLAMA_"), strings.HasPrefix(k, "LC_"),
			k == "NO_COLOR", k == "TERM", k == "COLORTERM", k == "LANG", k == "LANGUAGE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "OLLAMA_HOST="+ollamaHost, "TERM=xterm-256color", "COLORTERM=truecolor", "LANG=en_US.UTF-8", "TOKENLOOM_HISTORY=off")
	return append(env, overrides...) // the last value of a key wins
}

// runCLI runs the tokenloom binary to its end and returns its output and
// exit status.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, tokenloomBin, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("tokenloom %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("tokenloom %s did not end within %v", strings.Join(args, " "), testenv.Patience)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// jsonLine is one line of `tokenloom run --json`.
type jsonLine struct {
	Stream string          `json:"stream"`
	Index  int             `json:"index"`
	Model  string          `json:"model"`
	Event  string          `json:"event"`
	ID     int64           `json:"id"`
	Data   json.RawMessage `json:"data"`
}

// eventData is the part of an event's data these tests read.
type eventData struct {
	Seq     int64       `json:"seq"`
	Text    string      `json:"text"`
	Reason  string      `json:"reason"`
	Message string      `json:"message"`
	Stats   *wire.Stats `json:"stats"`
}

// summaryRow finds the summary table's row of stream 1 and returns its
// fields: #, model, tokens, TTFT ms, tokens/s, duration, "s", end.
func summaryRow(t *testing.T, stdout string) []string {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "#" && i+1 < len(lines) {
			if row := strings.Fields(lines[i+1]); len(row) == 8 && row[0] == "1" {
				return row
			}
		}
	}
	t.Fatalf("no summary row of stream 1 in the output:\n%s", stdout)
	return nil
}

// TestCLIRun runs `tokenloom run` against the real Ollama, found through
// OLLAMA_HOST.
func TestCLIRun(t *testing.T) {
	o := ollamatest.Start(t)
	tiny := o.Model()
	notRunning := closedPort(t)

	tests := []struct {
		name     string
		host     string // OLLAMA_HOST
		args     []string
		wantCode int
		check    func(t *testing.T, stdout, stderr string)
	}{{
		name: "json", host: o.Host(), args: []string{"run", "-m", tiny, "-p", "The", "--json"},
		check: func(t *testing.T, stdout, stderr string) {
			var text strings.Builder
			var last jsonLine
			var data eventData
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			// The events, then the run's summary.
			summary := lines[len(lines)-1]
			lines = lines[:len(lines)-1]
			for i, l := range lines {
				var jl jsonLine
				if err := json.Unmarshal([]byte(l), &jl); err != nil {
					t.Fatalf("line %d %q is not JSON: %v", i+1, l, err)
				}
				data = eventData{}
				if err := json.Unmarshal(jl.Data, &data); err != nil {
					t.Fatalf("line %d: data %s: %v", i+1, jl.Data, err)
				}
				if jl.ID != int64(i) || data.Seq != jl.ID || jl.Model != tiny || jl.Index != 0 || !strings.HasPrefix(jl.Stream, "s_") {
					t.Errorf("line %d = %s: want id and seq %d of stream 0 of %s", i+1, l, i, tiny)
				}
				if jl.Event == wire.EventToken {
					text.WriteString(data.Text)
				}
				last = jl
			}
			if text.String() != testmodel.FoxSentence || last.Event != wire.EventDone || data.Reason != wire.ReasonStop {
				t.Errorf("tokens %q, last event %s %s: want %q and done stop", text.String(), last.Event, last.Data, testmodel.FoxSentence)
			}
			if s := data.Stats; s == nil || s.Tokens != 9 || s.Ollama == nil || s.Ollama.EvalCount != 10 {
				t.Fatalf("done stats %s: want 9 tokens and Ollama's eval_count 10", last.Data)
			}
			var sum struct {
				Event   string
				Mode    string
				WallMs  float64 `json:"wall_ms"`
				WorkMs  float64 `json:"work_ms"`
				Streams []struct {
					Model, End string
					Tokens     int
					TTFTMs     float64 `json:"ttft_ms"`
				}
			}
			if err := json.Unmarshal([]byte(summary), &sum); err != nil || sum.Event != "summary" || sum.Mode != wire.ModeAsync ||
				len(sum.Streams) != 1 || sum.Streams[0].Model != tiny || sum.Streams[0].End != wire.ReasonStop ||
				sum.Streams[0].Tokens != 9 || sum.Streams[0].TTFTMs != data.Stats.TTFTMs ||
				sum.WallMs != data.Stats.EndMs || sum.WorkMs != data.Stats.BusyMs || data.Stats.Clock != wire.ClockServer {
				t.Errorf("last line %s (%v): want the summary of the async run, %s's 9 tokens with the figures of %s", summary, err, tiny, last.Data)
			}
			if stderr != "" {
				t.Errorf("stderr: %q", stderr)
			}
		},
	}, {
		name: "text", host: o.Host(), args: []string{"run", "-m", tiny, "-p", "The"},
		check: func(t *testing.T, stdout, stderr string) {
			if strings.Contains(stdout, "\x1b") {
				t.Errorf("ANSI escapes in output to a pipe: %q", stdout)
			}
			if !strings.HasPrefix(stdout, testmodel.FoxSentence+"\n\n") {
				t.Errorf("output %q: want the reply, then the summary", stdout)
			}
			for _, col := range []string{"model", "tokens", "TTFT ms", "tokens/s", "duration", "end"} {
				if !strings.Contains(stdout, col) {
					t.Errorf("no column %q in the summary:\n%s", col, stdout)
				}
			}
			row := summaryRow(t, stdout)
			if row[1] != tiny || row[2] != "9" || row[7] != wire.ReasonStop {
				t.Errorf("summary row %q: want %s, 9 tokens, stop", row, tiny)
			}
			if !regexp.MustCompile(`(?m)^async run: \d+\.\d\d s wall time for \d+\.\d\d s of work$`).MatchString(stdout) {
				t.Errorf("no wall-time line in:\n%s", stdout)
			}
			if stderr != "" {
				t.Errorf("stderr: %q", stderr)
			}
		},
	}, {
		name: "unknown model", host: o.Host(), args: []string{"run", "-m", "nosuchmodel", "-p", "hi"}, wantCode: 1,
		check: func(t *testing.T, stdout, stderr string) {
			want := "tokenloom: stream 1 (nosuchmodel): model \"nosuchmodel\" not found\n  hint: run: ollama pull nosuchmodel\n"
			if stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
			if row := summaryRow(t, stdout); row[1] != "nosuchmodel" || row[7] != "error" {
				t.Errorf("summary row %q: want nosuchmodel ended in error", row)
			}
		},
	}, {
		name: "Ollama not running", host: notRunning, args: []string{"run", "-m", tiny, "-p", "The"}, wantCode: 1,
		check: func(t *testing.T, stdout, stderr string) {
			if !strings.Contains(stderr, "Ollama is not reachable at http://"+notRunning) || !strings.Contains(stderr, "ollama serve") {
				t.Errorf("stderr %q: want Ollama not reachable at http://%s and how to start it", stderr, notRunning)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, cliEnv(tt.host), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			tt.check(t, stdout, stderr)
		})
	}
}

// process is a tokenloom binary running in the background, its standard
// output collected as it comes.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
	stderr bytes.Buffer  // read it only after exited

	mu   sync.Mutex
	out  strings.Builder
	eof  bool          // stdout is closed
	wake chan struct{} // closed and replaced when out grows or at EOF
}

// startCLI starts the tokenloom binary; it is killed when the test ends if
// it is still running.
func startCLI(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(tokenloomBin, args...), exited: make(chan struct{}), wake: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = w, &p.stderr
	if err := p.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("start tokenloom: %v", err)
	}
	w.Close()
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer r.Close()
		// Read what comes as it comes: the text of `run` has no line
		// break until its end.
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.eof = err != nil
			close(p.wake)
			p.wake = make(chan struct{})
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-read
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// stdout returns what the process printed so far.
func (p *process) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitOutput waits until the standard output so far satisfies ok.
func (p *process) waitOutput(t *testing.T, what string, ok func(stdout string) bool) {
	t.Helper()
	timeout := time.After(testenv.Patience)
	for {
		p.mu.Lock()
		out, eof, wake := p.out.String(), p.eof, p.wake
		p.mu.Unlock()
		switch {
		case ok(out):
			return
		case eof:
			<-p.exited
			t.Fatalf("tokenloom exited (%v) without printing %s\nstdout:\n%s\nstderr:\n%s", p.cmd.ProcessState, what, out, p.stderr.String())
		}
		select {
		case <-wake:
		case <-timeout:
			t.Fatalf("tokenloom printed no %s within %v\nstdout:\n%s", what, testenv.Patience, out)
		}
	}
}

// waitLine waits for a complete line of standard output that matches re
// and returns its submatches.
func (p *process) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	p.waitOutput(t, "line like "+re.String(), func(out string) bool {
		for l := range strings.Lines(out) {
			if strings.HasSuffix(l, "\n") {
				if m = re.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
					return true
				}
			}
		}
		return false
	})
	return m
}

// interrupt sends SIGINT and returns how long the process took to exit.
func (p *process) interrupt(t *testing.T) time.Duration {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-p.exited:
		return time.Since(sent)
	case <-time.After(testenv.Patience):
		t.Fatalf("tokenloom still running %v after SIGINT", testenv.Patience)
		return 0
	}
}

var listeningLine = regexp.MustCompile(`^Tokenloom server listening on (http://127\.0\.0\.1:\d+) \(Ollama: (\S+)\)$`)

// TestCLIServe runs `tokenloom serve` on a free port with OLLAMA_HOST set,
// uses it, and stops it with SIGINT.
func TestCLIServe(t *testing.T) {
	o := ollamatest.Start(t)

	for _, following := range []bool{false, true} {
		name := "idle"
		if following {
			name = "while a stream is followed"
		}
		t.Run(name, func(t *testing.T) {
			p := startCLI(t, cliEnv(o.Host()), "serve", "--addr", "127.0.0.1:0")
			m := p.waitLine(t, listeningLine)
			url, ollamaURL := m[1], m[2]
			if ollamaURL != o.URL() {
				t.Errorf("serve uses Ollama at %s, want %s from OLLAMA_HOST", ollamaURL, o.URL())
			}
			cl, err := client.New(url)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx := testContext(t)
			ms, err := cl.Models(ctx)
			if err != nil {
				t.Fatalf("Models: %v", err)
			}
			if !hasModel(ms.Models, o.Model()+":latest", "ollama") || !hasModel(ms.Models, wire.DemoHello, "demo") {
				t.Errorf("models %v (ollama_error %q): want %s:latest and the demo sources", modelNames(ms.Models), ms.OllamaError, o.Model())
			}

			var stream <-chan client.Event
			subCtx, stopSub := context.WithCancel(ctx)
			defer stopSub()
			if following {
				// demo/hamlet runs about 3 s: it is still going at SIGINT.
				created, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: wire.DemoHamlet}}})
				if err != nil {
					t.Fatalf("StartRun: %v", err)
				}
				if stream, err = cl.Subscribe(subCtx, created.Streams[0].ID); err != nil {
					t.Fatalf("Subscribe: %v", err)
				}
				if ev := <-stream; ev.Type != wire.EventPhase {
					t.Fatalf("first event %+v, want a phase", ev)
				}
			}

			took := p.interrupt(t)
			t.Logf("exited %v after SIGINT", took)
			if took >= exitBound {
				t.Errorf("serve exited %v after SIGINT, want about a second (bound %v)", took, exitBound)
			}
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit status %d after SIGINT, want 0\nstderr:\n%s", code, p.stderr.String())
			}
			if _, err := cl.Health(ctx); err == nil {
				t.Errorf("the server still answers after exiting")
			}
			if stream != nil {
				// The server ends the stream it was serving: its follower
				// gets the terminal event, not a dropped connection. (Had
				// the server dropped it, the subscription would end with
				// the client's own error once it gave up reconnecting.)
				var evs events
				for ev := range stream {
					evs = append(evs, ev)
				}
				if l := evs.last(); l.Type != wire.EventDone || l.Reason != wire.ReasonCancelled || l.Local {
					t.Errorf("the followed stream ended with %v, want done %q from the server", evs, wire.ReasonCancelled)
				}
			}
		})
	}
}

// TestCLIRunInterrupt interrupts `tokenloom run` in the middle of a long
// Ollama stream: it exits within exitBound with status 130, having
// cancelled the stream and printed what arrived and the summary, and Ollama
// stops generating.
func TestCLIRunInterrupt(t *testing.T) {
	o := startLongOllama(t)
	p := startCLI(t, cliEnv(o.Host()), "run", "-m", longModel, "-p", "one", "--max-tokens", "100000")
	p.waitOutput(t, "start of the reply", func(out string) bool { return strings.HasPrefix(out, testmodel.Counting(3)) })
	busy := checkOllamaBusy(t, o)
	interrupted := time.Now()
	took := p.interrupt(t)
	t.Logf("exited %v after SIGINT", took)
	if took >= exitBound {
		t.Errorf("run exited %v after SIGINT, want about a second (bound %v)", took, exitBound)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status %d, want 130\nstderr:\n%s", code, p.stderr.String())
	}
	out := p.stdout()
	row := summaryRow(t, out)
	n, err := strconv.Atoi(row[2])
	if err != nil || row[7] != wire.ReasonCancelled || n <= 0 || n >= longCap {
		t.Fatalf("summary row %q: want the stream cancelled part way", row)
	}
	if !strings.HasPrefix(out, testmodel.Counting(n)+"\n") {
		t.Errorf("output %q…: want the %d counting tokens that arrived", out[:min(80, len(out))], n)
	}
	checkOllamaIdle(t, o, "SIGINT", interrupted, busy, leftAtLeast(longCap-n-inFlight))
}

// TestCLILocale runs `tokenloom run` in the C and POSIX locales, the
// default of many containers and CI machines: its standard error must stay
// free of anything but the run's own errors. The GUI toolkit linked into
// the binary must not complain about the locale of a terminal command.
func TestCLILocale(t *testing.T) {
	for _, lang := range []string{"C.UTF-8", "C", "POSIX"} {
		t.Run(lang, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, cliEnv(closedPort(t), "LANG="+lang), "run", "-m", wire.DemoEcho, "-p", "hi")
			if code != 0 || !strings.HasPrefix(stdout, "hi\n") {
				t.Errorf("exit status %d, stdout %q: want 0 and the echo", code, stdout)
			}
			if stderr != "" {
				t.Errorf("LANG=%s: stderr %q, want nothing", lang, stderr)
			}
		})
	}
}
