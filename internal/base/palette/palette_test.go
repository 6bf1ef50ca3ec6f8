package palette

import (
	"image/color"
	"testing"
)

func TestSlots(t *testing.T) {
	if Of(0).Name != "blue" || Of(1).Name != "vermillion" || Of(len(Slots)).Name != "blue" {
		t.Errorf("slot order: %s, %s", Of(0).Name, Of(1).Name)
	}
	seen := map[color.NRGBA]bool{}
	for _, s := range Slots {
		if seen[s.RGB] {
			t.Errorf("colour %s twice", s.Hex())
		}
		seen[s.RGB] = true
	}
}

func TestANSI(t *testing.T) {
	if got := Of(0).ANSI(true); got != "\x1b[38;2;0;114;178m" {
		t.Errorf("truecolor %q", got)
	}
	// #0072B2 is nearest to cube entry (0, 95, 175) = 16 + 0 + 6*1 + 3 = 25.
	if got := Of(0).ANSI(false); got != "\x1b[38;5;25m" {
		t.Errorf("256 colours %q", got)
	}
	// Grey #888888 is nearer to cube entry (135, 135, 135) = 102 than to
	// the grey ramp's 138.
	if got := Of(7).ANSI(false); got != "\x1b[38;5;102m" {
		t.Errorf("grey %q", got)
	}
}

// TestReadable: every slot reaches the text contrast on white and on
// Fyne's light and dark backgrounds, and keeps its hue family.
func TestReadable(t *testing.T) {
	for _, bg := range []color.NRGBA{{0xff, 0xff, 0xff, 0xff}, {0xf0, 0xf0, 0xf0, 0xff}, {0x17, 0x17, 0x1a, 0xff}, {0, 0, 0, 0xff}} {
		for _, s := range Slots {
			c := OnBackground(s.RGB, bg)
			if got := Contrast(c, bg); got < MinTextContrast {
				t.Errorf("%s on %v: contrast %.2f", s.Name, bg, got)
			}
		}
	}
	// Blue already reads on white: unchanged.
	if c := OnBackground(Of(0).RGB, color.NRGBA{0xff, 0xff, 0xff, 0xff}); c != Of(0).RGB {
		t.Errorf("blue on white changed to %v", c)
	}
}

func TestTrueColor(t *testing.T) {
	if !TrueColor("truecolor") || !TrueColor("24bit") || TrueColor("") {
		t.Error("COLORTERM detection")
	}
}

// TestDim: a colour subdued is the one formula of the app's reasoning and
// its legend: DimMix of the way to the background, rounded, opaque.
func TestDim(t *testing.T) {
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	// 0x00 + 0.45×255 = 114.75, 0x72 + 0.45×(255-114) = 177.45, 0xB2 +
	// 0.45×(255-178) = 212.65.
	if got, want := Dim(Of(0).RGB, white), (color.NRGBA{115, 177, 213, 0xff}); got != want {
		t.Errorf("blue dimmed on white %v, want %v", got, want)
	}
	if got := Dim(color.NRGBA{0x80, 0x80, 0x80, 0x40}, white); got.A != 0xff {
		t.Errorf("dimmed alpha %d, want opaque", got.A)
	}
	if Dim(white, white) != white {
		t.Error("white dimmed on white is not white")
	}
}
