package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/export"
	"github.com/tokenloom/tokenloom/internal/palette"
	"github.com/tokenloom/tokenloom/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

func closedOllama(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

func runCLI(t *testing.T, ctx context.Context, o RunOptions) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	if o.Stdin == nil {
		o.Stdin = strings.NewReader("")
	}
	if o.OllamaURL == "" {
		o.OllamaURL = closedOllama(t)
	}
	code = Run(ctx, o)
	return code, out.String(), errOut.String()
}

func ptr[T any](v T) *T { return &v }

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestRunPlain(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo", "demo/flood"}, Prompt: "alpha beta gamma", PromptSet: true,
		MaxTokens: ptr(12),
	})
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if ansi.MatchString(out) {
		t.Errorf("plain output has ANSI escapes: %q", out)
	}
	// The echo's words and the flood's first words both appear, in some
	// interleaving; the summary has a row per stream and the wall line.
	for _, want := range []string{"alpha", " beta", " gamma", "lorem", "demo/echo", "demo/flood", "async run: wall time"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+1\s+demo/echo\s+3\s.*stop\s*$`).MatchString(out) {
		t.Errorf("no summary row for demo/echo with 3 tokens:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\s+2\s+demo/flood\s+12\s.*stop\s*$`).MatchString(out) {
		t.Errorf("no summary row for demo/flood with 12 tokens:\n%s", out)
	}
}

func TestRunColor(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo", "demo/echo"}, Prompt: "x\x1b[2Jy", PromptSet: true, Color: true,
	})
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for i := range 2 {
		if !strings.Contains(out, palette.Of(i).ANSI(false)+"x^[[2Jy"+palette.ANSIReset) {
			t.Errorf("stream %d's token is not in its colour with the escape made visible:\n%q", i, out)
		}
	}
}

func TestRunJSON(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo", "demo/hello"}, Prompt: "a b c", PromptSet: true, JSON: true, Sync: true,
	})
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	texts := map[string]string{}
	var events int
	var lastSeen []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var ev struct {
			Stream, Model, Event string
			Index                int
			ID                   int64
			Data                 struct {
				Seq  int64
				Text string
			}
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		if ev.Data.Seq != ev.ID || ev.Stream == "" {
			t.Errorf("line %q", line)
		}
		texts[ev.Model] += ev.Data.Text
		lastSeen = append(lastSeen, ev.Event)
		events++
	}
	if texts["demo/echo"] != "a b c" || texts["demo/hello"] != "Hello world" {
		t.Errorf("texts %q", texts)
	}
	if lastSeen[len(lastSeen)-1] != "done" || events < 8 {
		t.Errorf("%d events, ending %v", events, lastSeen)
	}
}

func TestRunPromptFromStdin(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo"}, Stdin: strings.NewReader("from stdin\n"),
	})
	if code != ExitOK || !strings.HasPrefix(out, "from stdin\n") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name   string
		o      RunOptions
		code   int
		stderr []string
	}{
		{"unknown demo", RunOptions{Models: []string{"demo/nope", "demo/echo"}, Prompt: "hi", PromptSet: true}, ExitStreamError,
			[]string{`stream 1 (demo/nope): model "demo/nope" not found`, "hint: demo sources"}},
		{"Ollama down", RunOptions{Models: []string{"llama3.2"}, Prompt: "hi", PromptSet: true}, ExitStreamError,
			[]string{"stream 1 (llama3.2): Ollama is not reachable at http://127.0.0.1:", "hint: start it with `ollama serve`"}},
		{"empty prompt", RunOptions{Prompt: "", PromptSet: true}, ExitUsage, []string{"tokenloom: empty prompt", "hint:"}},
		{"bad model name", RunOptions{Models: []string{"../x"}, Prompt: "hi", PromptSet: true}, ExitUsage, []string{`invalid model name "../x"`}},
		{"bad temperature", RunOptions{Prompt: "hi", PromptSet: true, Temperature: ptr(9.0)}, ExitUsage, []string{"temperature 9 out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, context.Background(), tt.o)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
		})
	}
}

// shutdownBound bounds how long Run and Serve take to return once their
// context ends. They promise about a second (the run's cancel, then the
// embedded server's Close, which gives subscribers half a second); the
// bound is thrice that, generous for a loaded machine, and still fails a
// command that waits for its streams to end on their own.
const shutdownBound = 3 * time.Second

