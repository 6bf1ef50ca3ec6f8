package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/base/worddiff"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
)

func openHistoryStore(t *testing.T, path string) *history.Store {
	t.Helper()
	s, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHistoryRecordsRun: run records its run as it streams; the history
// gives back the transcript that --save wrote, but for the start, which
// the client stamps.
func TestHistoryRecordsRun(t *testing.T) {
	dir := t.TempDir()
	db, saved := filepath.Join(dir, "history.db"), filepath.Join(dir, "run.json")
	code, _, errOut := runCLI(t, t.Context(), RunOptions{
		Models: []string{"demo/echo", "demo/flood", "llama3.2"}, Prompt: "alpha beta gamma", PromptSet: true,
		MaxTokens: ptr(12), System: "terse", History: db, Save: saved,
	})
	if code != ExitStreamError { // llama3.2: no Ollama there
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, "history") {
		t.Errorf("stderr speaks of the history: %q", errOut)
	}
	want, err := export.Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	s := openHistoryStore(t, db)
	runs, err := s.List(t.Context(), history.Query{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	if r := runs[0]; r.ID != want.ID || r.State != history.StateFinished || r.WallMs != want.WallMs ||
		strings.Join(r.Models, " ") != "demo/echo demo/flood llama3.2" {
		t.Errorf("summary %+v", r)
	}
	got, err := s.Get(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.StartedAt.Sub(want.StartedAt).Abs(); d > time.Second {
		t.Errorf("started at %v, the server says %v", got.StartedAt, want.StartedAt)
	}
	got.StartedAt = want.StartedAt
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("the history's run differs from the saved one:\n got %s\nwant %s", g, w)
	}
	if found, _ := s.Search(t.Context(), "gamma", 0); len(found) != 1 {
		t.Errorf("search of the echo: %+v", found)
	}
}

func TestHistoryRecordsBothRunsOfCompare(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	code, _, errOut := runCLI(t, t.Context(), RunOptions{Models: []string{"demo/echo", "demo/flood"}, Prompt: "one two", PromptSet: true,
		MaxTokens: ptr(5), Compare: true, History: db})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	runs, err := openHistoryStore(t, db).List(t.Context(), history.Query{})
	if err != nil || len(runs) != 2 || runs[0].Mode != wire.ModeAsync || runs[1].Mode != wire.ModeSync {
		t.Fatalf("runs %+v, %v", runs, err)
	}
}

// TestHistoryNotOpened: without a history the run is not recorded; a
// history that cannot be opened leaves the run unrecorded, saying why.
func TestHistoryNotOpened(t *testing.T) {
	t.Setenv(history.EnvVar, "off")
	if p := HistoryFile(new(bytes.Buffer)); p != "" {
		t.Errorf("HistoryFile with %s=off: %q", history.EnvVar, p)
	}
	newer := filepath.Join(t.TempDir(), "newer.db")
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := runCLI(t, t.Context(), RunOptions{Models: []string{"demo/echo"}, Prompt: "still runs", PromptSet: true, History: newer})
	if code != ExitOK || !strings.Contains(out, "runs") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, want := range []string{"made by a newer Tokenloom (schema 99)", "this run is not recorded", "--no-history"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %q", want, errOut)
		}
	}
}

// TestHistoryKill9: a run killed with SIGKILL in the middle of its stream
// is in the history at the next open, up to its last batch, incomplete.
func TestHistoryKill9(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	words := make([]string, 2000) // demo/echo says 10 a second: 200 s
	for i := range words {
		words[i] = "w" + strings.Repeat("x", i%7)
	}
	prompt := strings.Join(words, " ")
	cmd := exec.Command(os.Args[0]) // TestMain runs historyChild in it
	cmd.Env = append(os.Environ(), "TOKENLOOM_TEST_CHILD_RUN="+db, "TOKENLOOM_TEST_CHILD_PROMPT="+prompt)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	// Wait until the file holds some tokens, read as another process would.
	var seen int
	testenv.Eventually(t, "20 events of the run in the history", func() bool {
		seen = countRecorded(t, db)
		return seen >= 20
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	if strings.Contains(out.String(), "wall time") || strings.Contains(out.String(), "PASS") {
		t.Fatalf("the child ended before it was killed:\n%s", out.String())
	}

	s := openHistoryStore(t, db)
	if n := s.Notices(); len(n) != 1 || !strings.Contains(n[0], "1 run was cut off") {
		t.Errorf("notices %q", n)
	}
	runs, err := s.List(t.Context(), history.Query{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	if runs[0].State != history.StateIncomplete {
		t.Errorf("the killed run is %s", runs[0].State)
	}
	tr, err := s.Get(t.Context(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.Streams[0]
	if tr.Finished || len(st.Events) < seen || st.Stats != nil {
		t.Errorf("finished %v, %d events (%d seen before the kill), stats %v", tr.Finished, len(st.Events), seen, st.Stats)
	}
	for i, e := range st.Events {
		if e.ID != int64(i) || e.Event == wire.EventDone {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	// What was kept is the start of what the child printed, which is the
	// start of the prompt.
	printed := out.String()
	if !strings.HasPrefix(prompt, st.Text) || len(st.Text) < 20 || !strings.Contains(printed, st.Text) {
		t.Errorf("kept text %q; printed:\n%.500s", st.Text, printed)
	}
	t.Logf("%d events seen before the kill, %d kept; text of %d bytes", seen, len(st.Events), len(st.Text))
}

// countRecorded counts the events in the history at path, through a
// connection of its own; 0 before the file has its tables.
func countRecorded(t *testing.T, path string) int {
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0
	}
	return n
}

// historyChild is the process TestHistoryKill9 kills (TestMain runs it
// when TOKENLOOM_TEST_CHILD_RUN names a history): a run of demo/echo over
// a long prompt, recorded in that history. It returns only if the run
// ends before it is killed, which is a failure.
func historyChild(db string) int {
	Run(context.Background(), RunOptions{Models: []string{"demo/echo"}, Prompt: os.Getenv("TOKENLOOM_TEST_CHILD_PROMPT"), PromptSet: true,
		History: db, OllamaURL: "http://127.0.0.1:1", Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr})
	fmt.Fprintln(os.Stderr, "the run ended before it was killed")
	return 1
}

// TestHistoryCommands: list, search, show, export, rm and import of the
// history subcommand.
func TestHistoryCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	run := transcripttest.Run()
	cut := transcripttest.Run()
	cut.ID, cut.Prompt, cut.Finished, cut.WallMs = "r_cut", "An interrupted question about comets", false, 0
	cut.Streams = cut.Streams[:1]
	cut.Streams[0].Events = cut.Streams[0].Events[:2]
	cut.Streams[0].Text, cut.Streams[0].Stats = "Hello", nil
	cut.StartedAt = run.StartedAt.Add(time.Hour)
	s := openHistoryStore(t, db)
	for _, tr := range []*wire.Transcript{run, cut} {
		if err := s.Import(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	do := func(f func(o HistoryOptions) int, json bool) (int, string, string) {
		var out, errOut bytes.Buffer
		code := f(HistoryOptions{Path: db, JSON: json, Stdout: &out, Stderr: &errOut})
		return code, out.String(), errOut.String()
	}
	ctx := t.Context()
	for _, tt := range []struct {
		name     string
		f        func(o HistoryOptions) int
		json     bool
		code     int
		want     []string // in stdout, in this order
		wantErr  []string
		notWant  []string
		fileWant []string
	}{
		{name: "list", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "", 0) },
			want: []string{"ID", "STATE", "r_cut", "incomplete", "An interrupted question about comets", run.ID, "2.0 s", "finished", "demo/hello, llama3.2:1b, demo/nope, demo/flood", "Why is the sky blue?…"}},
		{name: "list limit", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "", 1) }, want: []string{"r_cut"}, notWant: []string{run.ID}},
		{name: "list json", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "", 0) }, json: true,
			want: []string{`"id": "r_cut"`, `"state": "incomplete"`, `"id": "` + run.ID, `"models": [`, `"wall_ms": 2001.5`}},
		{name: "search an answer", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "rayleigh", 0) },
			want: []string{run.ID, "«Rayleigh» scattering"}, notWant: []string{"r_cut"}},
		{name: "search nothing", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "zebra", 0) }, wantErr: []string{`no run in the history holds "zebra"`}},
		{name: "show", f: func(o HistoryOptions) int { return HistoryShow(ctx, o, run.ID) }, want: []string{"Why is the sky blue?", "Hello world", "Rayleigh scattering"}},
		{name: "show incomplete", f: func(o HistoryOptions) int { return HistoryShow(ctx, o, "r_cut") }, want: []string{"comets", "Hello"}, wantErr: []string{"run r_cut is incomplete"}},
		{name: "show json", f: func(o HistoryOptions) int { return HistoryShow(ctx, o, run.ID) }, json: true, want: []string{`"id": "` + run.ID, `{"event":"token","id":1,"data":{"seq":1,"text":"Hello"`}},
		{name: "show unknown", f: func(o HistoryOptions) int { return HistoryShow(ctx, o, "r_nope") }, code: ExitNotFound, wantErr: []string{"no run r_nope in the history"}},
		{name: "export md", f: func(o HistoryOptions) int { return HistoryExport(ctx, o, run.ID, filepath.Join(dir, "run.md")) },
			wantErr: []string{"saved " + filepath.Join(dir, "run.md")}, fileWant: []string{filepath.Join(dir, "run.md"), "demo/hello", "Rayleigh scattering"}},
		{name: "export bad name", f: func(o HistoryOptions) int { return HistoryExport(ctx, o, run.ID, filepath.Join(dir, "run.txt")) }, code: ExitUsage, wantErr: []string{".json"}},
		{name: "export incomplete", f: func(o HistoryOptions) int { return HistoryExport(ctx, o, "r_cut", filepath.Join(dir, "cut.json")) },
			wantErr: []string{"cannot be opened or replayed"}},
		{name: "rm", f: func(o HistoryOptions) int { return HistoryRemove(ctx, o, []string{"r_cut", "r_nope"}) }, code: ExitNotFound,
			wantErr: []string{"deleted r_cut", "no run r_nope in the history"}},
		{name: "list after rm", f: func(o HistoryOptions) int { return HistoryList(ctx, o, "", 0) }, want: []string{run.ID}, notWant: []string{"r_cut"}},
		{name: "off", f: func(o HistoryOptions) int { o.Path = ""; return HistoryList(ctx, o, "", 0) }, code: ExitUsage, wantErr: []string{"the history is off"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := do(tt.f, tt.json)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (in this order):\n%s", w, out)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %q", w, errOut)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if len(tt.fileWant) > 0 {
				b, err := os.ReadFile(tt.fileWant[0])
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range tt.fileWant[1:] {
					if !strings.Contains(string(b), w) {
						t.Errorf("%s lacks %q", tt.fileWant[0], w)
					}
				}
			}
		})
	}

	// Export as JSON, delete, import again: the same run.
	file := filepath.Join(dir, "run.json")
	if code, _, errOut := do(func(o HistoryOptions) int { return HistoryExport(ctx, o, run.ID, file) }, false); code != ExitOK {
		t.Fatalf("export: %q", errOut)
	}
	if code, _, errOut := do(func(o HistoryOptions) int { return HistoryRemove(ctx, o, []string{run.ID}) }, false); code != ExitOK {
		t.Fatalf("rm: %q", errOut)
	}
	if code, _, errOut := do(func(o HistoryOptions) int {
		return HistoryImport(ctx, o, []string{file, filepath.Join(dir, "run.md")})
	}, false); code != ExitUsage || !strings.Contains(errOut, "imported "+file+" as "+run.ID) || !strings.Contains(errOut, "Markdown report") {
		t.Fatalf("import: exit %d, %q", code, errOut)
	}
	got, err := openHistoryStore(t, db).Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := transcripttest.Run(); !reflect.DeepEqual(got, want) {
		t.Errorf("exported and imported again, the run differs:\n got %+v\nwant %+v", got, want)
	}
}

