package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/figures"
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
}

// statColumns are the figures, the time a reader waits for first. A figure
// a stream does not have (no answer, no reasoning, no Ollama metrics) is
// "–" and takes no part in the ranking.
var statColumns = []statColumn{
	{"TTFT ms", func(f figures.Stream) (float64, bool) { return f.TTFTMs, f.Tokens > 0 }, "%.0f", true, false},
	{"think TTFT ms", func(f figures.Stream) (float64, bool) { return f.ThinkingTTFTMs, f.ThinkingTokens > 0 }, "%.0f", true, false},
	{"thinking s", func(f figures.Stream) (float64, bool) { return f.ThinkingMs / 1000, f.ThinkingTokens > 0 }, "%.2f", false, true},
	{"thinking tokens", func(f figures.Stream) (float64, bool) { return float64(f.ThinkingTokens), f.ThinkingTokens > 0 }, "%.0f", false, true},
	{"answer tokens", func(f figures.Stream) (float64, bool) { return float64(f.Tokens), true }, "%.0f", false, true},
	{"tokens/s", func(f figures.Stream) (float64, bool) { return f.TokensPerS, f.Tokens+f.ThinkingTokens > 1 }, "%.1f", false, false},
	{"ITL p50 ms", func(f figures.Stream) (float64, bool) { return f.ITLP50Ms, f.Tokens > 1 }, "%.1f", true, false},
	{"ITL p95 ms", func(f figures.Stream) (float64, bool) { return f.ITLP95Ms, f.Tokens > 1 }, "%.1f", true, false},
	{"duration s", func(f figures.Stream) (float64, bool) { return f.DurationMs / 1000, true }, "%.2f", true, false},
	{"eval_count", func(f figures.Stream) (float64, bool) { return float64(f.EvalCount), f.HasOllama }, "%.0f", false, true},
	{"Ollama tok/s", func(f figures.Stream) (float64, bool) { return f.EvalRate, f.HasOllama }, "%.1f", false, false},
	{"prompt eval ms", func(f figures.Stream) (float64, bool) { return f.PromptEvalMs, f.HasOllama }, "%.1f", true, false},
	{"load ms", func(f figures.Stream) (float64, bool) { return f.LoadMs, f.HasOllama }, "%.1f", true, false},
}

// statsNote explains the columns whose meaning the title cannot hold.
const statsNote = "TTFT: time to the first answer token, what a reader waits for · " +
	"think TTFT: to the first thinking token · thinking s: from it to the answer · " +
	"tokens/s: thinking and answer tokens together · eval_count: the tokens Ollama generated, thinking included · " +
	"green: the fastest, red: the slowest"

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
			l.SetText(fmt.Sprintf("%d %s", id.Row+1, s.labels[id.Row]))
		default:
			l.SetText("")
		}
	}
	s.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("stream name here") }
	for i, c := range statColumns {
		w := widget.NewLabel(c.title).MinSize().Width
		s.table.SetColumnWidth(i, max(w+8, 96))
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

// Cell returns the text of row, col and how it stands out: +1 fastest, -1
// slowest, 0 neither.
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
	if c.unranked {
		return text, 0
	}
	best, worst, n := v, v, 0
	for _, g := range s.figures {
		if g == nil {
			continue
		}
		if w, ok := c.value(*g); ok {
			n++
			best, worst = pick(best, w, c.lowerIsBetter), pick(worst, w, !c.lowerIsBetter)
		}
	}
	switch {
	case n < 2 || best == worst:
		return text, 0
	case v == best:
		return text, 1
	case v == worst:
		return text, -1
	}
	return text, 0
}

func pick(a, b float64, lower bool) float64 {
	if lower {
		return min(a, b)
	}
	return max(a, b)
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
