package diagram

import (
	"fmt"
	"image/color"

	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// colours are a picture's colours on its background.
type colours struct {
	bg, fg color.NRGBA
	// grid is the seconds' lines across the lanes; frame the legend's
	// swatches' frames, at 3:1 or more against bg.
	grid, frame color.NRGBA
}

// The backgrounds are the app's (Fyne's default theme); the light
// foreground is darker than the app's, for print and projectors.
var (
	lightColours = colours{
		bg: color.NRGBA{0xff, 0xff, 0xff, 0xff}, fg: color.NRGBA{0x22, 0x22, 0x22, 0xff},
	}
	darkColours = colours{
		bg: color.NRGBA{0x17, 0x17, 0x18, 0xff}, fg: color.NRGBA{0xf3, 0xf3, 0xf3, 0xff},
	}
)

func coloursOf(dark bool) colours {
	c := lightColours
	if dark {
		c = darkColours
	}
	c.grid = mix(c.bg, c.fg, 0.14)
	c.frame = mix(c.bg, c.fg, 0.75)
	return c
}

// slotColour is slot i's colour as text on bg, as the app's SlotColor.
func (c colours) slotColour(i int) color.NRGBA {
	return palette.OnBackground(palette.Of(i).RGB, c.bg)
}

// mix is the colour f of the way from a to b, opaque.
func mix(a, b color.NRGBA, f float64) color.NRGBA {
	ch := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*f + 0.5) }
	return color.NRGBA{ch(a.R, b.R), ch(a.G, b.G), ch(a.B, b.B), 0xff}
}

// over is c drawn over the opaque bg: opaque.
func over(c, bg color.NRGBA) color.NRGBA {
	return mix(bg, color.NRGBA{c.R, c.G, c.B, 0xff}, float64(c.A)/0xff)
}

// hex is c as #rrggbb, its alpha left out.
func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// patternKind names a phase's pattern.
type patternKind int

const (
	noPattern patternKind = iota
	// hatched is diagonal stripes, two pixels of every six in each row.
	hatched
	// dotted is a dot every four pixels of every third row, rows
	// staggered.
	dotted
)

// phaseShade is the fill of a phase in a lane of colour c, as the app
// shades it: its ground and, for the phases drawn with a pattern, the
// pattern's marks. Both have alpha; the picture draws them on its
// background.
func phaseShade(phase string, c color.NRGBA) (ground, mark color.NRGBA, p patternKind) {
	switch phase {
	case wire.PhaseWaiting:
		return color.NRGBA{0x80, 0x80, 0x80, 0x30}, color.NRGBA{}, noPattern
	case wire.PhaseQueued:
		// Grey hatching: held up by another stream, not by this one.
		return color.NRGBA{0x80, 0x80, 0x80, 0x20}, color.NRGBA{0x80, 0x80, 0x80, 0x80}, hatched
	case wire.PhaseLoading:
		return color.NRGBA{c.R, c.G, c.B, 0x50}, color.NRGBA{}, noPattern
	case wire.PhasePrompt:
		return color.NRGBA{c.R, c.G, c.B, 0x38}, color.NRGBA{}, noPattern
	case wire.PhaseThinking:
		// Dotted in the lane's colour: working, but not on the answer.
		return color.NRGBA{c.R, c.G, c.B, 0x18}, color.NRGBA{c.R, c.G, c.B, 0x70}, dotted
	default: // generating
		return color.NRGBA{c.R, c.G, c.B, 0x20}, color.NRGBA{}, noPattern
	}
}

// ThinkTickScale is the height of a tick of the reasoning against one of
// the answer, in pictures and in the app's timeline.
const ThinkTickScale = 0.5

// LegendItem is one entry of a timeline's legend: a phase's shading, with
// a tick of the kind of token the phase brings, if any.
type LegendItem struct {
	Phase, Label string
	Tick         float64 // height of the tick against the swatch's; 0: none
	Dim          bool    // the tick is the reasoning's
}

// LegendItems name the phases in the order a stream goes through them: the
// legend of pictures and of the app's timeline.
var LegendItems = []LegendItem{
	{wire.PhaseWaiting, "waiting", 0, false},
	{wire.PhaseQueued, "queued", 0, false},
	{wire.PhaseLoading, "loading", 0, false},
	{wire.PhasePrompt, "prompt", 0, false},
	{wire.PhaseThinking, "thinking", 0.6 * ThinkTickScale, true},
	{wire.PhaseGenerating, "answer", 0.6, false},
}

// legendBoost is how much more opaque a swatch's shading is than a lane's:
// in a small swatch a lane's faint shading is nearly invisible.
const legendBoost = 2

// boost is c legendBoost times as opaque.
func boost(c color.NRGBA) color.NRGBA {
	c.A = uint8(min(int(c.A)*legendBoost, 0xff))
	return c
}
