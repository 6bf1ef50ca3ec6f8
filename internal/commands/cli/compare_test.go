package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// TestRunCompare: --compare runs the lesson's tasks one after another,
// then at once, prints both runs' summaries and what async saved, and saves
// the picture of both timelines.
func TestRunCompare(t *testing.T) {
	testenv.Long(t, "takes 8 s")
	svg := filepath.Join(t.TempDir(), "lesson.svg")
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/task1", "demo/task2"}, Prompt: "go", PromptSet: true, Compare: true, Timeline: svg,
	})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"== sync: one stream after another", "== async: all streams at once", "sync run: ", "async run: ",
		"task 1: step 1/3 done", "== sync 5.", " · async 3.", " · async saved ", "their waits overlapped"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) { // the lesson is wrapped
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "sync run: ") > strings.Index(out, "async run: ") {
		t.Error("the async run's summary comes first")
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil {
		t.Errorf("the timeline is no SVG: %v", err)
	}
	for _, want := range []string{"1 demo/task1", "2 demo/task2", "sync: 5.", "async: 3.", "async saved"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
}

// TestRunCompareJSON: with --json the comparison is the last line, with the
// same figures as the runs' summaries.
func TestRunCompareJSON(t *testing.T) {
	testenv.Long(t, "takes 8 s")
	code, out, _ := runCLI(t, context.Background(), RunOptions{Prompt: "hi", PromptSet: true, Compare: true, JSON: true})
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var walls []float64
	for _, l := range lines[:len(lines)-1] {
		if strings.Contains(l, `"event":"summary"`) {
			walls = append(walls, decodeSummary(t, l).WallMs)
		}
	}
	var c struct {
		Event   string
		Sync    float64 `json:"sync_wall_ms"`
		Async   float64 `json:"async_wall_ms"`
		SavedMs float64 `json:"saved_ms"`
		Lesson  string
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &c); err != nil {
		t.Fatal(err)
	}
	if c.Event != "comparison" || len(walls) != 2 || c.Sync != walls[0] || c.Async != walls[1] || c.SavedMs < 1700 || !strings.Contains(c.Lesson, "demo/hamlet") {
		t.Errorf("comparison %+v after summaries of %v ms", c, walls)
	}
}

// TestTimelineFlag: a --timeline file of another format is refused before
// anything runs.
func TestTimelineFlag(t *testing.T) {
	code, _, errOut := runCLI(t, context.Background(), RunOptions{Prompt: "hi", PromptSet: true, Timeline: "x.pdf"})
	if code != ExitUsage || !strings.Contains(errOut, `--timeline: want a .svg or .png file, not "x.pdf"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
