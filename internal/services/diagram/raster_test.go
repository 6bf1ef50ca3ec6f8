package diagram

import (
	"image/color"
	"testing"
)

// TestRasterLine fills lines and dots: solid through their width and
// round at their corners (the corner's pixels are covered, not left a hole
// where a segment and a join overlap), a translucent line that doubles
// back on itself covered once (no darker where it overlaps), a dashed
// line with gaps, and a dot round and full.
func TestRasterLine(t *testing.T) {
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	blue := color.NRGBA{0x00, 0x72, 0xb2, 0xff}
	faint := withAlpha(blue, 0xa0)
	once := over(faint, white)
	at := func(r *rasterCanvas, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(r.img.At(x, y)).(color.NRGBA)
	}
	near := func(a, b color.NRGBA) bool {
		d := func(x, y uint8) bool { return x-y <= 2 || y-x <= 2 }
		return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
	}
	for _, tt := range []struct {
		name  string
		draw  func(r *rasterCanvas)
		wants map[[2]int]color.NRGBA
	}{
		{"a corner", func(r *rasterCanvas) {
			r.line([]point{{10, 50}, {50, 50}, {50, 10}}, 10, 0, blue, "")
		}, map[[2]int]color.NRGBA{{30, 50}: blue, {50, 50}: blue, {52, 52}: blue, {48, 52}: blue, {50, 30}: blue, {30, 60}: white, {60, 30}: white}},
		{"doubling back, translucent", func(r *rasterCanvas) {
			r.line([]point{{10, 50}, {90, 50}, {10, 52}}, 8, 0, faint, "")
		}, map[[2]int]color.NRGBA{{50, 51}: once, {89, 51}: once, {50, 70}: white}},
		{"dashed", func(r *rasterCanvas) {
			// Dashes of 10 from x 10 with round ends 2 long: on at 15,
			// off at 25, on at 35.
			r.line([]point{{10, 50}, {90, 50}}, 4, 10, blue, "")
		}, map[[2]int]color.NRGBA{{15, 50}: blue, {25, 50}: white, {35, 50}: blue}},
		{"dot", func(r *rasterCanvas) {
			r.dot(50.5, 50.5, 10, blue, "")
		}, map[[2]int]color.NRGBA{{50, 50}: blue, {50, 42}: blue, {57, 50}: blue, {58, 58}: white, {50, 62}: white}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRasterCanvas(newFonts(), 100, 100)
			r.rect(0, 0, 100, 100, white, "")
			tt.draw(r)
			for p, want := range tt.wants {
				if got := at(r, p[0], p[1]); !near(got, want) {
					t.Errorf("pixel %v is %v, want %v", p, got, want)
				}
			}
		})
	}
}
