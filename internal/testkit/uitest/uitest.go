// Package uitest holds what the tests of Tokenloom's widgets (ui/widgets)
// and of its app (ui) share: events as the client hands them over, and what
// a Fyne canvas shows, read through Fyne's test driver
// (fyne.io/fyne/v2/test).
package uitest

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Event is a client event of type typ, seq and time tms with text, or for
// a phase event with text as its phase.
func Event(typ string, seq int64, tms float64, text string) client.Event {
	e := client.Event{Type: typ, Seq: seq, TMs: tms, Text: text}
	if typ == wire.EventPhase {
		e.Phase, e.Text = text, ""
	}
	return e
}

// TextColors returns the colours of the rendered texts under root that
// contain s (hidden objects and their children left out).
func TextColors(root fyne.CanvasObject, s string) []color.Color {
	var out []color.Color
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			if strings.Contains(x.Text, s) {
				out = append(out, x.Color)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(root)
	return out
}
