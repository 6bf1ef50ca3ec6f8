package diagram

import (
	"fmt"
	"image"
	"image/color"

	"github.com/tokenloom/tokenloom/internal/base/paint"
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

// coloursOf are a picture's colours: on the app's backgrounds
// (paint.Background), with a light foreground darker than the app's, for
// print and projectors.
func coloursOf(dark bool) colours {
	c := colours{bg: paint.Background(dark), fg: color.NRGBA{0x22, 0x22, 0x22, 0xff}}
	if dark {
		c.fg = color.NRGBA{0xf3, 0xf3, 0xf3, 0xff}
	}
	c.grid = paint.Mix(c.bg, c.fg, 0.14)
	c.frame = paint.Frame(c.bg, c.fg)
	return c
}

// slotColour is slot i's colour as text on bg, as the app's SlotColor.
func (c colours) slotColour(i int) color.NRGBA {
	return palette.OnBackground(palette.Of(i).RGB, c.bg)
}

// over is c drawn over the opaque bg: opaque.
func over(c, bg color.NRGBA) color.NRGBA {
	return paint.Mix(bg, color.NRGBA{c.R, c.G, c.B, 0xff}, float64(c.A)/0xff)
}

// hex is c as #rrggbb, its alpha left out.
func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// shading is the fill of a phase: its ground and, for the phases drawn
// with a pattern, the pattern's marks. Both have alpha: they are drawn
// over the background.
type shading struct {
	ground, mark color.NRGBA
	pattern      paint.Pattern
}

// phaseShade is the fill of a phase in a lane of colour c, in pictures and
// in the app's timeline alike.
func phaseShade(phase string, c color.NRGBA) shading {
	switch phase {
	case wire.PhaseWaiting:
		return shading{ground: color.NRGBA{0x80, 0x80, 0x80, 0x30}}
	case wire.PhaseQueued:
		// Grey hatching: held up by another stream, not by this one.
		return shading{color.NRGBA{0x80, 0x80, 0x80, 0x20}, color.NRGBA{0x80, 0x80, 0x80, 0x80}, paint.Hatched}
	case wire.PhaseLoading:
		return shading{ground: color.NRGBA{c.R, c.G, c.B, 0x50}}
	case wire.PhasePrompt:
		return shading{ground: color.NRGBA{c.R, c.G, c.B, 0x38}}
	case wire.PhaseThinking:
		// Dotted in the lane's colour: working, but not on the answer.
		return shading{color.NRGBA{c.R, c.G, c.B, 0x18}, color.NRGBA{c.R, c.G, c.B, 0x70}, paint.Dotted}
	default: // generating
		return shading{ground: color.NRGBA{c.R, c.G, c.B, 0x20}}
	}
}

// halved is s half as opaque: an estimate.
func (s shading) halved() shading {
	s.ground.A /= 2
	s.mark.A /= 2
	return s
}

// boosted is s legendBoost times as opaque: a legend's swatch.
func (s shading) boosted() shading {
	s.ground, s.mark = boost(s.ground), boost(s.mark)
	return s
}

// PhaseLook is how PaintPhase draws a phase, besides its shading.
type PhaseLook struct {
	// Estimate draws a live stream's phase, until its end says the exact
	// one: half as opaque, between dashed edges in the lane's colour.
	Estimate bool
	// Swatch draws it legendBoost times as opaque, for a legend's swatch.
	Swatch bool
}

// PaintPhase draws the shading of phase in a lane of colour lane over the
// pixels of r in img, as a picture's image draws it at scale 1: the app's
// timeline and its legend paint their phases with it.
func PaintPhase(img *image.RGBA, r image.Rectangle, phase string, lane color.NRGBA, look PhaseLook) {
	s := phaseShade(phase, lane)
	edge := color.NRGBA{lane.R, lane.G, lane.B, 0xa0}
	if look.Estimate {
		s = s.halved()
	}
	if look.Swatch {
		s, edge = s.boosted(), boost(edge)
	}
	r = r.Intersect(img.Rect)
	if look.Estimate && !r.Empty() {
		// Dashes 3 px on, 3 off, fixed in the image, on the top and the
		// bottom row.
		px := paint.Premultiply(edge)
		for _, y := range []int{r.Min.Y, r.Max.Y - 1} {
			for x := r.Min.X; x < r.Max.X; x++ {
				if x%6 < 3 {
					i := img.PixOffset(x, y)
					paint.Blend(img.Pix[i:i+4:i+4], px)
				}
			}
			if r.Dy() == 1 {
				break
			}
		}
		r.Min.Y, r.Max.Y = r.Min.Y+1, r.Max.Y-1
	}
	paint.Fill(img, r, s.ground)
	s.pattern.Mark(img, r, 1, s.mark)
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
