package diagram

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// rasterCanvas draws into an RGBA image (premultiplied: what a Fyne
// raster uploads as it is). Edges fall on whole pixels, rounded.
type rasterCanvas struct {
	img *image.RGBA
	f   *fonts
}

func newRasterCanvas(f *fonts, w, h int) *rasterCanvas {
	return &rasterCanvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), f: f}
}

func (r *rasterCanvas) begin(string) {}
func (r *rasterCanvas) end()         {}

// pixels is the rectangle's pixels within the image.
func (r *rasterCanvas) pixels(x0, y0, x1, y1 float64) image.Rectangle {
	rd := func(v float64) int { return int(math.Round(v)) }
	return image.Rect(rd(x0), rd(y0), rd(x1), rd(y1)).Intersect(r.img.Rect)
}

func (r *rasterCanvas) rect(x0, y0, x1, y1 float64, c color.NRGBA, _ string) {
	fill(r.img, r.pixels(x0, y0, x1, y1), c)
}

// fill draws c over the pixels of rect, which is within the image.
func fill(img *image.RGBA, rect image.Rectangle, c color.NRGBA) {
	if rect.Empty() || c.A == 0 {
		return
	}
	px := premultiply(c)
	if c.A == 0xff {
		row := img.PixOffset(rect.Min.X, rect.Min.Y)
		for x := 0; x < rect.Dx(); x++ {
			copy(img.Pix[row+4*x:], px[:])
		}
		first := img.Pix[row : row+4*rect.Dx()]
		for y := rect.Min.Y + 1; y < rect.Max.Y; y++ {
			copy(img.Pix[img.PixOffset(rect.Min.X, y):], first)
		}
		return
	}
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		i := img.PixOffset(rect.Min.X, y)
		for x := rect.Min.X; x < rect.Max.X; x, i = x+1, i+4 {
			blend(img.Pix[i:i+4:i+4], px)
		}
	}
}

// premultiply is c as a premultiplied RGBA pixel, as color.RGBAModel
// converts it (without its allocation: ticks are many).
func premultiply(c color.NRGBA) [4]uint8 {
	a := uint32(c.A) * 0x101
	ch := func(v uint8) uint8 { return uint8((uint32(v) * 0x101 * a / 0xffff) >> 8) }
	return [4]uint8{ch(c.R), ch(c.G), ch(c.B), c.A}
}

// blend draws the premultiplied colour c over the premultiplied pixel p.
func blend(p []uint8, c [4]uint8) {
	keep := 255 - uint32(c[3])
	for k, v := range c {
		p[k] = v + uint8((uint32(p[k])*keep+127)/255)
	}
}

func (r *rasterCanvas) pattern(x0, y0, x1, y1 float64, k patternKind, scale int, c color.NRGBA) {
	rect := r.pixels(x0, y0, x1, y1)
	if rect.Empty() || c.A == 0 {
		return
	}
	px := premultiply(c)
	img := r.img
	mark := func(x, y int) {
		i := img.PixOffset(x, y)
		blend(img.Pix[i:i+4:i+4], px)
	}
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		by := y / scale
		switch k {
		case hatched:
			// (x+y) mod period < width: diagonal stripes.
			period, width := 6*scale, 2*scale
			for x := rect.Min.X; x < rect.Max.X; x++ {
				if (x+y)%period < width {
					mark(x, y)
				}
			}
		case dotted:
			// A dot every 4 of every third row, rows staggered by 2.
			if by%3 != 0 {
				continue
			}
			shift := 2 * (by / 3 % 2)
			for x := rect.Min.X; x < rect.Max.X; x++ {
				if (x/scale+shift)%4 == 0 {
					mark(x, y)
				}
			}
		}
	}
}

func (r *rasterCanvas) ticks(ts []tick, width float64, c color.NRGBA, _ string) {
	for _, t := range ts {
		fill(r.img, r.pixels(t.x, t.y0, t.x+width, t.y1), c)
	}
}

func (r *rasterCanvas) dashedV(x, y0, y1, width, dash float64, c color.NRGBA) {
	dash = max(dash, 1)
	for y := y0; y < y1; y += 2 * dash {
		fill(r.img, r.pixels(x, y, x+width, min(y+dash, y1)), c)
	}
}

func (r *rasterCanvas) text(x, y float64, s string, st textStyle) {
	if s == "" {
		return
	}
	face := r.f.face(st.size, st.bold)
	switch st.anchor {
	case anchorMiddle:
		x -= r.f.width(s, st.size, st.bold) / 2
	case anchorEnd:
		x -= r.f.width(s, st.size, st.bold)
	}
	d := font.Drawer{
		Dst:  r.img,
		Src:  image.NewUniform(st.colour),
		Face: face,
		Dot:  fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round(y * 64))},
	}
	d.DrawString(s)
}
