package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// upstreamEvery is how often the wire asks for an OpenAI-compatible
// stream's new upstream lines while it goes on.
const upstreamEvery = 100 * time.Millisecond

func (w *wireView) newUpstream() {
	w.up = widgets.NewTokenView()
	w.upNote = widget.NewLabel("")
	w.upNote.SizeName = theme.SizeNameCaptionText
	w.upNote.Wrapping = fyne.TextWrapWord
	w.upBox = container.NewBorder(w.upNote, nil, nil, nil, w.up)
}

// showUpstream shows the first hop above the second, or the second alone.
func (w *wireView) showUpstream(on bool) {
	if on {
		w.upBox.Show()
		w.split.Offset = 0.5
	} else {
		w.upBox.Hide()
		w.split.Offset = 0
	}
	w.split.Refresh()
}

// followUpstream shows the upstream lines of stream i, if its endpoint is
// OpenAI-compatible: what the endpoint sent, over the frames relayed for it
// (the two SSE hops). It asks until the stream has ended or another stream
// is chosen.
func (w *wireView) followUpstream(i, gen int) {
	w.up.Clear()
	w.showUpstream(false)
	if w.upCancel != nil {
		w.upCancel() // the stream chosen before
	}
	ctx, cancel := context.WithCancel(w.app.ctx)
	w.upCancel = cancel
	id, slot, cl := w.ids[i], w.slots[i], w.app.client()
	w.app.spawn(func() {
		defer cancel()
		after := int64(-1)
		tick := time.NewTicker(upstreamEvery)
		defer tick.Stop()
		for {
			fr, err := cl.Upstream(ctx, id, after)
			if err != nil || fr.Kind != wire.EndpointOpenAI {
				return // one hop: Ollama's NDJSON is not SSE; a demo source; a replay
			}
			lines := make([]widgets.Span, len(fr.Lines))
			for k, l := range fr.Lines {
				lines[k] = widgets.Span{Text: fmt.Sprintf("%9.1f ms  data: %s\n", l.TMs, l.Data), Slot: slot}
			}
			w.app.do(func() {
				if w.gen != gen {
					return // another stream was chosen meanwhile
				}
				if !w.upBox.Visible() {
					w.upNote.SetText(upstreamNote(fr))
					w.showUpstream(true)
				}
				w.up.Append(lines...)
			})
			after = fr.Next - 1
			if fr.Finished {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// upstreamNote says what the upper view shows.
func upstreamNote(fr *wire.UpstreamFrames) string {
	s := fmt.Sprintf("First hop: the SSE data lines %s (%s) sent, with their arrival on the run's clock. Below, the second hop: the frames Tokenloom relays for them.", fr.Endpoint, fr.Kind)
	if fr.Dropped > 0 {
		s += fmt.Sprintf(" The oldest %d lines are no longer kept.", fr.Dropped)
	}
	return s
}
