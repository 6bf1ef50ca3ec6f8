package paint

import (
	"image"
	"image/color"
)

// Pattern is the marks drawn over a phase's ground, fixed to the image (a
// pattern stays put from one drawing to the next and runs on from one
// rectangle to the next).
type Pattern int

const (
	// None marks nothing: the ground alone.
	None Pattern = iota
	// Hatched is diagonal stripes: the pixels where (x+y) mod HatchPeriod
	// < HatchWidth.
	Hatched
	// Dotted is a dot every DotPeriod pixels of every DotRows-th row,
	// every other such row shifted by DotStagger.
	Dotted
)

// The patterns' geometry, in pixels at scale 1 (an SVG's tiles are drawn
// from them too).
const (
	HatchPeriod, HatchWidth        = 6, 2
	DotPeriod, DotRows, DotStagger = 4, 3, 2
)

// Mark draws the pattern's marks in c over the pixels of r within img,
// each mark scale pixels wide (and a dot scale high). It costs its marks,
// not its area.
func (p Pattern) Mark(img *image.RGBA, r image.Rectangle, scale int, c color.NRGBA) {
	r = r.Intersect(img.Rect)
	if p == None || r.Empty() || c.A == 0 || scale < 1 {
		return
	}
	px := Premultiply(c)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		// A pixel x is marked where (x+shift) mod period < width.
		var shift, period, width int
		switch p {
		case Hatched:
			shift, period, width = y, HatchPeriod*scale, HatchWidth*scale
		case Dotted:
			row := y / scale
			if row%DotRows != 0 {
				continue
			}
			shift, period, width = DotStagger*scale*(row/DotRows%2), DotPeriod*scale, scale
		default:
			return
		}
		for x := r.Min.X; x < r.Max.X; {
			if ph := (x + shift) % period; ph >= width {
				x += period - ph
				continue
			}
			i := img.PixOffset(x, y)
			Blend(img.Pix[i:i+4:i+4], px)
			x++
		}
	}
}
