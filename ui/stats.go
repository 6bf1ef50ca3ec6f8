package ui

import (
	"fmt"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/figures"
)

// statColumn is one figure of the stats table.
type statColumn struct {
	title string
	// value reads the figure; ok false when the stream has none.
	value func(f figures.Stream) (v float64, ok bool)
	// format shows it.
	format string
	// lowerIsBetter marks which end is the fastest.
	lowerIsBetter bool
	// unranked columns say how much, not how fast: nothing stands out.
	unranked bool
	// clocked columns are by the model server's clock: a * marks
	// Tokenloom's observation where the server gave none.
	clocked bool
}

// statColumns are the figures, the time a reader waits for first. A figure
// a stream does not have (no answer, no reasoning, no Ollama metrics, a
// rate over too short a time) is "–" and takes no part in the ranking.
var statColumns = []statColumn{
	{"TTFT ms", func(f figures.Stream) (float64, bool) { return f.TTFTMs, f.Tokens > 0 }, "%.0f", true, false, false},
	{"first token at s", func(f figures.Stream) (float64, bool) { return f.FirstMs / 1000, f.Tokens > 0 }, "%.2f", true, false, false},
	{"think TTFT ms", func(f figures.Stream) (float64, bool) { return f.ThinkingTTFTMs, f.ThinkingTokens > 0 }, "%.0f", true, false, false},
	{"thinking s", func(f figures.Stream) (float64, bool) { return f.ThinkingMs / 1000, f.ThinkingTokens > 0 }, "%.2f", false, true, false},
	{"thinking tokens", func(f figures.Stream) (float64, bool) { return float64(f.ThinkingTokens), f.ThinkingTokens > 0 }, "%.0f", false, true, false},
	{"answer tokens", func(f figures.Stream) (float64, bool) { return float64(f.Tokens), true }, "%.0f", false, true, false},
	{"tokens/s", func(f figures.Stream) (float64, bool) { return f.TokensPerS, f.RateShown() }, "%.1f", false, false, false},
	{"ITL p50 ms", func(f figures.Stream) (float64, bool) { return f.ITLP50Ms, f.Tokens > 1 }, "%.1f", true, false, false},
	{"ITL p95 ms", func(f figures.Stream) (float64, bool) { return f.ITLP95Ms, f.Tokens > 1 }, "%.1f", true, false, false},
	{"duration s", func(f figures.Stream) (float64, bool) { return f.DurationMs / 1000, true }, "%.2f", true, false, false},
	{"queued s", func(f figures.Stream) (float64, bool) { return f.QueuedMs / 1000, f.End != figures.EndNone }, "%.2f", false, true, true},
	{"busy s", func(f figures.Stream) (float64, bool) { return f.BusyMs / 1000, f.End != figures.EndNone }, "%.2f", false, true, true},
	{"eval_count", func(f figures.Stream) (float64, bool) { return float64(f.EvalCount), f.HasOllama }, "%.0f", false, true, false},
	{"Ollama tok/s", func(f figures.Stream) (float64, bool) { return f.EvalRate, f.HasOllama }, "%.1f", false, false, false},
	{"prompt eval ms", func(f figures.Stream) (float64, bool) { return f.PromptEvalMs, f.HasOllama }, "%.1f", true, false, false},
	{"load ms", func(f figures.Stream) (float64, bool) { return f.LoadMs, f.HasOllama }, "%.1f", true, false, false},
}

// statsNote explains the columns whose meaning the title cannot hold.
var statsNote = "TTFT: time to the first answer token from the stream's start, what a reader waits for · " +
	"first token at: the same on the run's clock (in a sync run, from the start of the whole run) · " +
	"think TTFT: to the first thinking token · thinking s: from it to the answer · " +
	fmt.Sprintf("tokens/s: thinking and answer tokens together, shown only when they came over %d ms or more · ", figures.MinRateSpanMs) +
	"queued: waiting behind other requests in the model server; busy: the server working on the stream (loading, prompt, generation), " +
	"by its own clock, or with * as Tokenloom saw it where the server sent none · " +
	"eval_count: the tokens Ollama generated, thinking included · " +
	"green: the fastest, red: the slowest, as shown; streams stopped or failed are not ranked"

// statsTable shows each stream's figures side by side, one row per stream;
// in each column the fastest value is marked green and the slowest red.
type statsTable struct {
	root    fyne.CanvasObject // the table over its note
	table   *widget.Table
	labels  []string
	figures []*figures.Stream
}

