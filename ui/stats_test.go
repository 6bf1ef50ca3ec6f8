package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// column is the index of the stats column titled title.
func column(t *testing.T, title string) int {
	t.Helper()
	for i, c := range statColumns {
		if c.title == title {
			return i
		}
	}
	t.Fatalf("no stats column %q", title)
	return -1
}

// TestStatsTable shows every stream's figures and marks fastest and
// slowest.
func TestStatsTable(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.runAndWait()
	s := h.app.views.stats
	h.q.waitFor(t, "the figures", func() bool { return s.figures[0] != nil && s.figures[1] != nil })
	// The demo scripts send hello's first token at 1000 ms and hamlet's at
	// 231 ms: a TTFT is never earlier (timers may be late on a busy
	// machine; the ranks tell the order).
	ttft := column(t, "TTFT ms")
	atLeast := func(text string, ms float64) bool {
		v, err := strconv.ParseFloat(strings.Fields(text + " x")[0], 64)
		return err == nil && v >= ms
	}
	if text, rank := s.Cell(0, ttft); rank != -1 || !atLeast(text, 1000) {
		t.Errorf("hello's TTFT %q rank %d: want at least 1000 ms, the slowest", text, rank)
	}
	if text, rank := s.Cell(1, ttft); rank != 1 || !atLeast(text, 230) {
		t.Errorf("hamlet's TTFT %q rank %d: want at least 231 ms, the fastest", text, rank)
	}
	if text, _ := s.Cell(1, column(t, "answer tokens")); text != "13" {
		t.Errorf("hamlet's tokens %q", text)
	}
	for _, title := range []string{"Ollama tok/s", "eval_count", "think TTFT ms", "thinking tokens", "thinking s"} {
		if text, rank := s.Cell(0, column(t, title)); text != "–" || rank != 0 {
			t.Errorf("demo/hello has %s %q, rank %d", title, text, rank)
		}
	}
}

// TestStatsTableThinking: a thinking stream's row has its reasoning's
// figures (time to the first thinking token, thinking time and tokens) as
// the server computed them, beside its answer's; a stream that did not
// think has none of them, and a figure only one stream has is not ranked.
func TestStatsTableThinking(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes(wire.DemoThink, wire.DemoHello)
	h.runAndWait()
	s := h.app.views.stats
	h.q.waitFor(t, "the figures", func() bool { return s.figures[0] != nil && s.figures[1] != nil })
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.Streams[0].Stats
	if st == nil || st.ThinkingTokens == 0 || st.Tokens == 0 {
		t.Fatalf("demo/think's stats %+v: no reasoning or no answer", st)
	}
	near := func(text string, want, tolerance float64) bool {
		v, err := strconv.ParseFloat(text, 64)
		return err == nil && math.Abs(v-want) <= tolerance
	}
	for _, c := range []struct {
		title     string
		want, tol float64 // the rounding of the column's format
	}{
		{"think TTFT ms", st.ThinkingTTFTMs, 0.5},
		{"TTFT ms", st.TTFTMs, 0.5},
		{"thinking s", st.ThinkingMs / 1000, 0.005},
		{"thinking tokens", float64(st.ThinkingTokens), 0},
		{"answer tokens", float64(st.Tokens), 0},
		{"tokens/s", st.TokensPerS, 0.1},
	} {
		if text, _ := s.Cell(0, column(t, c.title)); !near(text, c.want, c.tol) {
			t.Errorf("demo/think's %s %q, the server's %v", c.title, text, c.want)
		}
	}
	// The answer waits for the reasoning.
	if st.TTFTMs <= st.ThinkingTTFTMs+st.ThinkingMs-1 {
		t.Errorf("TTFT %v ms before the end of thinking at %v ms", st.TTFTMs, st.ThinkingTTFTMs+st.ThinkingMs)
	}
	for _, title := range []string{"think TTFT ms", "thinking s", "thinking tokens"} {
		col := column(t, title)
		if text, rank := s.Cell(1, col); text != "–" || rank != 0 {
			t.Errorf("demo/hello has %s %q, rank %d", title, text, rank)
		}
		if _, rank := s.Cell(0, col); rank != 0 {
			t.Errorf("%s ranked (%d) with one stream that has it", title, rank)
		}
	}
	// Both have a TTFT: demo/think answers after 2 s of thought, hello
	// after 1 s.
	if _, rank := s.Cell(0, column(t, "TTFT ms")); rank != -1 {
		t.Errorf("demo/think's TTFT rank %d, want the slowest", rank)
	}
	if text, rank := s.Cell(1, column(t, "answer tokens")); text != "2" || rank != 0 {
		t.Errorf("hello's answer tokens %q, rank %d: a count is not ranked", text, rank)
	}
}

