package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/frame"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// paneState is where a pane's stream is.
type paneState int

const (
	paneIdle paneState = iota
	paneRunning
	paneDone
	paneFailed
)

// Pane is one stream slot: its model and options, its live status and its
// text in its slot's colour. All its methods run on the Fyne thread.
type Pane struct {
	app  *App
	slot int

	badge    *paneBadge
	model    *widget.Select
	temp     *widget.Entry
	seed     *widget.Entry
	maxTok   *widget.Entry
	rate     *widget.Entry
	think    *widget.Select    // the think option (thinkoption.go)
	thinkRow fyne.CanvasObject // it with its caption, hidden for models that do not think
	options  *fyne.Container
	optsBtn  *widgets.TipButton
	stopBtn  *widgets.TipButton
	copyBtn  *widgets.TipButton
	closeBtn *widgets.TipButton
	status   *widget.Label      // where the stream is, over its figures
	errLabel *widget.Label      // its error, or why it stopped early
	view     *widgets.TokenView // the answer
	thought  *thought           // the reasoning, above the answer
	root     fyne.CanvasObject

	state    paneState
	streamID string
	runModel string // the model of the stream, as the server started it
	began    time.Time
	phase    string
	tokens   int
	startMs  float64
	firstMs  float64
	lastMs   float64
	stats    *wire.Stats
	reason   string
	asked    int       // the most tokens the stream was asked for; 0: no limit
	statusAt time.Time // last update of the status line

	// The conversation (conversation.go): the turns before the stream,
	// the stream's prompt (until it is a turn) and its answer so far, and
	// which turn it is (1 for the first; 0 before any stream).
	turns  []paneTurn
	prompt string
	answer strings.Builder
	turn   int
}

func newPane(a *App, slot int, cfg PaneConfig) *Pane {
	p := &Pane{app: a, slot: slot, view: widgets.NewTokenView()}
	p.thought = newThought(slot, p.view)
	p.badge = newPaneBadge(a, slot)
	changed := func() {
		a.save()
		if p.state == paneIdle {
			p.updateStatus() // it sums the options up
		}
	}
	p.newThinkOption(cfg.Think, changed)
	option := endpoints.ModelRef{Model: cfg.Model, Endpoint: cfg.Endpoint}.String()
	p.model = widget.NewSelect(withModel(a.modelNames(), option), nil)
	p.model.PlaceHolder = "(choose a model)"
	p.model.SetSelected(option) // before OnChanged: the saved model is no change
	p.updateThinkOption()
	p.model.OnChanged = func(string) {
		p.updateThinkOption()
		p.clearResult() // the text and the conversation were another model's
		a.conversationControls()
		changed()
	}

	p.temp = numberEntry(fmtFloat(cfg.Temperature), changed)
	p.seed = numberEntry(fmtInt64(cfg.Seed), changed)
	p.maxTok = numberEntry(fmtInt(cfg.MaxTokens), changed)
	p.rate = numberEntry(fmtFloat(cfg.Rate), changed)
	// The options start closed, whatever is set: open they take four rows
	// of the text's height. The status line sums up what is set.
	p.options = container.NewGridWithColumns(2,
		labeled("Temperature", p.temp), labeled("Seed", p.seed),
		labeled("Max tokens", p.maxTok), labeled("Pace, tokens/s (flood, echo)", p.rate),
		p.thinkRow)
	p.options.Hide()
	p.optsBtn = a.tips.NewButton(theme.SettingsIcon(), "Options of this stream: temperature, seed, max tokens…", func() {
		if p.options.Visible() {
			p.options.Hide()
		} else {
			p.options.Show()
		}
	})
	p.stopBtn = a.tips.NewButton(theme.MediaStopIcon(), "Stop this stream only", p.stop)
	p.stopBtn.Disable()
	p.copyBtn = a.tips.NewButton(theme.ContentCopyIcon(), "Copy this stream's answer", func() {
		a.fyneApp.Clipboard().SetContent(p.answer.String())
		p.copyBtn.Flash(theme.ConfirmIcon())
	})
	p.closeBtn = a.tips.NewButton(theme.CancelIcon(), "Close this pane", func() { a.removePane(p) })

	p.status = widget.NewLabel("")
	p.status.SizeName = theme.SizeNameCaptionText
	p.status.Truncation = fyne.TextTruncateEllipsis
	p.errLabel = widget.NewLabel("")
	p.errLabel.Importance = widget.DangerImportance
	p.errLabel.Wrapping = fyne.TextWrapWord
	p.errLabel.Hide()
	p.updateStatus()

	// The model and what configures the pane on the first row; the
	// stream's state over its figures, and what acts on the stream, on
	// the second: the model's name keeps its room in a narrow pane.
	header := container.NewBorder(nil, nil,
		container.NewCenter(p.badge),
		container.NewHBox(p.optsBtn, p.closeBtn),
		p.model)
	state := container.NewBorder(nil, nil, nil, container.NewHBox(p.stopBtn, p.copyBtn), p.status)
	top := container.NewVBox(header, p.options, state, p.errLabel)
	// Square corners: a rounded rectangle's shader costs more per pixel,
	// and the body is the largest area a frame paints.
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	body := container.NewStack(bg, container.NewPadded(p.thought.box))
	p.root = frame.WithMinCache(&a.frameGen, container.NewBorder(top, nil, nil, nil, body))
	return p
}

