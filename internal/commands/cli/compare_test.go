package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/server"
)

// startClocked starts the embedded server, Ollama pointing nowhere, on a
// fake clock that plays the runs as they come (fakeclock.Play): a
// comparison of demo sources takes no real time and its figures are exact.
// Both end with the test.
func startClocked(t *testing.T) *embedded.Server {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	emb, err := embedded.Start(server.Config{OllamaURL: closedOllama(t), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	clock.PlayDuring(t, emb.Server)
	return emb
}

// compare runs the lesson (--compare) of streams on emb and returns the
// runs, the exit status and what it printed.
func compare(t *testing.T, emb *embedded.Server, o output, streams ...wire.StreamSpec) (runs [2]*wire.RunCreated, stdout string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	runs, code := compareRuns(t.Context(), emb.Client, wire.RunRequest{Prompt: "go", Streams: streams}, o)
	if code != ExitOK || errOut.Len() > 0 || runs[0] == nil || runs[1] == nil {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	return runs, out.String()
}

// TestCompareLesson: --compare runs the streams one after another, then at
// once, prints both runs' summaries, then both wall times, what async saved
// and the lesson, wrapped; exactly, in each of the three regimes of the
// demo sources. The lesson's tasks save 2 s of 5; demo/shared's streams,
// each at half its rate side by side, and demo/oneslot's, taking turns,
// save nothing.
func TestCompareLesson(t *testing.T) {
	emb := startClocked(t)
	five := &wire.Options{NumPredict: ptr(5)}
	for _, tt := range []struct {
		streams []wire.StreamSpec
		// lines are the summaries' last lines, sync then async, and the
		// async run's note ("" for none)
		lines   []string
		heading string
		lesson  string
	}{
		{[]wire.StreamSpec{{Model: wire.DemoTask1}, {Model: wire.DemoTask2}}, []string{
			"sync run: 5.00 s wall time for 5.00 s of work, one stream after another",
			"async run: 3.00 s wall time for 5.00 s of work: streams were busy at the same time for 2.00 s; one after another at the same speed, it would take 5.00 s (1.67×)",
			""},
			"== sync 5.00 s · async 3.00 s · async saved 2.00 s (40%)",
			"One after another (sync), each stream waited for the one before it to end: demo/task1 took 2.00 s, then demo/task2 3.00 s; the run took 5.00 s, the sum of its streams. " +
				"Side by side (async), all 2 streams were sent at once and each ran as fast as alone (at 100% of its solo rate): they were waiting, not working, so their waits overlapped: the run took 3.00 s, about as long as its longest stream (demo/task2, 3.00 s), not the sum of them (5.00 s). " +
				"Async saved 2.00 s (40%)."},
		{[]wire.StreamSpec{{Model: wire.DemoShared, Options: five}, {Model: wire.DemoShared, Options: five}}, []string{
			"sync run: 1.00 s wall time for 1.00 s of work, one stream after another",
			"async run: 1.00 s wall time for 1.90 s of work: streams were busy at the same time for 0.90 s; one after another at the same speed, it would take 1.90 s (1.90×)",
			""},
			"== sync 1.00 s · async 1.00 s · async saved nothing",
			"One after another (sync), each stream waited for the one before it to end: demo/shared took 0.50 s, then demo/shared 0.50 s; the run took 1.00 s, the sum of its streams. " +
				"Side by side (async), all 2 streams were sent at once and ran at the same time, but each stream generated at 50% of its solo rate: they shared the machine. " +
				"Async saved nothing: sharing the machine, the streams took as long side by side as one after another."},
		{[]wire.StreamSpec{{Model: wire.DemoOneSlot, Options: five}, {Model: wire.DemoOneSlot, Options: five}}, []string{
			"sync run: 1.00 s wall time for 1.00 s of work, one stream after another",
			"async run: 1.00 s wall time for 1.00 s of work: no two streams were busy at the same time, so async saved nothing",
			"note: the model server answered the streams one at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10): 1 stream waited 0.50 s in its queue"},
			"== sync 1.00 s · async 1.00 s · async saved nothing",
			"One after another (sync), each stream waited for the one before it to end: demo/oneslot took 0.50 s, then demo/oneslot 0.50 s; the run took 1.00 s, the sum of its streams. " +
				"Side by side (async), all 2 streams were sent at once, but the model server answered them one at a time: the other waited 0.50 s in its queue (hatched on the timeline) while one was generated (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10). " +
				"A server that does not interleave gives async nothing back: 1.00 s against 1.00 s one after another. Async saved nothing."},
	} {
		t.Run(tt.streams[0].Model, func(t *testing.T) {
			_, out := compare(t, emb, output{}, tt.streams...)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			// In order: the sync run, its summary, the async run, its
			// summary (and note), the comparison's heading and lesson.
			at := func(line string) int {
				t.Helper()
				i := slices.Index(lines, line)
				if i < 0 {
					t.Fatalf("no line %q in:\n%s", line, out)
				}
				return i
			}
			order := []int{at("== sync: one stream after another"), at(tt.lines[0]), at("== async: all streams at once"), at(tt.lines[1])}
			if tt.lines[2] != "" {
				order = append(order, at(tt.lines[2]))
			}
			heading := at(tt.heading)
			if order = append(order, heading); !slices.IsSorted(order) {
				t.Errorf("lines out of order (%v):\n%s", order, out)
			}
			lesson := lines[heading+1:]
			if got := strings.Join(lesson, " "); got != tt.lesson {
				t.Errorf("lesson\n%s\nwant\n%s", got, tt.lesson)
			}
			for _, l := range lesson {
				if len([]rune(l)) > 80 {
					t.Errorf("lesson line of %d characters, more than 80: %q", len([]rune(l)), l)
				}
			}
		})
	}
}

// TestCompareJSON: with --json the comparison is the last line, with the
// same wall times as the runs' summaries, the regime and the lesson's
// sentences; for hello and hamlet, exactly 5 s of work done in 5 s one
// after another and in 3 s side by side, 2 s of it at once (1.67×).
func TestCompareJSON(t *testing.T) {
	emb := startClocked(t)
	_, out := compare(t, emb, output{JSON: true}, wire.StreamSpec{Model: wire.DemoHello}, wire.StreamSpec{Model: wire.DemoHamlet})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sums []jsonSummary
	for _, l := range lines[:len(lines)-1] {
		if strings.Contains(l, `"event":"summary"`) {
			sums = append(sums, decodeSummary(t, l))
		}
	}
	type figures struct {
		Mode                                       string
		WallMs, WorkMs, BusyMs, OverlapMs, SavedMs float64
		Speedup                                    float64 // 0: null
	}
	var got []figures
	for _, s := range sums {
		f := figures{s.Mode, s.WallMs, s.WorkMs, s.BusyMs, s.OverlapMs, s.SavedMs, 0}
		if s.Speedup != nil {
			f.Speedup = *s.Speedup
		}
		got = append(got, f)
	}
	if want := []figures{{wire.ModeSync, 5000, 5000, 5000, 0, 0, 0}, {wire.ModeAsync, 3000, 5000, 3000, 2000, 2000, 1.67}}; !slices.Equal(got, want) {
		t.Errorf("summaries %+v, want %+v", got, want)
	}
	var c struct {
		Event       string
		SyncWallMs  float64 `json:"sync_wall_ms"`
		AsyncWallMs float64 `json:"async_wall_ms"`
		SavedMs     float64 `json:"saved_ms"`
		Saved       string
		Regime      string
		Lesson      string
		Sentences   []string
	}
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	sentences := []string{
		"One after another (sync), each stream waited for the one before it to end: demo/hello took 2.00 s, then demo/hamlet 3.00 s; the run took 5.00 s, the sum of its streams.",
		"Side by side (async), all 2 streams were sent at once and each ran as fast as alone (at 100% of its solo rate): they were waiting, not working, so their waits overlapped: the run took 3.00 s, about as long as its longest stream (demo/hamlet, 3.00 s), not the sum of them (5.00 s).",
		"Async saved 2.00 s (40%).",
	}
	if c.Event != "comparison" || c.SyncWallMs != 5000 || c.AsyncWallMs != 3000 || c.SavedMs != 2000 || c.Saved != "async saved 2.00 s (40%)" ||
		c.Regime != "waiting" || !slices.Equal(c.Sentences, sentences) || c.Lesson != strings.Join(sentences, " ") {
		t.Errorf("comparison %+v", c)
	}
}

// TestCompareTimeline: the picture of a comparison stacks both runs'
// timelines on one clock, each labelled with its wall time, and marks what
// async saved.
func TestCompareTimeline(t *testing.T) {
	emb := startClocked(t)
	runs, _ := compare(t, emb, output{}, wire.StreamSpec{Model: wire.DemoTask1}, wire.StreamSpec{Model: wire.DemoTask2})
	svg := filepath.Join(t.TempDir(), "lesson.svg")
	if err := saveTimeline(emb.Client, []string{runs[0].ID, runs[1].ID}, svg, TimelineWidth, TimelineHeight); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil {
		t.Errorf("the timeline is no SVG: %v", err)
	}
	for _, want := range []string{">1 demo/task1<", ">2 demo/task2<", ">sync: 5.00 s<", ">async: 3.00 s<", ">async saved 2.00 s (40%)<"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
}

// TestRunCompare: `run --compare` plays the lesson and saves the picture
// of both runs with --timeline (with demo/flood, which takes no time: the
// figures are TestCompareLesson's).
func TestRunCompare(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "lesson.svg")
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"demo/flood", "demo/flood"}, MaxTokens: ptr(3), Prompt: "go", PromptSet: true, Compare: true, Timeline: svg,
	})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var at []int
	for _, want := range []string{"== sync: one stream after another", "sync run: ", "== async: all streams at once", "async run: ", "== sync "} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
		at = append(at, i)
	}
	if !slices.IsSorted(at) {
		t.Errorf("output out of order:\n%s", out)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">1 demo/flood<", ">2 demo/flood<", ">sync: ", ">async: "} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the timeline lacks %q", want)
		}
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
