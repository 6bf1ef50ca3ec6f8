package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/figures"
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

	swatch   *canvas.Rectangle
	model    *widget.Select
	temp     *widget.Entry
	seed     *widget.Entry
	maxTok   *widget.Entry
	rate     *widget.Entry
	think    *widget.Select    // the think option (thinkoption.go)
	thinkRow fyne.CanvasObject // it with its caption, hidden for models that do not think
	options  *fyne.Container
	optsBtn  *widget.Button
	stopBtn  *widget.Button
	copyBtn  *widget.Button
	closeBtn *widget.Button
	status   *widget.Label
	errLabel *widget.Label
	view     *TokenView // the answer
	thought  *thought   // the reasoning, above the answer
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
	stats    *client.Stats
	reason   string
	statusAt time.Time // last update of the status line
}

func newPane(a *App, slot int, cfg PaneConfig) *Pane {
	p := &Pane{app: a, slot: slot, view: NewTokenView()}
	p.thought = newThought(slot, p.view)
	p.swatch = canvas.NewRectangle(a.theme.Color(SlotColorName(slot), a.variant()))
	p.swatch.SetMinSize(fyne.NewSize(14, 14))
	p.swatch.CornerRadius = 3
	changed := func() {
		a.save()
		if p.state == paneIdle {
			p.updateStatus() // it sums the options up
		}
	}
	p.newThinkOption(cfg.Think, changed)
	p.model = widget.NewSelect(withModel(a.modelNames(), cfg.Model), nil)
	p.model.PlaceHolder = "(choose a model)"
	p.model.SetSelected(cfg.Model) // before OnChanged: the saved model is no change
	p.updateThinkOption()
	p.model.OnChanged = func(string) {
		p.updateThinkOption()
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
	p.optsBtn = widget.NewButtonWithIcon("", theme.SettingsIcon(), func() {
		if p.options.Visible() {
			p.options.Hide()
		} else {
			p.options.Show()
		}
	})
	p.stopBtn = widget.NewButtonWithIcon("", theme.MediaStopIcon(), p.stop)
	p.stopBtn.Disable()
	p.copyBtn = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		a.win.Clipboard().SetContent(p.view.Text())
	})
	p.closeBtn = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { a.removePane(p) })
	for _, b := range []*widget.Button{p.optsBtn, p.stopBtn, p.copyBtn, p.closeBtn} {
		b.Importance = widget.LowImportance
	}

	p.status = widget.NewLabel("")
	p.status.SizeName = theme.SizeNameCaptionText
	p.status.Truncation = fyne.TextTruncateEllipsis
	p.errLabel = widget.NewLabel("")
	p.errLabel.Importance = widget.DangerImportance
	p.errLabel.Wrapping = fyne.TextWrapWord
	p.errLabel.Hide()
	p.updateStatus()

	header := container.NewBorder(nil, nil,
		container.NewCenter(p.swatch),
		container.NewHBox(p.optsBtn, p.stopBtn, p.copyBtn, p.closeBtn),
		p.model)
	top := container.NewVBox(header, p.options, p.status, p.errLabel)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	body := container.NewStack(bg, container.NewPadded(p.thought.box))
	p.root = withMinCache(&a.frameGen, container.NewBorder(top, nil, nil, nil, body))
	return p
}

// begin resets the pane for a new stream of model, as the server started
// it (the picker may have changed since Run).
func (p *Pane) begin(streamID, model string) {
	p.state = paneRunning
	p.streamID, p.runModel = streamID, model
	p.began = time.Now()
	p.phase = "starting"
	p.tokens = 0
	p.startMs, p.firstMs, p.lastMs = 0, 0, 0
	p.stats = nil
	p.reason = ""
	p.view.Clear()
	p.thought.reset()
	p.errLabel.Hide()
	p.stopBtn.Enable()
	p.model.Disable()
	p.updateStatus()
}