// TestHistoryDiff: diff of two streams of one run, of two runs, in colour,
// as JSON, and the runs and streams it cannot find.
func TestHistoryDiff(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	run := transcripttest.Run()
	// The same run again, but for its first stream, which thought first
	// and said more.
	other := transcripttest.Run()
	other.ID, other.StartedAt = "r_other", run.StartedAt.Add(time.Hour)
	other.Streams[0] = transcripttest.Stream(0, "demo/hello", 0.3, nil,
		transcripttest.Phase(0.4, wire.PhaseGenerating),
		transcripttest.Event{Type: wire.EventThinking, Data: wire.EventData{Text: "Say hello to whom?", TMs: 500}},
		transcripttest.Token(1000.9, "Hello"), transcripttest.Token(1100, " brave"), transcripttest.Token(1200, " new"),
		transcripttest.Token(2001.2, " world"), transcripttest.Done(2001.5, wire.ReasonStop))
	other.Streams[0].Thinking = "Say hello to whom?"
	other.Streams[3] = transcripttest.Stream(3, "demo/flood", 0.3, nil, transcripttest.Phase(0.4, wire.PhaseGenerating),
		transcripttest.Token(2, "lorem"), transcripttest.Token(4, "  ipsum"), transcripttest.Done(5, wire.ReasonCancelled))
	cut := transcripttest.Run()
	cut.ID, cut.Finished, cut.WallMs = "r_cut", false, 0
	cut.Streams = cut.Streams[:1]
	cut.Streams[0].Events = cut.Streams[0].Events[:2]
	cut.Streams[0].Text, cut.Streams[0].Stats = "Hello", nil
	s := openHistoryStore(t, db)
	for _, tr := range []*wire.Transcript{run, other, cut} {
		if err := s.Import(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	id := run.ID
	for _, tt := range []struct {
		name        string
		a, b        string
		json, color bool
		path        string // the history; db when ""
		code        int
		want        string // stdout, exactly
		wantErr     []string
	}{
		{name: "two streams of a run", a: id + ":1", b: id + ":4",
			want: "[-1 demo/hello, stream 1 of run " + id + "-]\n{+2 demo/flood, stream 4 of run " + id + "+}\n\n" +
				"[-Hello world-]{+lorem ipsum+}\n\n0 words the same · 2 only in 1 · 2 only in 2\n"},
		{name: "a label, a line break", a: id + ":4", b: id + ":2",
			want: "[-1 demo/flood, stream 4 of run " + id + "-]\n{+2 llama3.2:1b (cold | start), stream 2 of run " + id + "+}\n\n" +
				"[-lorem ipsum-]{+Rayleigh scattering: `blue` light ```scatters```\n\n# more | <b>.+}\n\n0 words the same · 2 only in 1 · 9 only in 2\n"},
		{name: "two runs, the first stream by default, no thinking", a: id, b: "r_other",
			want: "[-1 demo/hello, stream 1 of run " + id + "-]\n{+2 demo/hello, stream 1 of run r_other+}\n\n" +
				"Hello {+brave new +}world\n\n2 words the same · 0 only in 1 · 2 only in 2\n"},
		{name: "the same stream", a: id + ":2", b: id + ":2",
			want: "[-1 llama3.2:1b (cold | start), stream 2 of run " + id + "-]\n{+2 llama3.2:1b (cold | start), stream 2 of run " + id + "+}\n\n" +
				"Rayleigh scattering: `blue` light ```scatters```\n\n# more | <b>.\n\n9 words the same · 0 only in 1 · 0 only in 2\n"},
		{name: "colour", a: id, b: "r_other:1", color: true,
			want: "\x1b[31m1 demo/hello, stream 1 of run " + id + "\x1b[0m\n\x1b[32m2 demo/hello, stream 1 of run r_other\x1b[0m\n\n" +
				"Hello \x1b[32mbrave new \x1b[0mworld\n\n2 words the same · 0 only in 1 · 2 only in 2\n"},
		{name: "colour, lines and whitespace", a: id + ":2", b: "r_other:1", color: true,
			want: "\x1b[31m1 llama3.2:1b (cold | start), stream 2 of run " + id + "\x1b[0m\n\x1b[32m2 demo/hello, stream 1 of run r_other\x1b[0m\n\n" +
				"\x1b[31mRayleigh scattering: `blue` light ```scatters```\x1b[0m\n\n\x1b[31m# more | <b>.\x1b[0m\x1b[32mHello brave new world\x1b[0m\n\n" +
				"0 words the same · 9 only in 1 · 4 only in 2\n"},
		{name: "whitespace", a: id + ":4", b: "r_other:4",
			want: "[-1 demo/flood, stream 4 of run " + id + "-]\n{+2 demo/flood, stream 4 of run r_other+}\n\n" +
				"lorem {+ +}ipsum\n\n2 words the same · 0 only in 1 · 0 only in 2\n"},
		{name: "colour, whitespace", a: id + ":4", b: "r_other:4", color: true,
			want: "\x1b[31m1 demo/flood, stream 4 of run " + id + "\x1b[0m\n\x1b[32m2 demo/flood, stream 4 of run r_other\x1b[0m\n\n" +
				"lorem \x1b[42m \x1b[0mipsum\n\n2 words the same · 0 only in 1 · 0 only in 2\n"},
		{name: "no answer", a: id + ":3", b: id + ":1",
			want: "[-1 demo/nope, stream 3 of run " + id + "-]\n{+2 demo/hello, stream 1 of run " + id + "+}\n\n" +
				"{+Hello world+}\n\n0 words the same · 0 only in 1 · 2 only in 2\n",
			wantErr: []string{`stream 3 of run ` + id + ` has no answer: it ended in an error: model "demo/nope" not found`}},
		{name: "incomplete", a: "r_cut", b: id,
			want:    "[-1 demo/hello, stream 1 of run r_cut-]\n{+2 demo/hello, stream 1 of run " + id + "+}\n\nHello{+ world+}\n\n1 word the same · 0 only in 1 · 1 only in 2\n",
			wantErr: []string{"run r_cut is incomplete"}},
		{name: "unknown run", a: id, b: "r_nope:2", code: ExitNotFound, wantErr: []string{"no run r_nope in the history"}},
		{name: "unknown stream", a: id + ":5", b: id, code: ExitNotFound, wantErr: []string{"run " + id + " has no stream 5: its streams are 1 to 4"}},
		{name: "stream 0", a: id + ":0", b: id, code: ExitUsage, wantErr: []string{`"` + id + `:0": want RUNID:N`}},
		{name: "not a number", a: id, b: id + ":two", code: ExitUsage, wantErr: []string{"want RUNID:N"}},
		{name: "no run id", a: ":1", b: id, code: ExitUsage, wantErr: []string{"want RUNID:N"}},
		{name: "off", a: id, b: id, path: "-", code: ExitUsage, wantErr: []string{"the history is off"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o := HistoryOptions{Path: db, JSON: tt.json, Color: tt.color, Stdout: &out, Stderr: &errOut}
			if tt.path == "-" {
				o.Path = ""
			}
			if code := HistoryDiff(t.Context(), o, tt.a, tt.b); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			if out.String() != tt.want {
				t.Errorf("stdout\n%q\nwant\n%q", out.String(), tt.want)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q: %q", w, errOut.String())
				}
			}
			if tt.wantErr == nil && errOut.Len() > 0 {
				t.Errorf("stderr %q", errOut.String())
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := HistoryDiff(t.Context(), HistoryOptions{Path: db, JSON: true, Stdout: &out, Stderr: &errOut}, id, "r_other:1"); code != ExitOK {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out.String())
		}
		want := map[string]any{
			"a":          map[string]any{"run": id, "stream": 1.0, "model": "demo/hello"},
			"b":          map[string]any{"run": "r_other", "stream": 1.0, "model": "demo/hello"},
			"counts":     map[string]any{"same": 2.0, "only_a": 0.0, "only_b": 2.0},
			"similarity": 2.0 / 3,
			"parts": []any{
				map[string]any{"op": "same", "text": "Hello "},
				map[string]any{"op": "only_b", "text": "brave new "},
				map[string]any{"op": "same", "text": "world"},
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("JSON\n%s\nwant %v", out.String(), want)
		}
	})
	t.Run("json of empty answers", func(t *testing.T) {
		var out bytes.Buffer
		HistoryDiff(t.Context(), HistoryOptions{Path: db, JSON: true, Stdout: &out, Stderr: new(bytes.Buffer)}, id+":3", id+":3")
		if !strings.Contains(out.String(), `"parts": []`) {
			t.Errorf("JSON %s", out.String())
		}
	})
}

// TestHistoryDiffOfRecordedRun: diff reads the answers of a run that run
// recorded, as the history keeps them.
func TestHistoryDiffOfRecordedRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	code, _, errOut := runCLI(t, t.Context(), RunOptions{Models: []string{"demo/echo", "demo/flood"}, Prompt: "lorem ipsum dolor", PromptSet: true,
		MaxTokens: ptr(6), History: db})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	s := openHistoryStore(t, db)
	runs, err := s.List(t.Context(), history.Query{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	tr, err := s.Get(t.Context(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	echo, flood := tr.Streams[0].Text, tr.Streams[1].Text
	if echo == "" || flood == "" {
		t.Fatalf("texts %q and %q", echo, flood)
	}
	var out, stderr bytes.Buffer
	if code := HistoryDiff(t.Context(), HistoryOptions{Path: db, Stdout: &out, Stderr: &stderr}, runs[0].ID+":1", runs[0].ID+":2"); code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	parts := worddiff.Words(echo, flood)
	c := worddiff.Count(parts)
	want := fmt.Sprintf("[-1 demo/echo, stream 1 of run %[1]s-]\n{+2 demo/flood, stream 2 of run %[1]s+}\n\n%s\n\n%s the same · %d only in 1 · %d only in 2\n",
		runs[0].ID, strings.TrimSuffix(worddiff.Text(parts), "\n"), words(c.Same), c.OnlyA, c.OnlyB)
	if out.String() != want {
		t.Errorf("stdout\n%s\nwant\n%s", out.String(), want)
	}
	if c.Same == 0 {
		t.Errorf("the echo of %q and the flood have no word in common: %q", "lorem ipsum dolor", parts)
	}
	t.Logf("%q", out.String())
}