// outcome is the pane's stream as the run's figures take it.
func (p *Pane) outcome() figures.Outcome {
	o := figures.Outcome{Stats: p.stats, Model: p.runModel}
	switch {
	case p.state == paneFailed:
		o.End = figures.EndFailed
	case p.state == paneDone && p.reason == wire.ReasonCancelled:
		o.End = figures.EndCancelled
	case p.state == paneDone:
		o.End = figures.EndNormal
	}
	return o
}

// begin resets the pane for a new stream of model, as the server started
// it (the picker may have changed since Run), answering prompt: after the
// pane's earlier turns, if it has any.
func (p *Pane) begin(streamID, model, prompt string) {
	p.state = paneRunning
	p.prompt, p.turn = prompt, len(p.turns)+1
	p.answer.Reset()
	p.streamID, p.runModel = streamID, model
	p.began = time.Now()
	p.phase = "starting"
	p.tokens = 0
	p.startMs, p.firstMs, p.lastMs = 0, 0, 0
	p.stats = nil
	p.reason = ""
	p.asked = 0
	if cfg, err := p.config(); err == nil && cfg.MaxTokens != nil {
		p.asked = *cfg.MaxTokens
	}
	p.view.Clear()
	p.showConversation(prompt)
	p.thought.reset()
	p.errLabel.Hide()
	p.stopBtn.Enable()
	p.model.Disable()
	p.updateStatus()
}

// showError shows a failure of this pane's stream in the pane only.
func (p *Pane) showError(msg, hint string) {
	p.state = paneFailed
	p.errLabel.Importance = widget.DangerImportance
	p.errLabel.SetText(withHint(msg, hint))
	p.errLabel.Show()
	p.finishControls()
	p.updateStatus()
}

func (p *Pane) finishControls() {
	p.stopBtn.Disable()
	p.model.Enable()
}

// statusEvery is the least time between two updates of a running pane's
// live figures.
const statusEvery = 250 * time.Millisecond

// apply takes a batch of the stream's events.
func (p *Pane) apply(batch []client.Event, final bool) {
	phase, tokens, thoughts := p.phase, p.tokens, p.thought.tokens
	var spans, thinking []widgets.Span
	var thinkFirstMs float64 // of the batch's first thinking token
	for _, ev := range batch {
		switch ev.Type {
		case wire.EventPhase:
			p.phase = ev.Phase
			if ev.Phase != wire.PhaseWaiting && p.startMs == 0 {
				p.startMs = ev.TMs
			}
		case wire.EventThinking:
			if len(thinking) == 0 {
				thinkFirstMs = ev.TMs
			}
			p.lastMs = ev.TMs
			thinking = append(thinking, widgets.Span{Text: ev.Text, Slot: p.slot, Dim: true})
		case wire.EventToken:
			if p.tokens == 0 {
				p.firstMs = ev.TMs
				p.phase = wire.PhaseGenerating
			}
			p.tokens++
			p.lastMs = ev.TMs
			p.answer.WriteString(ev.Text)
			spans = append(spans, widgets.Span{Text: ev.Text, Slot: p.slot})
		case wire.EventDone:
			p.state = paneDone
			p.stats, p.reason = ev.Stats, ev.Reason
			p.thought.ended(ev.TMs)
		case wire.EventError:
			p.stats = ev.Stats
			p.thought.ended(ev.TMs)
			p.showError(ev.Message, ev.Hint)
		}
	}
	p.thought.add(thinking, thinkFirstMs)
	if tokens == 0 && p.tokens > 0 {
		p.thought.answered(p.firstMs)
	}
	p.view.Append(spans...)
	if final && p.state == paneRunning {
		p.state = paneDone
		p.reason = wire.ReasonCancelled
		p.thought.ended(p.lastMs)
	}
	if p.state != paneRunning {
		p.finishControls()
		if note := p.lengthNote(); note != "" && p.state == paneDone {
			p.errLabel.Importance = widget.WarningImportance
			p.errLabel.SetText(note)
			p.errLabel.Show()
		}
	}
	// A running pane's figures change with every batch; redrawing them
	// more often than statusEvery only costs frames.
	if p.state != paneRunning || p.phase != phase || p.tokens > 0 && tokens == 0 || p.thought.tokens > 0 && thoughts == 0 || time.Since(p.statusAt) >= statusEvery {
		p.updateStatus()
	}
}

// clearResult takes an ended stream's text, figures and error away, and
// the pane's conversation: the pane is ready to start over.
func (p *Pane) clearResult() {
	if p.state == paneRunning {
		return
	}
	p.state = paneIdle
	p.streamID, p.stats, p.reason, p.tokens = "", nil, "", 0
	p.turns, p.prompt, p.turn = nil, "", 0
	p.answer.Reset()
	p.view.Clear()
	p.thought.reset()
	p.errLabel.Hide()
	p.updateStatus()
}

// stop cancels this pane's stream only.
func (p *Pane) stop() {
	if p.state != paneRunning {
		return
	}
	id := p.streamID
	p.stopBtn.Disable()
	p.app.background(func(ctx context.Context, cl *client.Client) func() {
		err := cl.CancelStream(ctx, id)
		return func() {
			if err != nil && !client.IsNotFound(err) {
				message, hint := client.Explain(err)
				p.showError("could not stop the stream: "+message, hint)
			}
		}
	})
}

// refreshModels offers names in the model picker, keeping the selection
// (which is no change: nothing is saved), and the think option of the
// selected model.
func (p *Pane) refreshModels(names []string) {
	p.model.SetOptions(withModel(names, p.model.Selected))
	p.updateThinkOption()
}
