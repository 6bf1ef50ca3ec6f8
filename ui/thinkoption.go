package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2/widget"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// thinkDefault is the think option's label for sending nothing: the model
// thinks or not as it does by default.
const thinkDefault = "model default"

// thinkLabels name the think values in the pane's options.
var thinkLabels = []struct {
	think wire.Think
	label string
}{
	{wire.ThinkOff, "off"},
	{wire.ThinkOn, "on"},
	{wire.ThinkLow, "low"},
	{wire.ThinkMedium, "medium"},
	{wire.ThinkHigh, "high"},
}

// thinkLabel is the label of t; thinkDefault for nil.
func thinkLabel(t *wire.Think) string {
	if t != nil {
		for _, l := range thinkLabels {
			if l.think == *t {
				return l.label
			}
		}
	}
	return thinkDefault
}

// thinkOf reads a label back; nil for thinkDefault (or anything unknown).
func thinkOf(label string) *wire.Think {
	for _, l := range thinkLabels {
		if l.label == label {
			t := l.think
			return &t
		}
	}
	return nil
}

// thinkChoices are the think values that make sense for m: none when its
// capabilities do not say it thinks (Ollama refuses think for such a
// model), the levels for a model that takes them instead of on and off
// (gpt-oss, which thinks whatever it is told), on and off for the others.
func thinkChoices(m wire.Model) []wire.Think {
	switch {
	case !m.Thinks():
		return nil
	case takesLevels(m):
		return []wire.Think{wire.ThinkLow, wire.ThinkMedium, wire.ThinkHigh}
	}
	return []wire.Think{wire.ThinkOff, wire.ThinkOn}
}

// takesLevels reports whether m takes a level of thinking (low, medium,
// high) rather than on or off; Ollama's capabilities do not say, its
// family and name do.
func takesLevels(m wire.Model) bool {
	family := strings.ToLower(m.Family)
	return family == "gptoss" || family == "gpt-oss" || strings.HasPrefix(strings.ToLower(m.Name), "gpt-oss")
}

// thinkLabelsOf are the labels the option offers for choices.
func thinkLabelsOf(choices []wire.Think) []string {
	out := []string{thinkDefault}
	for _, c := range choices {
		out = append(out, thinkLabel(&c))
	}
	return out
}

// newThinkOption makes the pane's think option, set to saved; changed
// runs when the user changes it.
func (p *Pane) newThinkOption(saved *wire.Think, changed func()) {
	p.think = widget.NewSelect(thinkLabelsOf([]wire.Think{wire.ThinkOff, wire.ThinkOn, wire.ThinkLow, wire.ThinkMedium, wire.ThinkHigh}), nil)
	p.think.Selected = thinkLabel(saved)
	p.think.OnChanged = func(string) { changed() }
	p.thinkRow = labeled("Think", p.think)
	p.thinkRow.Hide() // until the models' capabilities are known
}

// updateThinkOption offers the choices of the pane's model, or hides the
// option for a model that does not think. Before the model list is known,
// and for a model it does not hold, the option stays hidden and keeps what
// was saved.
func (p *Pane) updateThinkOption() {
	m, known := p.app.modelInfo[p.model.Selected]
	choices := thinkChoices(m)
	if !known || len(choices) == 0 {
		p.thinkRow.Hide()
		return
	}
	labels := thinkLabelsOf(choices)
	if !slices.Equal(labels, p.think.Options) {
		p.think.Options = labels
		if !slices.Contains(labels, p.think.Selected) {
			p.think.Selected = thinkDefault
		}
		p.think.Refresh()
	}
	p.thinkRow.Show()
}

// thinkChoice is the think value to send: the option's when it is offered;
// the saved one while the model's capabilities are unknown; else nil, to
// send nothing.
func (p *Pane) thinkChoice() *wire.Think {
	if _, known := p.app.modelInfo[p.model.Selected]; known && !p.thinkRow.Visible() {
		return nil
	}
	return thinkOf(p.think.Selected)
}
