package diagram

import (
	"image/color"
	"testing"
)

// TestPremultiply matches color.RGBAModel for every alpha and a few
// channel values.
func TestPremultiply(t *testing.T) {
	for a := range 256 {
		for _, v := range []uint8{0, 1, 0x17, 0x80, 0xd5, 0xfe, 0xff} {
			c := color.NRGBA{v, 0xff - v, v / 2, uint8(a)}
			p := color.RGBAModel.Convert(c).(color.RGBA)
			if got, want := premultiply(c), [4]uint8{p.R, p.G, p.B, p.A}; got != want {
				t.Fatalf("premultiply(%v) = %v, want %v", c, got, want)
			}
		}
	}
}