// showError shows a failure of this pane's stream in the pane only.
func (p *Pane) showError(msg, hint string) {
	p.state = paneFailed
	text := msg
	if hint != "" {
		text += " — " + hint
	}
	p.errLabel.SetText(text)
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
	var spans, thinking []Span
	var thinkFirstMs float64 // of the batch's first thinking token
	for _, ev := range batch {
		switch ev.Type {
		case client.EventPhase:
			p.phase = ev.Phase
			if ev.Phase != client.PhaseWaiting && p.startMs == 0 {
				p.startMs = ev.TMs
			}
		case client.EventThinking:
			if len(thinking) == 0 {
				thinkFirstMs = ev.TMs
			}
			p.lastMs = ev.TMs
			thinking = append(thinking, Span{Text: ev.Text, Slot: p.slot, Dim: true})
		case client.EventToken:
			if p.tokens == 0 {
				p.firstMs = ev.TMs
				p.phase = client.PhaseGenerating
			}
			p.tokens++
			p.lastMs = ev.TMs
			spans = append(spans, Span{Text: ev.Text, Slot: p.slot})
		case client.EventDone:
			p.state = paneDone
			p.stats, p.reason = ev.Stats, ev.Reason
			p.thought.ended(ev.TMs)
		case client.EventError:
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
		p.reason = client.ReasonCancelled
		p.thought.ended(p.lastMs)
	}
	if p.state != paneRunning {
		p.finishControls()
	}
	// A running pane's figures change with every batch; redrawing them
	// more often than statusEvery only costs frames.
	if p.state != paneRunning || p.phase != phase || p.tokens > 0 && tokens == 0 || p.thought.tokens > 0 && thoughts == 0 || time.Since(p.statusAt) >= statusEvery {
		p.updateStatus()
	}
}

// statusText says where the stream is, with its live figures.
func (p *Pane) statusText() string {
	var parts []string
	switch p.state {
	case paneIdle:
		return strings.Join(append([]string{"ready"}, p.optionsSummary()...), " · ")
	case paneRunning:
		elapsed := fmt.Sprintf("%.1f s", time.Since(p.began).Seconds())
		if p.phase == client.PhaseQueued {
			return p.queuedText(elapsed)
		}
		parts = append(parts, phaseWords(p.phase), elapsed)
	case paneDone:
		parts = append(parts, "done ("+p.reason+")")
	case paneFailed:
		parts = append(parts, "error")
	}
	thinking := p.thought.tokens
	if st := p.stats; st != nil {
		parts = append(parts, fmt.Sprintf("%.2f s", st.DurationMs/1000))
		if st.Tokens > 0 {
			parts = append(parts, fmt.Sprintf("TTFT %.0f ms", st.TTFTMs))
		}
		if st.Tokens+st.ThinkingTokens > 0 {
			parts = append(parts, fmt.Sprintf("%.1f tok/s", st.TokensPerS))
		}
		return strings.Join(append(parts, tokenCount(st.Tokens, st.ThinkingTokens)), " · ")
	}
	if p.tokens > 0 {
		parts = append(parts, fmt.Sprintf("TTFT %.0f ms", figures.TTFT(p.startMs, p.firstMs)))
	}
	// Tokens per second count the reasoning's tokens too, as the server's
	// figure does.
	if n, first := p.tokens+thinking, figures.FirstGenerated(thinking, p.tokens, p.thought.firstMs, p.firstMs); n > 1 && p.lastMs > first {
		parts = append(parts, fmt.Sprintf("%.1f tok/s", figures.TokensPerS(n, first, p.lastMs, 0)))
	}
	return strings.Join(append(parts, tokenCount(p.tokens, thinking)), " · ")
}

// tokenCount counts the answer's tokens, and the reasoning's beside them:
// "7 tokens + 19 thinking", or "19 thinking tokens" before the answer.
func tokenCount(answer, thinking int) string {
	switch {
	case thinking == 0:
		return plural(answer, "token")
	case answer == 0:
		return plural(thinking, "thinking token")
	}
	return plural(answer, "token") + fmt.Sprintf(" + %d thinking", thinking)
}

// phaseWords is what the status line says of a running stream's phase.
func phaseWords(phase string) string {
	if phase == client.PhaseThinking {
		return "thinking…"
	}
	return phase
}

// queuedText is the status line of a queued stream: the longest of its
// wordings that fits the line, elapsed last.
func (p *Pane) queuedText(elapsed string) string {
	words := []string{
		"queued in Ollama: " + p.runModel + " is serving another stream",
		"queued in Ollama: serving another stream first",
		"queued in Ollama",
	}
	width := p.status.Size().Width - 2*theme.InnerPadding()
	size := theme.Size(theme.SizeNameCaptionText)
	for _, w := range words {
		text := w + " · " + elapsed
		if width <= 0 || fyne.MeasureText(text, size, p.status.TextStyle).Width <= width {
			return text
		}
	}
	return words[len(words)-1] + " · " + elapsed
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (p *Pane) updateStatus() {
	p.status.SetText(p.statusText())
	p.thought.update()
	p.statusAt = time.Now()
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
				p.showError("could not stop the stream: "+err.Error(), "")
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
