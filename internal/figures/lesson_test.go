package figures_test

import (
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/figures"
	"github.com/tokenloom/tokenloom/internal/wire"
)

// span is a stream's stats: it started at start, generated tokens from
// first to last and ended at end (ms of run time).
func span(start, first, last, end float64, tokens int) *wire.Stats {
	return &wire.Stats{Tokens: tokens, StartMs: start, EndMs: end, DurationMs: end - start,
		TTFTMs: first - start, LastTokenMs: last}
}

// TestLesson: the lesson says what the figures say, in each case a run can
// take, and nothing the timeline contradicts.
func TestLesson(t *testing.T) {
	models := []string{"demo/hello", "demo/hamlet"}
	queued := span(0, 1050, 1990, 2000, 9)
	queued.QueuedMs = 1000
	cold := span(0, 2600, 3000, 3000, 5)
	cold.Ollama = &wire.OllamaStats{LoadDurationNs: 2_100_000_000}
	for _, tt := range []struct {
		name        string
		sync, async []*wire.Stats
		says, not   []string
		saved       string
	}{
		{
			"the demos", []*wire.Stats{span(0, 1000, 2000, 2000, 2), span(2000, 2231, 5000, 5000, 13)},
			[]*wire.Stats{span(0, 1000, 2000, 2000, 2), span(0, 231, 3000, 3000, 13)},
			[]string{"demo/hello took 2.00 s, then demo/hamlet 3.00 s", "the run took 5.00 s, the sum of its streams",
				"all 2 streams were sent at once and their waits overlapped", "about as long as its longest stream (demo/hamlet, 3.00 s), not the sum of them (5.00 s)",
				"Async saved 2.00 s (40%)."},
			[]string{"one at a time", "queue", "loaded"}, "async saved 2.00 s (40%)",
		},
		{
			"one slot", []*wire.Stats{span(0, 100, 990, 1000, 9), span(1000, 1100, 1990, 2000, 9)},
			[]*wire.Stats{span(0, 100, 990, 1000, 9), queued},
			[]string{"the model server answered them one at a time", "OLLAMA_NUM_PARALLEL", "A server that does not interleave gives async nothing back: 2.00 s against 2.00 s", "Async saved nothing."},
			[]string{"overlapped", "longest"}, "async saved nothing",
		},
		{
			"a cold start in the sync run", []*wire.Stats{cold, span(3000, 3200, 4000, 4000, 5)},
			[]*wire.Stats{span(0, 200, 1000, 1000, 5), span(0, 200, 1000, 1000, 5)},
			[]string{"In the sync run, demo/hello loaded for 2.1 s in this run (a cold start)", "Async saved 3.00 s (75%)."},
			[]string{"In the async run"}, "async saved 3.00 s (75%)",
		},
		{
			"async slower, never overlapping", []*wire.Stats{span(0, 10, 990, 1000, 5), span(1000, 1010, 1990, 2000, 5)},
			[]*wire.Stats{span(0, 10, 990, 1000, 5), span(1000, 1600, 2490, 2500, 5)},
			[]string{"no two of them were ever generated at the same time", "Async took 0.50 s longer."},
			[]string{"overlapped", "one at a time"}, "async took 0.50 s longer",
		},
		{
			"nothing ended", []*wire.Stats{nil, nil}, []*wire.Stats{nil, nil},
			[]string{"The sync run has no stream that ended.", "The async run has no stream that ended."},
			[]string{"saved 0"}, "async saved nothing",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := figures.Compare(tt.sync, tt.async, models)
			lesson := c.Lesson()
			for _, s := range tt.says {
				if !strings.Contains(lesson, s) {
					t.Errorf("lesson lacks %q:\n%s", s, lesson)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(lesson, s) {
					t.Errorf("lesson says %q:\n%s", s, lesson)
				}
			}
			if got := c.Saved(); got != tt.saved {
				t.Errorf("Saved() = %q, want %q", got, tt.saved)
			}
		})
	}
}
