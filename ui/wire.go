package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/ui/frame"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// maxWireFrames is how many frames the wire view keeps; older ones are
// dropped (in chunks, so a drop is rare).
const maxWireFrames = 2000

// wireView shows the raw SSE frames of one stream of the run as they come
// off the wire, and offers the curl command that shows the same.
type wireView struct {
	app    *App
	pick   *widget.Select
	view   *widgets.TokenView
	root   fyne.CanvasObject
	ids    []string
	slots  []int
	frames []string
	cancel context.CancelFunc
	stream int
	gen    int // counts follow calls, so a late batch of an old stream is dropped
	curl   *widget.Button
	// up shows the first hop of a stream of an OpenAI-compatible
	// endpoint: the SSE data lines the endpoint sent, above the frames
	// Tokenloom relays for them (upstream.go).
	up       *widgets.TokenView
	upBox    *fyne.Container
	upNote   *widget.Label
	split    *container.Split
	upCancel context.CancelFunc
}

// The curl button's words, and what it says for a moment once it copied.
const (
	curlLabel   = "Copy curl command"
	copiedLabel = "Copied to the clipboard"
)

func newWireView(a *App) *wireView {
	w := &wireView{app: a, view: widgets.NewTokenView(), stream: -1}
	w.pick = widget.NewSelect(nil, func(string) { w.follow(w.pick.SelectedIndex()) })
	w.pick.PlaceHolder = "(run first)"
	var curl *widget.Button
	curl = widget.NewButtonWithIcon(curlLabel, theme.ContentCopyIcon(), func() {
		if cmd := w.CurlCommand(); cmd != "" {
			a.fyneApp.Clipboard().SetContent(cmd)
			curl.SetText(copiedLabel)
			curl.SetIcon(theme.ConfirmIcon())
			a.after(widgets.FlashFor, func() {
				curl.SetText(curlLabel)
				curl.SetIcon(theme.ContentCopyIcon())
			})
		}
	})
	w.curl = curl
	note := widget.NewLabel("The frames of the chosen stream as the server sends them: id, data (one line of JSON), event.")
	note.SizeName = theme.SizeNameCaptionText
	note.Wrapping = fyne.TextWrapWord
	top := container.NewBorder(nil, note, widget.NewLabel("Stream"), curl, w.pick)
	w.newUpstream()
	w.split = container.NewVSplit(w.upBox, w.view)
	w.split.Offset = 0.5
	w.showUpstream(false)
	w.root = container.NewBorder(top, nil, nil, nil, w.split)
	return w
}

// CurlCommand subscribes to the chosen stream from a terminal.
func (w *wireView) CurlCommand() string {
	if w.stream < 0 || w.stream >= len(w.ids) {
		return ""
	}
	return fmt.Sprintf("curl -N '%s'", w.app.client().EventsURL(w.ids[w.stream]))
}

func (w *wireView) reset(labels []string, slots []int, ids []string) {
	w.ids, w.slots = ids, slots
	opts := slices.Clone(labels)
	w.stream = -1
	w.pick.SetOptions(opts)
	if len(opts) > 0 {
		w.pick.SetSelectedIndex(0) // follows stream 0
	}
}

// follow switches the view to stream i.
func (w *wireView) follow(i int) {
	if i == w.stream || i < 0 || i >= len(w.ids) {
		return
	}
	if w.cancel != nil {
		w.cancel()
	}
	w.stream = i
	w.gen++
	gen := w.gen
	w.frames = w.frames[:0]
	w.view.Clear()
	w.followUpstream(i, gen)
	ctx, cancel := context.WithCancel(w.app.ctx)
	w.cancel = cancel
	id, slot, cl := w.ids[i], w.slots[i], w.app.client()
	w.app.spawn(func() {
		defer cancel()
		frames, err := cl.Frames(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				message, _ := client.Explain(err)
				w.app.do(func() { w.view.Append(widgets.Span{Text: "could not follow the stream: " + message, Slot: slot}) })
			}
			return
		}
		frame.Pump(ctx, frames, w.app.clock, w.app.pace, w.app.do, func(batch []string, final bool) {
			if w.gen != gen {
				return // another stream was chosen meanwhile
			}
			w.add(batch, slot)
		})
	})
}

// add appends frames, dropping the oldest beyond twice maxWireFrames.
func (w *wireView) add(batch []string, slot int) {
	w.frames = append(w.frames, batch...)
	if len(w.frames) > 2*maxWireFrames {
		w.frames = slices.Clone(w.frames[len(w.frames)-maxWireFrames:])
		w.view.Clear()
		batch = w.frames
	}
	spans := make([]widgets.Span, len(batch))
	for i, f := range batch {
		spans[i] = widgets.Span{Text: strings.TrimRight(f, "\n") + "\n\n", Slot: slot}
	}
	w.view.Append(spans...)
}
