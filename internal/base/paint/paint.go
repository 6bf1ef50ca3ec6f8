// Package paint is the look of a run's timeline in pixels, shared by the
// app's live timeline (ui/widgets) and the pictures of runs
// (internal/services/diagram), so that the two agree by construction:
// premultiplied pixels and drawing over them, the patterns of the phases
// drawn with one, the backgrounds, the axis's span and steps, and how far
// a tick reaches. What shade each phase has is the diagram's
// (diagram.PaintPhase); this package knows nothing of phases.
//
// Images are *image.RGBA, premultiplied: what a Fyne raster uploads as it
// is.
package paint

import (
	"image"
	"image/color"
)

// Premultiply is c as a premultiplied RGBA pixel, as color.RGBAModel
// converts it (without its allocation: ticks are many).
func Premultiply(c color.NRGBA) [4]uint8 {
	a := uint32(c.A) * 0x101
	ch := func(v uint8) uint8 { return uint8((uint32(v) * 0x101 * a / 0xffff) >> 8) }
	return [4]uint8{ch(c.R), ch(c.G), ch(c.B), c.A}
}

// Blend draws the premultiplied colour c over the premultiplied pixel p.
func Blend(p []uint8, c [4]uint8) {
	keep := 255 - uint32(c[3])
	for k, v := range c {
		p[k] = v + uint8((uint32(p[k])*keep+127)/255)
	}
}

// Fill draws c over the pixels of r within img.
func Fill(img *image.RGBA, r image.Rectangle, c color.NRGBA) {
	r = r.Intersect(img.Rect)
	if r.Empty() || c.A == 0 {
		return
	}
	px := Premultiply(c)
	if c.A == 0xff {
		row := img.PixOffset(r.Min.X, r.Min.Y)
		for x := 0; x < r.Dx(); x++ {
			copy(img.Pix[row+4*x:], px[:])
		}
		first := img.Pix[row : row+4*r.Dx()]
		for y := r.Min.Y + 1; y < r.Max.Y; y++ {
			copy(img.Pix[img.PixOffset(r.Min.X, y):], first)
		}
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x, i = x+1, i+4 {
			if p := img.Pix[i : i+4 : i+4]; p[3] == 0 {
				// Over nothing (premultiplied: all four 0), what Blend
				// gives is c: the app's timeline draws its lanes so.
				p[0], p[1], p[2], p[3] = px[0], px[1], px[2], px[3]
			} else {
				Blend(p, px)
			}
		}
	}
}