// TestRunInterrupted cancels the context as SIGINT would: the run is
// cancelled, the summary printed, and Run returns quickly with 130. The
// sync run of hamlet and hello would take 5 s; the interrupt comes after
// 300 ms.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	interrupted := make(chan time.Time, 1)
	time.AfterFunc(300*time.Millisecond, func() {
		interrupted <- time.Now()
		cancel()
	})
	code, out, _ := runCLI(t, ctx, RunOptions{Models: []string{"demo/hamlet", "demo/hello"}, Prompt: "hi", PromptSet: true, Sync: true})
	took := time.Since(<-interrupted)
	t.Logf("Run returned %v after the interrupt", took)
	if took > shutdownBound {
		t.Errorf("Run returned %v after the interrupt, want about a second (bound %v)", took, shutdownBound)
	}
	if code != ExitInterrupted {
		t.Errorf("exit %d", code)
	}
	if n := strings.Count(out, "cancelled"); n != 2 {
		t.Errorf("summary shows %d cancelled streams:\n%s", n, out)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	urls := make(chan string, 1)
	done := make(chan int)
	go func() {
		done <- Serve(ctx, ServeOptions{Addr: "127.0.0.1:0", OllamaURL: closedOllama(t), Stdout: &out, Stderr: &errOut, Ready: func(u string) { urls <- u }})
	}()
	u := <-urls
	resp, err := http.Get(u + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
	began := time.Now()
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d", code)
	}
	took := time.Since(began)
	t.Logf("shutdown took %v", took)
	if took > shutdownBound {
		t.Errorf("shutdown took %v, want about a second (bound %v)", took, shutdownBound)
	}
	for _, want := range []string{"listening on " + u, "curl -N '" + u + "/events?stream=", "curl -s " + u + "/api/runs -d '{"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestServeRefusesNonLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Serve(context.Background(), ServeOptions{Addr: "0.0.0.0:0", Stdout: &out, Stderr: &errOut})
	if code != ExitUsage || !strings.Contains(errOut.String(), "loopback only") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestRunSave saves runs with --save: JSON that opens again, Markdown, and
// refusals — a bad extension before anything runs, an unwritable file after
// the run with exit status 2.
func TestRunSave(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		file   string
		code   int
		stderr string
		check  func(t *testing.T, path, stdout string)
	}{
		{"json", "run.json", ExitOK, "saved ", func(t *testing.T, path, _ string) {
			tr, err := export.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Streams) != 2 || tr.Streams[0].Text != "alpha beta" || tr.Streams[1].Stats.Tokens != 3 || !tr.Finished {
				t.Errorf("saved run %+v", tr)
			}
		}},
		{"markdown", "run.md", ExitOK, "saved ", func(t *testing.T, path, _ string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"# Tokenloom run r_", "| 1 | demo/echo | stop | 2 |", "### 2. demo/flood"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("report lacks %q:\n%s", want, b)
				}
			}
		}},
		{"bad extension", "run.txt", ExitUsage, `--save: cannot tell the format of`, func(t *testing.T, path, stdout string) {
			if stdout != "" {
				t.Errorf("the run started: %q", stdout)
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("%s written", path)
			}
		}},
		{"unwritable", "missing/run.json", ExitUsage, "could not save the run: save ", func(t *testing.T, _, stdout string) {
			if !strings.Contains(stdout, "alpha beta") {
				t.Errorf("the run did not run before the save failed: %q", stdout)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			code, out, errOut := runCLI(t, context.Background(), RunOptions{
				Models: []string{"demo/echo", "demo/flood"}, Prompt: "alpha beta", PromptSet: true, MaxTokens: ptr(3), Save: path,
			})
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errOut, tt.code, tt.stderr)
			}
			if code == ExitOK && !strings.Contains(errOut, "saved "+path+"\n") {
				t.Errorf("stderr %q does not say where it saved", errOut)
			}
			if tt.check != nil {
				tt.check(t, path, out)
			}
		})
	}
}

// TestReplay saves a run, then replays it: the same texts and summary in
// the terminal, the same exit status (1: a stream ended in an error), and
// NDJSON with --json; bad files and speeds exit with 2.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "run.json")
	code, _, _ := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo", "demo/nope"}, Prompt: "one two three", PromptSet: true, Save: saved,
	})
	if code != ExitStreamError {
		t.Fatalf("recording: exit %d", code)
	}
	orig, err := export.Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "run.md")
	if err := export.Save(report, orig); err != nil {
		t.Fatal(err)
	}

	replay := func(o ReplayOptions) (int, string, string) {
		var out, errOut bytes.Buffer
		o.Stdout, o.Stderr = &out, &errOut
		return Replay(t.Context(), o), out.String(), errOut.String()
	}
	t.Run("text", func(t *testing.T) {
		code, out, errOut := replay(ReplayOptions{Path: saved, Speed: 4})
		if code != ExitStreamError {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		if !strings.HasPrefix(out, "one two three\n") {
			t.Errorf("output does not start with the echo: %q", out)
		}
		for _, want := range []string{"async run replayed at 4×: wall time", "demo/nope"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^\s+1\s+demo/echo\s+3\s.*stop\s*$`).MatchString(out) {
			t.Errorf("no summary row for demo/echo with 3 tokens:\n%s", out)
		}
		if !strings.Contains(errOut, `stream 2 (demo/nope): model "demo/nope" not found`) {
			t.Errorf("stderr %q lacks the replayed error", errOut)
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, _ := replay(ReplayOptions{Path: saved, Speed: 16, JSON: true})
		if code != ExitStreamError {
			t.Errorf("exit %d", code)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		events := len(orig.Streams[0].Events) + len(orig.Streams[1].Events)
		if len(lines) != events {
			t.Errorf("%d NDJSON lines, want %d:\n%s", len(lines), events, out)
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Errorf("line %q is not JSON", l)
			}
		}
	})
	for _, tt := range []struct {
		name   string
		o      ReplayOptions
		stderr string
	}{
		{"missing file", ReplayOptions{Path: filepath.Join(dir, "nope.json"), Speed: 1}, "no such file"},
		{"Markdown", ReplayOptions{Path: report, Speed: 1}, "is a Markdown report"},
		{"speed 0", ReplayOptions{Path: saved}, "speed 0 out of range"},
		{"speed 100", ReplayOptions{Path: saved, Speed: 100}, "speed 100 out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := replay(tt.o)
			if code != ExitUsage || !strings.Contains(errOut, tt.stderr) || !strings.Contains(errOut, "hint:") {
				t.Errorf("exit %d, stderr %q; want 2 and %q with a hint", code, errOut, tt.stderr)
			}
		})
	}
}
