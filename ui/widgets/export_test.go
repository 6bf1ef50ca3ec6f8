package widgets

// Test hooks: state of the widgets that the tests read and the app itself
// never needs.

// RowCount is the number of visual rows.
func (v *TokenView) RowCount() int { return len(v.rows) }

// TipText is the text of the tip shown, "" when hidden.
func (t *Timeline) TipText() string {
	if !t.tip.Visible() {
		return ""
	}
	return t.tip.Text
}

// tickX is the x position of lane i's tick k of the answer, in widget
// coordinates.
func (t *Timeline) tickX(i, k int) float32 { return t.timeX(t.lanes[i].ticks[k]) }

// Labels are the names the legend shows, in order.
func (l *TimelineLegend) Labels() []string {
	out := make([]string, len(legendItems))
	for i, it := range legendItems {
		out[i] = it.Label
	}
	return out
}
