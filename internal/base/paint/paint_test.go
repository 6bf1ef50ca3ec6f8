package paint

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

// TestPremultiply matches color.RGBAModel for every alpha and a few
// channel values.
func TestPremultiply(t *testing.T) {
	for a := range 256 {
		for _, v := range []uint8{0, 1, 0x17, 0x80, 0xd5, 0xfe, 0xff} {
			c := color.NRGBA{v, 0xff - v, v / 2, uint8(a)}
			p := color.RGBAModel.Convert(c).(color.RGBA)
			if got, want := Premultiply(c), [4]uint8{p.R, p.G, p.B, p.A}; got != want {
				t.Fatalf("Premultiply(%v) = %v, want %v", c, got, want)
			}
		}
	}
}

// TestFill draws over what is there: an opaque colour replaces it, a
// translucent one blends with it (as image/draw's Over, to a unit), only
// within the rectangle and the image.
func TestFill(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	Fill(img, image.Rect(-5, -5, 20, 20), white)
	faint := color.NRGBA{0x00, 0x72, 0xb2, 0x50}
	Fill(img, image.Rect(2, 2, 6, 6), faint)
	want := image.NewRGBA(img.Rect)
	draw.Draw(want, want.Rect, image.NewUniform(white), image.Point{}, draw.Src)
	draw.Draw(want, image.Rect(2, 2, 6, 6), image.NewUniform(faint), image.Point{}, draw.Over)
	far := func(a, b uint8) bool { return max(a, b)-min(a, b) > 1 }
	for y := range 10 {
		for x := range 10 {
			g, w := img.RGBAAt(x, y), want.RGBAAt(x, y)
			if far(g.R, w.R) || far(g.G, w.G) || far(g.B, w.B) || g.A != w.A {
				t.Fatalf("pixel %d,%d is %v, want %v", x, y, g, w)
			}
		}
	}
	if got := img.RGBAAt(1, 1); got != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("outside the rectangle %v", got)
	}
}

// TestPatternMark marks exactly the pixels of each pattern's definition,
// at scale 1 and 2, within the rectangle only, and nothing for None.
func TestPatternMark(t *testing.T) {
	mark := color.NRGBA{0x80, 0x80, 0x80, 0xff}
	for _, tt := range []struct {
		name   string
		p      Pattern
		scale  int
		marked func(x, y int) bool
	}{
		{"none", None, 1, func(x, y int) bool { return false }},
		{"hatched", Hatched, 1, func(x, y int) bool { return (x+y)%6 < 2 }},
		{"hatched ×2", Hatched, 2, func(x, y int) bool { return (x+y)%12 < 4 }},
		{"dotted", Dotted, 1, func(x, y int) bool { return y%3 == 0 && (x+2*(y/3%2))%4 == 0 }},
		{"dotted ×2", Dotted, 2, func(x, y int) bool { by := y / 2; return by%3 == 0 && (x/2+2*(by/3%2))%4 == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, 40, 30))
			r := image.Rect(3, 2, 37, 29)
			tt.p.Mark(img, r, tt.scale, mark)
			n := 0
			for y := range 30 {
				for x := range 40 {
					want := image.Pt(x, y).In(r) && tt.marked(x, y)
					if got := img.RGBAAt(x, y).A != 0; got != want {
						t.Fatalf("pixel %d,%d marked %v, want %v", x, y, got, want)
					}
					if want {
						n++
					}
				}
			}
			if tt.p != None && n == 0 {
				t.Error("no marks")
			}
		})
	}
}

// TestAxis: the axis ends at the round time at or just before the run's
// end, and its labels are the first step the caller finds clear.
func TestAxis(t *testing.T) {
	for _, tt := range []struct{ last, want float64 }{
		{0, 1000}, {999, 1000}, {1004, 1000}, {1010, 1500}, {3000, 3000}, {5003, 5000}, {5010, 5500},
		{10_400, 11_000}, {61_000, 65_000},
	} {
		if got := AxisSpan(tt.last); got != tt.want {
			t.Errorf("AxisSpan(%v) = %v, want %v", tt.last, got, tt.want)
		}
	}
	if got := AxisStep(func(s float64) bool { return s >= 1000 }); got != 1000 {
		t.Errorf("AxisStep = %v, want the first that fits, 1000", got)
	}
	if got := AxisStep(func(float64) bool { return false }); got != 1_200_000 {
		t.Errorf("AxisStep with none fitting = %v", got)
	}
	if TickReach(1) != 0.3 || TickReach(4) != TickReach(9) || TickReach(2) <= TickReach(1) {
		t.Errorf("TickReach 1: %v, 2: %v, 4: %v, 9: %v", TickReach(1), TickReach(2), TickReach(4), TickReach(9))
	}
}