// newTestStats is a stats table of streams with the given figures, all
// ended.
func newTestStats(t *testing.T, figs ...figures.Stream) *statsTable {
	t.Helper()
	test.NewTempApp(t)
	s := newStatsTable()
	labels := make([]string, len(figs))
	for i := range figs {
		labels[i] = fmt.Sprintf("%d demo/hello", i+1)
	}
	s.reset(labels)
	for i, f := range figs {
		s.set(i, f)
	}
	return s
}

// ranks are the texts and ranks of a column, row by row: "100+ 101 300-".
func ranks(s *statsTable, col int) string {
	var out []string
	for row := range s.labels {
		text, rank := s.Cell(row, col)
		out = append(out, text+map[int]string{1: "+", 0: "", -1: "-"}[rank])
	}
	return strings.Join(out, " ")
}

// TestStatsRankAsShown: values are ranked as the table shows them, so two
// streams that show the same value are neither the fastest nor the
// slowest, and when every stream shows the same nothing stands out.
func TestStatsRankAsShown(t *testing.T) {
	ended := func(ttft, durationMs float64) figures.Stream {
		return figures.Stream{Tokens: 2, TTFTMs: ttft, FirstMs: ttft, DurationMs: durationMs, End: figures.EndNormal}
	}
	ttft, duration := column(t, "TTFT ms"), column(t, "duration s")
	for _, tt := range []struct {
		name   string
		figs   []figures.Stream
		col    int
		ranked string
	}{
		{"all equal as shown", []figures.Stream{ended(100.2, 2000), ended(100.4, 2000)}, ttft, "100 100"},
		{"a tie at the top", []figures.Stream{ended(100.2, 2000), ended(299.7, 2000), ended(99.6, 2000)}, ttft, "100 300- 100"},
		{"a tie at the bottom", []figures.Stream{ended(180, 2000), ended(299.7, 2000), ended(300.4, 2000)}, ttft, "180+ 300 300"},
		{"one apart", []figures.Stream{ended(100, 2001), ended(200, 2004), ended(300, 2009)}, duration, "2.00 2.00 2.01-"},
		{"each apart", []figures.Stream{ended(100, 2000), ended(200, 3000), ended(150, 2500)}, ttft, "100+ 200- 150"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStats(t, tt.figs...)
			if got := ranks(s, tt.col); got != tt.ranked {
				t.Errorf("%s ranked %q, want %q", statColumns[tt.col].title, got, tt.ranked)
			}
		})
	}
}

// TestStatsRankComparable: a stream stopped or failed shows its figures
// but is never ranked, and does not take the fastest duration from the
// streams that ended normally.
func TestStatsRankComparable(t *testing.T) {
	s := newTestStats(t,
		figures.Stream{Tokens: 2, TTFTMs: 1000, FirstMs: 1000, DurationMs: 2000, End: figures.EndNormal},
		figures.Stream{Tokens: 1, TTFTMs: 231, FirstMs: 231, DurationMs: 500, End: figures.EndCancelled},
		figures.Stream{Tokens: 13, TTFTMs: 231, FirstMs: 231, DurationMs: 3000, End: figures.EndNormal},
		figures.Stream{DurationMs: 0.1, End: figures.EndFailed},
	)
	for title, want := range map[string]string{
		"duration s": "2.00+ 0.50 3.00- 0.00",
		"TTFT ms":    "1000- 231 231+ –",
	} {
		if got := ranks(s, column(t, title)); got != want {
			t.Errorf("%s ranked %q, want %q", title, got, want)
		}
	}
	for row, want := range []string{"1 demo/hello", "2 demo/hello (stopped)", "3 demo/hello", "4 demo/hello (failed)"} {
		if got := s.rowName(row); got != want {
			t.Errorf("row %d named %q, want %q", row, got, want)
		}
	}
}

