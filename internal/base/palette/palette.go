// Package palette holds the colours of stream slots, shared by every view
// that shows a stream's colour (the desktop panes, the timeline, the
// terminal renderer of `tokenloom run`).
//
// The colours are the Okabe–Ito palette, which stays distinguishable with
// the common forms of colour blindness, reordered so that the first two slots
// are blue and red (vermillion). Slot 7 is a mid grey instead of Okabe–Ito's
// black so that it reads on dark backgrounds too.
package palette

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Slot is the colour of one stream slot.
type Slot struct {
	// Name is a short English name of the colour.
	Name string
	// RGB is the colour itself.
	RGB color.NRGBA
}

// Slots are the stream colours, in slot order.
var Slots = []Slot{
	{"blue", color.NRGBA{0x00, 0x72, 0xB2, 0xFF}},
	{"vermillion", color.NRGBA{0xD5, 0x5E, 0x00, 0xFF}},
	{"bluish green", color.NRGBA{0x00, 0x9E, 0x73, 0xFF}},
	{"orange", color.NRGBA{0xE6, 0x9F, 0x00, 0xFF}},
	{"reddish purple", color.NRGBA{0xCC, 0x79, 0xA7, 0xFF}},
	{"sky blue", color.NRGBA{0x56, 0xB4, 0xE9, 0xFF}},
	{"yellow", color.NRGBA{0xF0, 0xE4, 0x42, 0xFF}},
	{"grey", color.NRGBA{0x88, 0x88, 0x88, 0xFF}},
}

// Of returns the slot of stream index i, wrapping after the last.
func Of(i int) Slot {
	if i < 0 {
		i = -i
	}
	return Slots[i%len(Slots)]
}

// ANSI returns the escape sequence that sets the foreground to the slot's
// colour: 24-bit when truecolor is set, else the nearest of the 256-colour
// cube.
func (s Slot) ANSI(truecolor bool) string {
	c := s.RGB
	if truecolor {
		return fmt.Sprintf("\x1b[38;2;%d;%d;%dm", c.R, c.G, c.B)
	}
	return fmt.Sprintf("\x1b[38;5;%dm", cube256(c))
}

// ANSIReset ends a coloured run.
const ANSIReset = "\x1b[0m"

// cube256 maps a colour to the nearest entry of the xterm 6×6×6 cube
// (indices 16–231) or grey ramp (232–255).
func cube256(c color.NRGBA) int {
	levels := []int{0, 95, 135, 175, 215, 255}
	nearest := func(v uint8) int {
		best, bestD := 0, 1<<30
		for i, l := range levels {
			if d := (int(v) - l) * (int(v) - l); d < bestD {
				best, bestD = i, d
			}
		}
		return best
	}
	r, g, b := nearest(c.R), nearest(c.G), nearest(c.B)
	cubeIdx := 16 + 36*r + 6*g + b
	dist := func(x, y, z int) int {
		return (int(c.R)-x)*(int(c.R)-x) + (int(c.G)-y)*(int(c.G)-y) + (int(c.B)-z)*(int(c.B)-z)
	}
	cubeD := dist(levels[r], levels[g], levels[b])
	avg := (int(c.R) + int(c.G) + int(c.B)) / 3
	greyStep := min(max((avg-8+5)/10, 0), 23)
	gv := 8 + 10*greyStep
	if dist(gv, gv, gv) < cubeD {
		return 232 + greyStep
	}
	return cubeIdx
}

// TrueColor reports whether the environment's COLORTERM announces 24-bit
// colour.
func TrueColor(colorterm string) bool {
	ct := strings.ToLower(colorterm)
	return ct == "truecolor" || ct == "24bit"
}

// mix blends c towards to by f (0: c, 1: to).
func mix(c, to color.NRGBA, f float64) color.NRGBA {
	m := func(a, b uint8) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*f + 0.5) }
	return color.NRGBA{m(c.R, to.R), m(c.G, to.G), m(c.B, to.B), c.A}
}

// DimMix is how far Dim moves a colour to the background: far enough to
// read as secondary, not so far that it stops reading.
const DimMix = 0.45

// Dim is c subdued on bg, for what is shown beside c but reads as
// secondary (a stream's reasoning beside its answer): c moved DimMix of the
// way to bg. Opaque, so that text in it draws as crisply as in c.
func Dim(c, bg color.NRGBA) color.NRGBA {
	d := mix(c, bg, DimMix)
	d.A = 0xff
	return d
}

// MinTextContrast is the WCAG AA contrast ratio for text.
const MinTextContrast = 4.5

// OnBackground returns c, darkened on light backgrounds or lightened on
// dark ones just enough to reach MinTextContrast against bg, so that every
// slot stays readable as text while keeping its hue.
func OnBackground(c, bg color.NRGBA) color.NRGBA {
	towards := color.NRGBA{0, 0, 0, 0xff}
	if Luminance(bg) < 0.5 {
		towards = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	}
	out := c
	for f := 0.0; f <= 1 && Contrast(out, bg) < MinTextContrast; f += 0.02 {
		out = mix(c, towards, f)
	}
	return out
}

// Luminance is the WCAG relative luminance of c, 0 (black) to 1 (white).
func Luminance(c color.NRGBA) float64 {
	ch := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.R) + 0.7152*ch(c.G) + 0.0722*ch(c.B)
}

// Contrast is the WCAG contrast ratio of two colours, 1 to 21.
func Contrast(a, b color.NRGBA) float64 {
	la, lb := Luminance(a)+0.05, Luminance(b)+0.05
	return max(la, lb) / min(la, lb)
}

// Hex is the colour as #rrggbb.
func (s Slot) Hex() string {
	return fmt.Sprintf("#%02x%02x%02x", s.RGB.R, s.RGB.G, s.RGB.B)
}
