package diagram

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/tokenloom/tokenloom/internal/base/paint"
)

// rasterCanvas draws into an RGBA image (premultiplied: what a Fyne
// raster uploads as it is). Rectangles' edges fall on whole pixels,
// rounded; lines and dots are anti-aliased.
type rasterCanvas struct {
	img *image.RGBA
	f   *fonts
	// vec fills lines and dots; kept to reuse its buffers, sized anew for
	// each shape.
	vec *vector.Rasterizer
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
	paint.Fill(r.img, r.pixels(x0, y0, x1, y1), c)
}

func (r *rasterCanvas) pattern(x0, y0, x1, y1 float64, k paint.Pattern, scale int, c color.NRGBA) {
	k.Mark(r.img, r.pixels(x0, y0, x1, y1), scale, c)
}

func (r *rasterCanvas) ticks(ts []tick, width float64, c color.NRGBA, _ string) {
	for _, t := range ts {
		paint.Fill(r.img, r.pixels(t.x, t.y0, t.x+width, t.y1), c)
	}
}

func (r *rasterCanvas) dashedV(x, y0, y1, width, dash float64, c color.NRGBA) {
	dash = max(dash, 1)
	for y := y0; y < y1; y += 2 * dash {
		paint.Fill(r.img, r.pixels(x, y, x+width, min(y+dash, y1)), c)
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

func (r *rasterCanvas) line(pts []point, width, dash float64, c color.NRGBA, _ string) {
	if len(pts) < 2 || width <= 0 || c.A == 0 {
		return
	}
	var sh shape
	hw := width / 2
	if dash <= 0 {
		for i := 1; i < len(pts); i++ {
			sh.segment(pts[i-1], pts[i], hw)
		}
		for _, p := range pts {
			sh.circle(p, hw) // round joins and ends, as the SVG's
		}
		r.fillShape(sh, c)
		return
	}
	// Along the line: on a dash or a gap, with left of it to go; each
	// dash round at both ends, as the SVG's with its round caps.
	on, left := true, dash
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		length := math.Hypot(b.x-a.x, b.y-a.y)
		for at := 0.0; at < length; {
			step := min(left, length-at)
			if on {
				from, to := between(a, b, at/length), between(a, b, (at+step)/length)
				sh.segment(from, to, hw)
				sh.circle(from, hw)
				sh.circle(to, hw)
			}
			at += step
			if left -= step; left <= 0 {
				on, left = !on, dash
			}
		}
	}
	r.fillShape(sh, c)
}

func (r *rasterCanvas) dot(x, y, radius float64, c color.NRGBA, _ string) {
	if radius <= 0 || c.A == 0 {
		return
	}
	var sh shape
	sh.circle(point{x, y}, radius)
	r.fillShape(sh, c)
}

// between is the point f of the way from a to b.
func between(a, b point, f float64) point {
	return point{a.x + (b.x-a.x)*f, a.y + (b.y-a.y)*f}
}

// shape is closed polygons filled together. They all wind the same way,
// so that where they overlap the rasterizer's coverage adds up and is
// clamped (covered once) rather than cancelling out (a hole).
type shape [][]point

// segment adds the rectangle of the segment from a to b, hw either side of
// it; nothing for a segment of no length, whose direction is unknown (its
// ends' circles draw it).
func (sh *shape) segment(a, b point, hw float64) {
	length := math.Hypot(b.x-a.x, b.y-a.y)
	if length == 0 || !finite(length) {
		return
	}
	nx, ny := -(b.y-a.y)/length*hw, (b.x-a.x)/length*hw
	*sh = append(*sh, []point{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}})
}

// circle adds a polygon of the circle of radius rad around c, with sides
// of at most about two pixels, wound as segment's rectangles are.
func (sh *shape) circle(c point, rad float64) {
	n := min(max(8, int(math.Ceil(math.Pi*rad))), 256)
	poly := make([]point, n)
	for i := range poly {
		// Clockwise on the screen (y down), as a segment's rectangle.
		t := -2 * math.Pi * float64(i) / float64(n)
		poly[i] = point{c.x + rad*math.Cos(t), c.y + rad*math.Sin(t)}
	}
	*sh = append(*sh, poly)
}

// fillShape fills sh in c over the image, anti-aliased, through a
// rasterizer as big as the shape's bounds within the image.
func (r *rasterCanvas) fillShape(sh shape, c color.NRGBA) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range sh {
		for _, p := range poly {
			if !finite(p.x) || !finite(p.y) {
				return
			}
			x0, y0, x1, y1 = min(x0, p.x), min(y0, p.y), max(x1, p.x), max(y1, p.y)
		}
	}
	if x0 > x1 {
		return
	}
	// Clamped before converting: a far-off point must not overflow an int.
	lim := func(v float64, hi int) int { return int(min(max(v, -1), float64(hi)+1)) }
	bounds := image.Rect(lim(math.Floor(x0), r.img.Rect.Max.X), lim(math.Floor(y0), r.img.Rect.Max.Y),
		lim(math.Ceil(x1), r.img.Rect.Max.X), lim(math.Ceil(y1), r.img.Rect.Max.Y)).Intersect(r.img.Rect)
	if bounds.Empty() {
		return
	}
	if r.vec == nil {
		r.vec = vector.NewRasterizer(bounds.Dx(), bounds.Dy())
	} else {
		r.vec.Reset(bounds.Dx(), bounds.Dy())
	}
	z := r.vec
	ox, oy := float64(bounds.Min.X), float64(bounds.Min.Y)
	for _, poly := range sh {
		z.MoveTo(float32(poly[0].x-ox), float32(poly[0].y-oy))
		for _, p := range poly[1:] {
			z.LineTo(float32(p.x-ox), float32(p.y-oy))
		}
		z.ClosePath()
	}
	// Reset set DrawOp to draw.Over; a uniform source over an RGBA image
	// takes the rasterizer's own premultiplied path.
	z.Draw(r.img, bounds, image.NewUniform(c), image.Point{})
}
