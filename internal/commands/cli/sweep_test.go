package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/sweep"
)

// runSweep runs Sweep with o's output captured.
func runSweep(t *testing.T, ctx context.Context, o SweepOptions) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	if o.OllamaURL == "" {
		o.OllamaURL = closedOllama(t)
	}
	code = Sweep(ctx, o)
	return code, out.String(), errOut.String()
}

// TestSweepKept: a sweep of demo/oneslot at 1 and 2 streams prints a row
// per number of streams and what they say (the second stream queued), is
// kept in the history as it goes, lists, opens again the same, and draws
// its picture.
func TestSweepKept(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "history.db")
	code, out, errOut := runSweep(t, t.Context(), SweepOptions{Model: wire.DemoOneSlot, Prompt: "count", Streams: []int{1, 2}, Repeat: 1,
		MaxTokens: ptr(2), History: db})
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"sweep of demo/oneslot", "aggregate tok/s", "one request at a time", "kept in the history as w_"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var list bytes.Buffer
	if code := ListSweeps(t.Context(), db, true, &list, &list); code != ExitOK {
		t.Fatalf("list: %d %s", code, list.String())
	}
	var kept struct {
		ID      string
		Model   string
		Streams string
		Steps   int
	}
	if err := json.Unmarshal(list.Bytes(), &kept); err != nil || kept.Model != wire.DemoOneSlot || kept.Streams != "1,2" || kept.Steps != 2 {
		t.Fatalf("listed %q (%v)", list.String(), err)
	}
	png := filepath.Join(dir, "sweep.png")
	code, opened, errOut := runSweep(t, t.Context(), SweepOptions{Open: "last", History: db, Picture: png})
	if code != ExitOK || !strings.Contains(opened, "sweep "+kept.ID) || !strings.Contains(errOut, "saved the picture") {
		t.Fatalf("open: exit %d\n%s\n%s", code, opened, errOut)
	}
	// The same table and sentences as when it ran.
	table := func(s string) string { return s[strings.Index(s, "  streams"):strings.Index(s, "kept in")] }
	if strings.Contains(out, "kept in") && table(out) != opened[strings.Index(opened, "  streams"):] {
		t.Errorf("opened:\n%s\nran:\n%s", opened, out)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("picture: %v", err)
	}
	if code, _, errOut := runSweep(t, t.Context(), SweepOptions{Open: "w_nope", History: db}); code != ExitNotFound || !strings.Contains(errOut, `no sweep "w_nope"`) {
		t.Errorf("an unknown sweep: exit %d, %q", code, errOut)
	}
}

// TestSweepInterrupted: Ctrl+C stops the sweep; the steps that ended are
// printed and kept.
func TestSweepInterrupted(t *testing.T) {
	db := filepath.Join(t.TempDir(), "history.db")
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut bytes.Buffer
	o := SweepOptions{Model: wire.DemoOneSlot, Prompt: "count", Streams: []int{1, 2}, Repeat: 1, MaxTokens: ptr(3), History: db, JSON: true,
		OllamaURL: closedOllama(t), Stderr: &errOut}
	// Stop once the first step has printed its line.
	o.Stdout = writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte(`"event":"step"`)) {
			cancel()
		}
		return out.Write(p)
	})
	if code := Sweep(ctx, o); code != ExitInterrupted {
		t.Fatalf("exit %d, %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last struct {
		Event   string
		Stopped bool
		Points  []sweep.Point
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "sweep" || !last.Stopped || len(last.Points) != 1 {
		t.Errorf("output %q (%v): want one step, then the sweep stopped", out.String(), err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
