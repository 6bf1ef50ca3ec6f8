package cli

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
)

// TestRunContinue goes on from a recorded run with --continue: each
// stream sends its own conversation, with the run's models and options,
// and the follow-up is recorded with it; a third turn goes on from the
// second (--continue last). What cannot be continued says why.
func TestRunContinue(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	code, _, errOut := runCLI(t, t.Context(), RunOptions{Models: []string{"demo/echo", "demo/hello"}, Prompt: "alpha beta", PromptSet: true,
		MaxTokens: ptr(40), History: db})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	newest := func() *wire.Transcript {
		t.Helper()
		s := openHistoryStore(t, db)
		runs, err := s.List(t.Context(), history.Query{Limit: 1})
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v, %v", runs, err)
		}
		tr, err := s.Get(t.Context(), runs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		return tr
	}
	first := newest()
	code, out, errOut := runCLI(t, t.Context(), RunOptions{Continue: first.ID, ContinueFrom: db, Prompt: "gamma", PromptSet: true, Sync: true, History: db})
	if code != ExitOK {
		t.Fatalf("--continue: exit %d, stderr %q", code, errOut)
	}
	second := newest()
	want := [][]wire.Turn{{{Prompt: "alpha beta", Answer: "alpha beta"}}, {{Prompt: "alpha beta", Answer: "Hello world"}}}
	for i, st := range second.Streams {
		if st.Model != first.Streams[i].Model || !slices.Equal(st.History, want[i]) || *st.Options.NumPredict != 40 {
			t.Errorf("stream %d: %s with history %q and options %+v; want %s with %q and the first run's options", i, st.Model, st.History, st.Options, first.Streams[i].Model, want[i])
		}
	}
	if second.Mode != wire.ModeSync || second.Prompt != "gamma" || !strings.Contains(out, "gamma") {
		t.Errorf("the follow-up: %s run of %q; stdout %q", second.Mode, second.Prompt, out)
	}

	code, _, errOut = runCLI(t, t.Context(), RunOptions{Continue: LastRun, ContinueFrom: db, Prompt: "delta", PromptSet: true, History: db})
	if code != ExitOK {
		t.Fatalf("--continue last: exit %d, stderr %q", code, errOut)
	}
	third := newest()
	if got, want := third.Streams[1].History, second.Conversation(1); len(got) != 2 || !slices.Equal(got, want) {
		t.Errorf("third turn's history %q, want %q", got, want)
	}

	var list, stderr bytes.Buffer
	if code := HistoryList(t.Context(), HistoryOptions{Path: db, Stdout: &list, Stderr: &stderr}, "", 0); code != ExitOK ||
		!strings.Contains(list.String(), "(turn 3) delta") || !strings.Contains(list.String(), "(turn 2) gamma") || strings.Contains(list.String(), "(turn 1)") {
		t.Errorf("history list: exit %d\n%s%s", code, list.String(), stderr.String())
	}

	for _, c := range []struct {
		name string
		o    RunOptions
		code int
		want string
	}{
		{"with models", RunOptions{Continue: LastRun, ContinueFrom: db, Models: []string{"demo/echo"}}, ExitUsage, "leave out -m"},
		{"an unknown run", RunOptions{Continue: "r_nosuch", ContinueFrom: db}, ExitNotFound, "no run r_nosuch in the history"},
		{"the history off", RunOptions{Continue: LastRun}, ExitUsage, "the history, which is off"},
		{"an empty history", RunOptions{Continue: LastRun, ContinueFrom: filepath.Join(t.TempDir(), "empty.db")}, ExitNotFound, "holds no run yet"},
		{"a history that cannot be opened", RunOptions{Continue: LastRun, ContinueFrom: t.TempDir()}, ExitFailed, "tokenloom history: "},
	} {
		c.o.Prompt, c.o.PromptSet = "x", true
		if code, out, errOut := runCLI(t, t.Context(), c.o); code != c.code || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, nothing run and %q", c.name, code, out, errOut, c.code, c.want)
		}
	}
}
