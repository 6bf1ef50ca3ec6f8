package ui

import (
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

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
	ttft := 0
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
	if text, _ := s.Cell(1, 1); text != "13" {
		t.Errorf("hamlet's tokens %q", text)
	}
	if text, _ := s.Cell(0, 6); text != "–" {
		t.Errorf("demo stream has an Ollama eval rate %q", text)
	}
}