func newStatsTable() *statsTable {
	s := &statsTable{}
	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(s.labels), len(statColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("00000000.0") },
		func(id widget.TableCellID, o fyne.CanvasObject) { s.fill(id, o.(*widget.Label)) },
	)
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		switch {
		case id.Row < 0 && id.Col >= 0:
			l.SetText(statColumns[id.Col].title)
		case id.Col < 0 && id.Row >= 0 && id.Row < len(s.labels):
			l.SetText(s.rowName(id.Row))
		default:
			l.SetText("")
		}
	}
	s.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("8 demo/hamlet (stopped)") }
	for i, c := range statColumns {
		title := widget.NewLabel(c.title)
		title.TextStyle = fyne.TextStyle{Bold: true} // as the header draws it
		s.table.SetColumnWidth(i, max(title.MinSize().Width+8, 96))
	}
	note := widget.NewLabel(statsNote)
	note.SizeName = theme.SizeNameCaptionText
	note.Wrapping = fyne.TextWrapWord
	s.root = container.NewBorder(nil, note, nil, nil, s.table)
	return s
}

func (s *statsTable) reset(labels []string) {
	s.labels = labels
	s.figures = make([]*figures.Stream, len(labels))
	s.table.Refresh()
}

// set records the figures of stream i once it has ended.
func (s *statsTable) set(i int, f figures.Stream) {
	s.figures[i] = &f
	s.table.Refresh()
}

// remove takes row i out: its stream's pane was closed.
func (s *statsTable) remove(i int) {
	if i < 0 || i >= len(s.labels) {
		return
	}
	s.labels = slices.Delete(slices.Clone(s.labels), i, i+1)
	s.figures = slices.Delete(s.figures, i, i+1)
	s.table.Refresh()
}

// rowName is the header of row i: the stream's label, and how it ended
// when that keeps it out of the ranking.
func (s *statsTable) rowName(i int) string {
	name := s.labels[i]
	if f := s.figures[i]; f != nil {
		switch f.End {
		case figures.EndCancelled:
			name += " (stopped)"
		case figures.EndFailed:
			name += " (failed)"
		}
	}
	return name
}

// Cell returns the text of row, col and how it stands out: +1 fastest, -1
// slowest, 0 neither. Values are ranked as they are shown, rounded by the
// column's format, among the streams that ended normally
// (figures.Stream.Comparable): a stream stopped or failed is shown but
// never ranked, and takes no part in the others' ranking. A value stands
// out only when no other stream shows the same: a tie at the top is not
// "the fastest", and when all show the same nothing stands out.
func (s *statsTable) Cell(row, col int) (text string, rank int) {
	f := s.figures[row]
	if f == nil {
		return "…", 0
	}
	c := statColumns[col]
	v, ok := c.value(*f)
	if !ok {
		return "–", 0
	}
	text = fmt.Sprintf(c.format, v)
	if c.clocked && !f.ServerClock {
		text += "*"
	}
	if c.unranked || !f.Comparable() {
		return text, 0
	}
	mine := shownValue(text)
	// How many others show a better, a worse and the same value.
	var better, worse, same int
	for i, g := range s.figures {
		if i == row || g == nil || !g.Comparable() {
			continue
		}
		w, ok := c.value(*g)
		if !ok {
			continue
		}
		switch other := shownValue(fmt.Sprintf(c.format, w)); {
		case other == mine:
			same++
		case (other < mine) == c.lowerIsBetter:
			better++
		default:
			worse++
		}
	}
	switch {
	case same > 0 || better+worse == 0:
		return text, 0
	case better == 0:
		return text, 1
	case worse == 0:
		return text, -1
	}
	return text, 0
}

// shownValue is the value of a figure as its text shows it.
func shownValue(text string) float64 {
	v, _ := strconv.ParseFloat(text, 64)
	return v
}

func (s *statsTable) fill(id widget.TableCellID, l *widget.Label) {
	if id.Row >= len(s.labels) {
		l.SetText("")
		return
	}
	text, rank := s.Cell(id.Row, id.Col)
	l.Importance = widget.MediumImportance
	l.TextStyle = fyne.TextStyle{}
	switch rank {
	case 1:
		l.Importance, l.TextStyle = widget.SuccessImportance, fyne.TextStyle{Bold: true}
	case -1:
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
}
