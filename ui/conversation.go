package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// A run that ends leaves each pane a turn of its conversation: the prompt
// and the pane's own answer. A run with a new prompt is a follow-up: each
// pane sends its own conversation (its answers, never another pane's), and
// shows the turns above the new answer, each with its figures. A run of
// the same prompt again runs the last turn again, in place of its answers
// (to try other options or modes, or a warm model). New conversation, a
// comparison, another model in the pane or new panes start over.

// paneTurn is one finished turn of a pane's conversation.
type paneTurn struct {
	prompt, answer string
	run            string // the run it was a stream of
	// figures are the turn's figures as its status said them; empty for a
	// turn of a saved conversation, whose figures are in its own run.
	figures string
}

// history is the pane's conversation as a follow-up sends it.
func (p *Pane) history() []wire.Turn {
	if len(p.turns) == 0 {
		return nil
	}
	out := make([]wire.Turn, len(p.turns))
	for i, t := range p.turns {
		out[i] = wire.Turn{Prompt: t.prompt, Answer: t.answer}
	}
	return out
}

// setHistory makes turns the pane's conversation before its next stream:
// a saved run's.
func (p *Pane) setHistory(turns []wire.Turn) {
	p.turns = p.turns[:0]
	for _, t := range turns {
		p.turns = append(p.turns, paneTurn{prompt: t.Prompt, answer: t.Answer})
	}
}

// followUpHistory is the history the pane sends with prompt: its
// conversation, less its last turn when the run is that turn again.
func (p *Pane) followUpHistory(again bool) []wire.Turn {
	h := p.history()
	if n := len(p.turns); again && n > 0 && p.turns[n-1].run == p.app.turnRun {
		h = h[:n-1]
	}
	return h
}

// keepTurns keeps the first n turns of the conversation: those the run
// starting now went on from.
func (p *Pane) keepTurns(n int) {
	if n < len(p.turns) {
		p.turns = p.turns[:n]
	}
}

// endTurn makes the stream that ended the conversation's latest turn,
// unless it ended with no answer and not by the model's own stop (it
// failed or was stopped before its first token): then the conversation
// stays where it was.
func (p *Pane) endTurn() {
	if p.streamID == "" || p.prompt == "" || p.answer.Len() == 0 && (p.state != paneDone || p.reason != wire.ReasonStop) {
		return
	}
	p.turns = append(p.turns, paneTurn{prompt: p.prompt, answer: p.answer.String(), run: p.app.runID, figures: p.turnNote()})
	p.prompt = "" // ended: a second endTurn adds nothing
	p.updateStatus()
}

// turnNote is the line under an ended turn: its number, how it ended
// unless the model finished, its duration and its figures.
func (p *Pane) turnNote() string {
	note := []string{fmt.Sprintf("turn %d", p.turn)}
	switch {
	case p.state == paneFailed:
		note = append(note, "error")
	case p.reason != wire.ReasonStop:
		note = append(note, p.endingWords())
	}
	if p.stats != nil {
		note = append(note, fmt.Sprintf("%.2f s", p.stats.DurationMs/1000))
	}
	if _, figs := p.statusLines(); figs != "" {
		note = append(note, figs)
	}
	return strings.Join(note, " · ")
}

// showConversation writes the earlier turns and the user's line of the
// current one into the pane's view; a pane with no earlier turn shows its
// answer alone.
func (p *Pane) showConversation(prompt string) {
	if len(p.turns) == 0 {
		return
	}
	var spans []widgets.Span
	for i, t := range p.turns {
		spans = append(spans, widgets.Span{Text: userLine(t.prompt), User: true, Slot: p.slot}, widgets.Span{Text: t.answer, Slot: p.slot})
		note := t.figures
		if note == "" {
			note = fmt.Sprintf("turn %d", i+1)
		}
		spans = append(spans, widgets.Span{Text: "\n" + note + "\n\n", User: true, Dim: true, Slot: p.slot})
	}
	p.view.Append(append(spans, widgets.Span{Text: userLine(prompt), User: true, Slot: p.slot})...)
}

// userLine is the user's line of a turn as the pane shows it.
func userLine(prompt string) string { return "› " + prompt + "\n" }

// inConversation reports whether a pane holds a turn: the next run is a
// follow-up.
func (a *App) inConversation() bool {
	for _, p := range a.panes {
		if len(p.turns) > 0 {
			return true
		}
	}
	return false
}

// endTurns makes the run that ended in panes the latest turn of each
// pane's conversation.
func (a *App) endTurns(panes []*Pane) {
	for _, p := range panes {
		if slices.Contains(a.panes, p) {
			prompt := p.prompt
			if p.endTurn(); p.prompt == "" && prompt != "" {
				a.turnRun, a.turnPrompt = a.runID, prompt
			}
		}
	}
	a.conversationControls()
	if sel := a.tabs.Selected(); sel != nil && sel.Text == "Diff" {
		a.views.diff.refresh() // the new answers to pick
	}
	if a.inConversation() {
		// The next line replaces the last, as in a chat.
		if f := a.win.Canvas().Focused(); f == nil || f == a.prompt {
			a.win.Canvas().Focus(a.prompt)
			a.prompt.TypedShortcut(&fyne.ShortcutSelectAll{})
		}
	}
}

// newConversation forgets every pane's conversation: the next run asks
// each model afresh.
func (a *App) newConversation() {
	if a.running {
		return
	}
	had := a.inConversation()
	for _, p := range a.panes {
		p.turns = nil
		p.clearResult()
	}
	a.turnRun, a.turnPrompt = "", ""
	a.conversationControls()
	if had {
		a.runStatus.SetText("New conversation: the next run asks every model afresh.")
	}
}

// again reports whether the next run is the last turn again: in a
// conversation, with the last turn's prompt.
func (a *App) again() bool {
	return a.inConversation() && a.turnPrompt != "" && a.prompt.Text == a.turnPrompt
}

// conversationControls sets the run button, the prompt's hint and New
// conversation to whether the next run is a follow-up.
func (a *App) conversationControls() {
	if a.inConversation() {
		label := "Follow up"
		if a.again() {
			label = "Run again"
		}
		if a.runBtn.Text != label {
			a.runBtn.SetText(label)
		}
		a.setPromptHint(followUpHint)
		if !a.running {
			a.newBtn.Enable()
		}
		return
	}
	if a.runBtn.Text != "Run" {
		a.runBtn.SetText("Run")
	}
	a.setPromptHint(promptHint)
	a.newBtn.Disable()
}

// setPromptHint shows hint in the empty prompt; the prompt is redrawn only
// when it changes (this runs on every key typed in the prompt).
func (a *App) setPromptHint(hint string) {
	if a.prompt.PlaceHolder != hint {
		a.prompt.SetPlaceHolder(hint)
		a.prompt.Refresh()
	}
}

// The prompt's placeholders, outside a conversation and in one.
const (
	promptHint   = "Prompt: what should every model answer? (Ctrl+Enter runs, Esc stops)"
	followUpHint = "Follow-up for every pane: each goes on from its own answer (Ctrl+Enter sends, Ctrl+N starts over)"
)
