package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

func TestMain(m *testing.M) {
	if db := os.Getenv("TOKENLOOM_TEST_CHILD_RUN"); db != "" {
		os.Exit(historyChild(db))
	}
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
	for _, want := range []string{"alpha", " beta", " gamma", "lorem", "demo/echo", "demo/flood", "async run: 0."} {
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

// TestTextRendererLines feeds the renderer tokens of several streams in a
// set order: without colour each line of text begins with its stream's
// label, a new one whenever another stream writes or after a newline, and
// never one per token; one stream alone needs no label; in colour the
// streams run on unless the run is sync, where each starts on its own line.
func TestTextRendererLines(t *testing.T) {
	type tok struct {
		stream int
		text   string
	}
	interleaved := []tok{{0, "To be,"}, {1, "Hello"}, {0, " or"}, {0, " not\nto"}, {0, " be\n"}, {1, " world"}, {1, "!\n"}, {0, "that"}}
	c0, c1, reset := palette.Of(0).ANSI(false), palette.Of(1).ANSI(false), palette.ANSIReset
	tests := []struct {
		name  string
		color bool
		mode  string
		names []string
		toks  []tok
		want  string
	}{
		{"plain, async", false, "async", []string{"demo/hamlet", "demo/hello"}, interleaved,
			"[1 demo/hamlet] To be,\n[2 demo/hello] Hello\n[1 demo/hamlet]  or not\n[1 demo/hamlet] to be\n" +
				"[2 demo/hello]  world!\n[1 demo/hamlet] that\n"},
		{"plain, sync", false, "sync", []string{"demo/echo", "demo/echo"}, []tok{{0, "a"}, {0, " b"}, {1, "a"}, {1, " b\n"}},
			"[1 demo/echo] a b\n[2 demo/echo] a b\n"},
		{"plain, one stream", false, "async", []string{"demo/hamlet"}, []tok{{0, "To be,"}, {0, " or\nnot"}},
			"To be, or\nnot\n"},
		{"colour, async", true, "async", []string{"a", "b"}, []tok{{0, "x"}, {1, "y"}, {0, "z\n"}, {1, "w"}},
			c0 + "x" + reset + c1 + "y" + reset + c0 + "z\n" + reset + c1 + "w" + reset + "\n"},
		{"colour, sync", true, "sync", []string{"a", "b", "c"}, []tok{{0, "x"}, {0, "y"}, {1, "z\n"}, {2, "w"}},
			c0 + "x" + reset + c0 + "y" + reset + "\n" + c1 + "z\n" + reset + palette.Of(2).ANSI(false) + "w" + reset + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			r := newTextRenderer(&out, tt.color, false, tt.names, tt.mode)
			for _, tk := range tt.toks {
				r.token(tk.stream, tk.text)
			}
			r.finishLine()
			if out.String() != tt.want {
				t.Errorf("output\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}

// TestTurns: a sync run's events are shown one stream after another, in
// whatever order they arrive over the streams' connections; flush shows
// what is held back of streams behind one whose end never came.
func TestTurns(t *testing.T) {
	type arrival struct {
		stream int
		typ    string
		text   string
	}
	tests := []struct {
		name     string
		arrivals []arrival
		want     string // stream:text or stream:type, in the order shown
	}{
		{"in order", []arrival{{0, "token", "a"}, {0, "done", ""}, {1, "token", "x"}, {1, "done", ""}},
			"0:a 0:done 1:x 1:done"},
		{"later streams first", []arrival{{1, "token", "x"}, {0, "token", "a"}, {2, "token", "p"}, {1, "done", ""},
			{0, "token", "b"}, {2, "error", ""}, {0, "done", ""}},
			"0:a 0:b 0:done 1:x 1:done 2:p 2:error"},
		{"an end that never came", []arrival{{1, "token", "x"}, {0, "token", "a"}, {2, "token", "p"}},
			"0:a 1:x 2:p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shown []string
			order := newTurns(3, func(i int, ev client.Event) {
				what := ev.Text
				if what == "" {
					what = ev.Type
				}
				shown = append(shown, strconv.Itoa(i)+":"+what)
			})
			for _, a := range tt.arrivals {
				order.add(a.stream, client.Event{Type: a.typ, Text: a.text})
			}
			order.flush()
			if got := strings.Join(shown, " "); got != tt.want {
				t.Errorf("shown %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRunPlainLabels runs two streams at once without colour: every line
// of text begins with the label of its stream, each stream's text is whole
// once the labels and line breaks are taken out, and a stream's lines
// follow one another only where its text breaks the line.
func TestRunPlainLabels(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo", "demo/flood"}, Prompt: "alpha beta gamma delta", PromptSet: true, MaxTokens: ptr(30),
	})
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	text, _, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("no blank line before the summary:\n%s", out)
	}
	labels := []string{"[1 demo/echo] ", "[2 demo/flood] "}
	texts := make([][]string, 2)
	lines := make([]int, 2)
	runs := make([]int, 2) // runs of consecutive lines of one stream
	prev := -1
	for l := range strings.SplitSeq(text, "\n") {
		i := slices.IndexFunc(labels, func(label string) bool { return strings.HasPrefix(l, label) })
		if i < 0 {
			t.Fatalf("line %q has no stream label:\n%s", l, out)
		}
		texts[i] = append(texts[i], strings.TrimPrefix(l, labels[i]))
		lines[i]++
		if i != prev {
			runs[i]++
		}
		prev = i
	}
	// demo/flood breaks the line after every twelfth word: twice in 30.
	flood := strings.Fields(strings.Repeat("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ", 2))[:30]
	words := func(lines []string) string { return strings.Join(strings.Fields(strings.Join(lines, "\n")), " ") }
	if words(texts[0]) != "alpha beta gamma delta" || words(texts[1]) != strings.Join(flood, " ") {
		t.Errorf("texts without labels %q, want the echo and 30 words of the flood:\n%s", texts, out)
	}
	if lines[0] != runs[0] || lines[1] > runs[1]+2 {
		t.Errorf("%d and %d lines in %d and %d runs: a label where the stream went on:\n%s", lines[0], lines[1], runs[0], runs[1], out)
	}
}

// TestRunSyncLines: in sync mode each stream starts on its own line, with
// colour and without.
func TestRunSyncLines(t *testing.T) {
	c0, c1, reset := palette.Of(0).ANSI(false), palette.Of(1).ANSI(false), palette.ANSIReset
	for _, tt := range []struct {
		name  string
		color bool
		want  string
	}{
		{"plain", false, "[1 demo/echo] a b c\n[2 demo/flood] lorem ipsum dolor\n\n"},
		{"colour", true, c0 + " c" + reset + "\n" + c1 + "lorem" + reset + c1 + " ipsum" + reset},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, context.Background(), RunOptions{
				Models: []string{"demo/echo", "demo/flood"}, Prompt: "a b c", PromptSet: true, MaxTokens: ptr(3), Sync: true, Color: tt.color,
			})
			if code != ExitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output %q lacks %q", out, tt.want)
			}
		})
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
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var dones []*wire.Stats
	for _, line := range lines[:len(lines)-1] {
		var ev struct {
			Stream, Model, Event string
			Index                int
			ID                   int64
			Data                 struct {
				Seq   int64
				Text  string
				Stats *wire.Stats
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
		if ev.Event == "done" {
			dones = append(dones, ev.Data.Stats)
		}
	}
	if texts["demo/echo"] != "a b c" || texts["demo/hello"] != "Hello world" {
		t.Errorf("texts %q", texts)
	}
	if lastSeen[len(lastSeen)-1] != "done" || events < 8 || len(dones) != 2 {
		t.Errorf("%d events, ending %v", events, lastSeen)
	}

	// The last line sums the run up, from the streams' own stats.
	last := lines[len(lines)-1]
	sum := decodeSummary(t, last)
	if sum.Mode != "sync" || len(sum.Streams) != 2 {
		t.Fatalf("summary %s: want a sync run of 2 streams", last)
	}
	var busyMs float64
	for i, want := range []struct {
		model  string
		tokens int
	}{{"demo/echo", 3}, {"demo/hello", 2}} {
		got, st := sum.Streams[i], dones[i]
		if got.Index != i || !strings.HasPrefix(got.Stream, "s_") || got.Model != want.model || got.End != "stop" ||
			got.Tokens != want.tokens || st.Tokens != want.tokens || got.TTFTMs == nil || *got.TTFTMs != st.TTFTMs ||
			got.TokensPerS == nil || *got.TokensPerS != st.TokensPerS || got.DurationMs != st.DurationMs || got.Error != "" ||
			got.BusyMs != st.BusyMs || got.QueuedMs != 0 || got.Clock != wire.ClockServer {
			t.Errorf("summary of stream %d %+v, want %s's stats %+v", i, got, want.model, st)
		}
		busyMs += st.BusyMs
	}
	if math.Abs(sum.WorkMs-busyMs) > 0.001 || sum.WallMs != dones[1].EndMs {
		t.Errorf("summary %s: want work_ms %.3f, the sum of the busy times, and wall_ms %.3f, the last end", last, busyMs, dones[1].EndMs)
	}
	// Sync streams follow one another: no speed-up is claimed.
	if sum.Speedup != nil || sum.OverlapMs != 0 || sum.SavedMs != 0 || !strings.HasPrefix(sum.Headline, "sync run: "+fmt.Sprintf("%.2f s", sum.WallMs/1000)) {
		t.Errorf("summary %s: want no speed-up", last)
	}
}

// jsonSummary is the last line of --json.
type jsonSummary struct {
	Event     string
	Mode      string
	WallMs    float64 `json:"wall_ms"`
	WorkMs    float64 `json:"work_ms"`
	BusyMs    float64 `json:"busy_ms"`
	OverlapMs float64 `json:"overlap_ms"`
	SavedMs   float64 `json:"saved_ms"`
	Speedup   *float64
	Headline  string
	Note      string
	Streams   []struct {
		QueuedMs       float64 `json:"queued_ms"`
		BusyMs         float64 `json:"busy_ms"`
		Clock          string
		Index          int
		Stream, Model  string
		End            string
		Tokens         int
		ThinkingTokens int      `json:"thinking_tokens"`
		ThinkingMs     float64  `json:"thinking_ms"`
		TTFTMs         *float64 `json:"ttft_ms"`
		TokensPerS     *float64 `json:"tokens_per_s"`
		DurationMs     float64  `json:"duration_ms"`
		Error, Hint    string
	}
}

func decodeSummary(t *testing.T, line string) jsonSummary {
	t.Helper()
	var sum jsonSummary
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil || sum.Event != "summary" {
		t.Fatalf("last line %q is not the summary: %v", line, err)
	}
	return sum
}

// TestRunJSONSummaryOfFailures: a stream without tokens has no TTFT nor
// rate (null), an error its message and hint, and a run in which no stream
// produced a token no speed-up.
func TestRunJSONSummaryOfFailures(t *testing.T) {
	code, out, _ := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/nope"}, Prompt: "hi", PromptSet: true, JSON: true,
	})
	if code != ExitStreamError {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	sum := decodeSummary(t, last)
	if sum.Mode != "async" || sum.Speedup != nil || len(sum.Streams) != 1 {
		t.Fatalf("summary %s: want an async run of one stream without a speed-up", last)
	}
	st := sum.Streams[0]
	if st.End != "error" || st.Tokens != 0 || st.TTFTMs != nil || st.TokensPerS != nil ||
		st.Error != `model "demo/nope" not found` || !strings.Contains(st.Hint, "demo sources") {
		t.Errorf("summary %s: want the error and hint, no TTFT nor rate", last)
	}
	for _, field := range []string{`"ttft_ms":null`, `"tokens_per_s":null`, `"speedup":null`} {
		if !strings.Contains(last, field) {
			t.Errorf("summary %s lacks %s", last, field)
		}
	}
}

func TestRunPromptFromStdin(t *testing.T) {
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/echo"}, Stdin: strings.NewReader("from stdin\n"),
	})
	if code != ExitOK || !strings.HasPrefix(out, "from stdin\n") {
		t.Errorf("exit %d, output %q", code, out)
	}
	// Piped input needs no word of explanation (a terminal gets one:
	// TestRunPromptFromTerminal).
	if errOut != "" {
		t.Errorf("stderr %q, want nothing", errOut)
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
		{"unwritable", "missing/run.json", ExitFailed, "could not save the run: save ", func(t *testing.T, _, stdout string) {
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
		if !strings.HasPrefix(out, "[1 demo/echo] one two three\n") {
			t.Errorf("output does not start with the echo: %q", out)
		}
		for _, want := range []string{"async run replayed at 4×: 0.", "demo/nope"} {
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
		if len(lines) != events+1 {
			t.Errorf("%d NDJSON lines, want %d events and the summary:\n%s", len(lines), events, out)
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Errorf("line %q is not JSON", l)
			}
		}
		sum := decodeSummary(t, lines[len(lines)-1])
		if len(sum.Streams) != 2 || sum.Streams[0].Tokens != 3 || sum.Streams[1].End != "error" ||
			sum.Streams[1].Error != `model "demo/nope" not found` {
			t.Errorf("summary %s: want demo/echo's 3 tokens and demo/nope's error", lines[len(lines)-1])
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
