package ui

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
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
	h.setPanes(client.DemoThink, client.DemoHello)
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
