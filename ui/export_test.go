package ui

import (
	"slices"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Test hooks: state of the widgets that the tests read and the app itself
// never needs.

// RowCount is the number of visual rows.
func (v *TokenView) RowCount() int { return len(v.rows) }

// Following reports whether the view scrolls to new text.
func (v *TokenView) Following() bool { return v.follow }

// ScrollOffset is how far the view is scrolled from the top.
func (v *TokenView) ScrollOffset() float32 { return v.offset }

// TipText is the text of the tip shown, "" when hidden.
func (t *Timeline) TipText() string {
	if !t.tip.Visible() {
		return ""
	}
	return t.tip.Text
}

// Interval is lane i's span in run time, from its start (its first phase
// other than waiting) to its end (where its last phase ends: -1 while it
// runs, or before any phase); start -1 before it.
func (t *Timeline) Interval(i int) (start, end float64) {
	start, end = -1, -1
	phases := t.lanes[i].phases
	for _, p := range phases {
		if p.phase != wire.PhaseWaiting {
			start = p.start
			break
		}
	}
	if n := len(phases); n > 0 {
		end = phases[n-1].end
	}
	return start, end
}

// tickX is the x position of lane i's tick k of the answer, in widget
// coordinates.
func (t *Timeline) tickX(i, k int) float32 { return t.timeX(t.lanes[i].ticks[k]) }

// Labels are the names the legend shows, in order.
func (l *timelineLegend) Labels() []string {
	out := make([]string, len(legendItems))
	for i, it := range legendItems {
		out[i] = it.Label
	}
	return out
}

// Text is the frames shown, each followed by a blank line as on the wire.
func (w *wireView) Text() string { return w.view.Text() }

// appliedTokens are the tokens the views have taken, in the order they took
// them: those painted, then those waiting for a frame.
func (p *Probe) appliedTokens() []Sample {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(slices.Clone(p.samples), p.waiting...)
}

// Phases are lane i's phases in order (end -1 for one that lasts).
func (t *Timeline) Phases(i int) []phaseSpan {
	return slices.Clone(t.lanes[i].phases)
}

// ThinkingTicks are the t_ms of lane i's ticks of the reasoning.
func (t *Timeline) ThinkingTicks(i int) []float64 {
	return slices.Clone(t.lanes[i].thinks)
}

// figuresLine is the second line of a pane's status: its figures.
func (p *Pane) figuresLine() string {
	_, figs, _ := strings.Cut(p.status.Text, "\n")
	return strings.TrimSpace(figs)
}
