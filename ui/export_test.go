package ui

import "slices"

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

// Interval is lane i's span from its start to its end in run time (end -1
// while it runs).
func (t *Timeline) Interval(i int) (start, end float64) {
	return t.lanes[i].start, t.lanes[i].end
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
