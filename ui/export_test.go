package ui

import (
	"strings"
)

// Test hooks: state of the app that the tests read and the app itself
// never needs.

// Text is the frames shown, each followed by a blank line as on the wire.
func (w *wireView) Text() string { return w.view.Text() }

// figuresLine is the second line of a pane's status: its figures.
func (p *Pane) figuresLine() string {
	_, figs, _ := strings.Cut(p.status.Text, "\n")
	return strings.TrimSpace(figs)
}
