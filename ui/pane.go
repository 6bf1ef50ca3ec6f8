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
	options  *fyne.Container
	optsBtn  *widget.Button
	stopBtn  *widget.Button
	copyBtn  *widget.Button
	closeBtn *widget.Button
	status   *widget.Label
	errLabel *widget.Label
	view     *TokenView
	root     fyne.CanvasObject

	state    paneState
	streamID string
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
	p.swatch = canvas.NewRectangle(a.theme.Color(SlotColorName(slot), a.variant()))
	p.swatch.SetMinSize(fyne.NewSize(14, 14))
	p.swatch.CornerRadius = 3
	p.model = widget.NewSelect(withModel(a.modelNames(), cfg.Model), func(string) { a.save() })
	p.model.PlaceHolder = "(choose a model)"
	p.model.SetSelected(cfg.Model)

	changed := func() {
		a.save()
		if p.state == paneIdle {
			p.updateStatus() // it sums the options up
		}
	}
	p.temp = numberEntry(fmtFloat(cfg.Temperature), changed)
	p.seed = numberEntry(fmtInt64(cfg.Seed), changed)
	p.maxTok = numberEntry(fmtInt(cfg.MaxTokens), changed)
	p.rate = numberEntry(fmtFloat(cfg.Rate), changed)
	// The options start closed, whatever is set: open they take four rows
	// of the text's height. The status line sums up what is set.
	p.options = container.NewGridWithColumns(2,
		labeled("Temperature", p.temp), labeled("Seed", p.seed),
		labeled("Max tokens", p.maxTok), labeled("Pace, tokens/s (flood, echo)", p.rate))
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
	body := container.NewStack(bg, container.NewPadded(p.view))
	p.root = withMinCache(&a.frameGen, container.NewBorder(top, nil, nil, nil, body))
	return p
}

// begin resets the pane for a new stream.
func (p *Pane) begin(streamID string) {
	p.state = paneRunning
	p.streamID = streamID
	p.began = time.Now()
	p.phase = "starting"
	p.tokens = 0
	p.startMs, p.firstMs, p.lastMs = 0, 0, 0
	p.stats = nil
	p.reason = ""
	p.view.Clear()
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
	phase, tokens := p.phase, p.tokens
	var spans []Span
	for _, ev := range batch {
		switch ev.Type {
		case client.EventPhase:
			p.phase = ev.Phase
			if ev.Phase != client.PhaseWaiting && p.startMs == 0 {
				p.startMs = ev.TMs
			}
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
		case client.EventError:
			p.stats = ev.Stats
			p.showError(ev.Message, ev.Hint)
		}
	}
	p.view.Append(spans...)
	if final && p.state == paneRunning {
		p.state = paneDone
		p.reason = client.ReasonCancelled
	}
	if p.state != paneRunning {
		p.finishControls()
	}
	// A running pane's figures change with every batch; redrawing them
	// more often than statusEvery only costs frames.
	if p.state != paneRunning || p.phase != phase || p.tokens > 0 && tokens == 0 || time.Since(p.statusAt) >= statusEvery {
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
		parts = append(parts, p.phase, fmt.Sprintf("%.1f s", time.Since(p.began).Seconds()))
	case paneDone:
		parts = append(parts, "done ("+p.reason+")")
	case paneFailed:
		parts = append(parts, "error")
	}
	if st := p.stats; st != nil {
		parts = append(parts, fmt.Sprintf("%.2f s", st.DurationMs/1000))
		if st.Tokens > 0 {
			parts = append(parts, fmt.Sprintf("TTFT %.0f ms", st.TTFTMs), fmt.Sprintf("%.1f tok/s", st.TokensPerS))
		}
		parts = append(parts, plural(st.Tokens, "token"))
		return strings.Join(parts, " · ")
	}
	if p.tokens > 0 {
		parts = append(parts, fmt.Sprintf("TTFT %.0f ms", figures.TTFT(p.startMs, p.firstMs)))
		if p.tokens > 1 && p.lastMs > p.firstMs {
			parts = append(parts, fmt.Sprintf("%.1f tok/s", figures.TokensPerS(p.tokens, p.firstMs, p.lastMs, 0)))
		}
	}
	parts = append(parts, plural(p.tokens, "token"))
	return strings.Join(parts, " · ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func (p *Pane) updateStatus() {
	p.status.SetText(p.statusText())
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

// refreshModels offers names in the model picker, keeping the selection.
func (p *Pane) refreshModels(names []string) {
	sel := p.model.Selected
	p.model.SetOptions(withModel(names, sel))
	p.model.SetSelected(sel)
}