// TestStatsBurstRate: tokens that came within a few microseconds have no
// rate in the table ("–"), and the note says why; a stream that took its
// time has one.
func TestStatsBurstRate(t *testing.T) {
	burst := []figures.Mark{figures.MarkOfEvent(wire.EventPhase, wire.PhaseGenerating, "", 0.2)}
	for k := range 20 {
		burst = append(burst, figures.MarkOfEvent(wire.EventToken, "", "", 0.3+float64(k)*0.0085))
	}
	burst = append(burst, figures.MarkOfEvent(wire.EventDone, "", wire.ReasonStop, 0.5))
	steady := []figures.Mark{
		figures.MarkOfEvent(wire.EventToken, "", "", 100), figures.MarkOfEvent(wire.EventToken, "", "", 600),
		figures.MarkOfEvent(wire.EventDone, "", wire.ReasonStop, 600),
	}
	s := newTestStats(t, figures.FromMarks(burst, nil), figures.FromMarks(steady, nil))
	if got := ranks(s, column(t, "tokens/s")); got != "– 4.0" {
		t.Errorf("tokens/s %q, want none for the burst and 4.0 for 2 tokens over 0.5 s", got)
	}
	if !strings.Contains(statsNote, fmt.Sprintf("%d ms", figures.MinRateSpanMs)) {
		t.Errorf("the note does not say when a rate is shown: %q", statsNote)
	}
}

// TestStatsFirstTokenAt: beside the TTFT, which counts from a stream's
// turn, the table shows when its first token came on the run's clock,
// what a user of a sync run waited; earlier is better.
func TestStatsFirstTokenAt(t *testing.T) {
	ttft, at := column(t, "TTFT ms"), column(t, "first token at s")
	if at != ttft+1 {
		t.Errorf("first token at is column %d, TTFT %d: want it right after", at, ttft)
	}
	sync := func(startMs, firstMs, endMs float64) figures.Stream {
		marks := []figures.Mark{
			figures.MarkOfEvent(wire.EventPhase, wire.PhaseWaiting, "", 0.1),
			figures.MarkOfEvent(wire.EventPhase, wire.PhaseGenerating, "", startMs),
			figures.MarkOfEvent(wire.EventToken, "", "", firstMs),
			figures.MarkOfEvent(wire.EventDone, "", wire.ReasonStop, endMs),
		}
		return figures.FromMarks(marks, &wire.Stats{Tokens: 1, StartMs: startMs, EndMs: endMs, DurationMs: endMs - startMs})
	}
	// hello, then hamlet in its turn: hamlet's TTFT is the shorter, its
	// first token the later.
	s := newTestStats(t, sync(0.2, 1000.2, 2000), sync(2000, 2231, 5000))
	if got := ranks(s, ttft); got != "1000- 231+" {
		t.Errorf("TTFT %q", got)
	}
	if got := ranks(s, at); got != "1.00+ 2.23-" {
		t.Errorf("first token at %q", got)
	}
}

// TestStatsRemove: removing a row takes its stream's figures with it; the
// rows after it move up, and the caller's labels are left as they were.
func TestStatsRemove(t *testing.T) {
	s := newTestStats(t,
		figures.Stream{Tokens: 2, TTFTMs: 100, DurationMs: 2000, End: figures.EndNormal},
		figures.Stream{Tokens: 2, TTFTMs: 200, DurationMs: 2000, End: figures.EndNormal},
		figures.Stream{Tokens: 2, TTFTMs: 300, DurationMs: 2000, End: figures.EndNormal},
	)
	labels := s.labels
	s.remove(0)
	if got := ranks(s, column(t, "TTFT ms")); got != "200+ 300-" {
		t.Errorf("TTFT after removing the fastest: %q", got)
	}
	if got := s.rowName(0) + ", " + s.rowName(1); got != "2 demo/hello, 3 demo/hello" {
		t.Errorf("rows %q", got)
	}
	if labels[0] != "1 demo/hello" {
		t.Errorf("the caller's labels changed: %q", labels)
	}
	s.remove(5) // out of range: nothing
	if len(s.labels) != 2 || len(s.figures) != 2 {
		t.Errorf("%d labels, %d figures", len(s.labels), len(s.figures))
	}
}
