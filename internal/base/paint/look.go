package paint

import (
	"image/color"
	"math"
)

// The backgrounds of Fyne's default theme (fyne.io/fyne/v2/theme), fixed
// here so that slot colours and pictures do not need a running app: the
// app's theme and the pictures both stand on them.
var (
	LightBackground = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	DarkBackground  = color.NRGBA{R: 0x17, G: 0x17, B: 0x18, A: 0xff}
)

// Background is the dark or the light background.
func Background(dark bool) color.NRGBA {
	if dark {
		return DarkBackground
	}
	return LightBackground
}

// Mix is the colour f of the way from a to b, opaque.
func Mix(a, b color.NRGBA, f float64) color.NRGBA {
	ch := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*f + 0.5) }
	return color.NRGBA{R: ch(a.R, b.R), G: ch(a.G, b.G), B: ch(a.B, b.B), A: 0xff}
}

// Frame is the colour of a legend swatch's frame for a foreground fg on a
// background bg: fg mixed three quarters of the way from bg, which reads
// on both themes (at least 3:1 against the background).
func Frame(bg, fg color.NRGBA) color.NRGBA { return Mix(bg, fg, 0.75) }

// AxisSpan is the time a timeline's axis covers: up to last, rounded up
// to half a second (a second past 10 s, five past a minute), at least one.
// A run that ends a hair past a round time (5003 ms) ends the axis there:
// what is at most axisSlack of a step later is drawn at the axis's end.
func AxisSpan(last float64) float64 {
	g := 500.0
	switch {
	case last >= 60_000:
		g = 5000
	case last >= 10_000:
		g = 1000
	}
	return max(1000, math.Ceil((last-axisSlack*g)/g)*g)
}

// axisSlack is how much of a step the axis's end may be short of the
// latest time: a run's wall time has a few milliseconds of overhead past
// its streams' scripted seconds, which would otherwise add half a second
// of empty axis.
const axisSlack = 0.01

// AxisStep picks the time between a timeline's axis labels: the first of
// the steps (100 ms up to 10 minutes) whose labels fit says are clear of
// each other, else 20 minutes.
func AxisStep(fits func(stepMs float64) bool) float64 {
	for _, s := range []float64{100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000, 600000} {
		if fits(s) {
			return s
		}
	}
	return 1_200_000
}

// TickReach is how far a tick of a pixel column with n tokens reaches on
// either side of its lane's middle, against the lane's height: from 30%
// for one token to 45% for four or more.
func TickReach(n int) float64 { return 0.3 + 0.05*float64(min(n, 4)-1) }
