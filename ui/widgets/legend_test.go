package widgets

import (
	"image"
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/palette"
)

// variantTheme is the app's theme held to one variant, whatever the
// settings say.
type variantTheme struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t variantTheme) Color(name fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(name, t.v)
}

// TestLegendReadable: on the dark and on the light theme, the legend's
// names are in the foreground colour at caption size, and each swatch
// reads against the background: a frame of at least 3:1 contrast (the
// WCAG's least for the parts of a control) and a fill that is not the
// background, drawn opaque so that what lies under it does not matter.
func TestLegendReadable(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"dark", theme.VariantDark}, {"light", theme.VariantLight}} {
		t.Run(tt.name, func(t *testing.T) {
			th := variantTheme{NewTheme(), tt.v}
			test.NewTempApp(t).Settings().SetTheme(th)
			l := NewTimelineLegend()
			test.NewTempWindow(t, l)
			r := test.WidgetRenderer(l).(*legendRenderer)
			fg := color.NRGBAModel.Convert(th.Color(theme.ColorNameForeground, tt.v)).(color.NRGBA)
			bg := color.NRGBAModel.Convert(th.Color(theme.ColorNameBackground, tt.v)).(color.NRGBA)
			for _, tx := range r.texts {
				if tx.Color != th.Color(theme.ColorNameForeground, tt.v) || tx.TextSize != th.Size(theme.SizeNameCaptionText) {
					t.Errorf("%q drawn in %v at %v, want the foreground %v at caption size", tx.Text, tx.Color, tx.TextSize, fg)
				}
			}
			if gotFg, gotBg := l.colors(); gotFg != fg || gotBg != bg {
				t.Errorf("swatches drawn for %v on %v, want the theme's %v on %v", gotFg, gotBg, fg, bg)
			}
			const w, h = 2 * legendSwatchWidth, 2 * legendSwatchHeight // a HiDPI screen
			for _, it := range legendItems {
				img := legendSwatch(it, w, h, fg, bg).(*image.RGBA)
				at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
				for _, p := range []image.Point{{0, 0}, {w - 1, h / 2}, {w / 2, h - 1}, {0, h - 1}} {
					if c := at(p.X, p.Y); c.A != 0xff || palette.Contrast(c, bg) < 3 {
						t.Errorf("%s: frame at %v is %v, contrast %.2f with the background %v", it.Label, p, c, palette.Contrast(c, bg), bg)
					}
				}
				// The fill: the commonest colour inside, the tick and the
				// pattern's marks aside.
				count := map[color.NRGBA]int{}
				for y := 1; y < h-1; y++ {
					for x := 1; x < w-1; x++ {
						count[at(x, y)]++
					}
				}
				var fill color.NRGBA
				for c, n := range count {
					if n > count[fill] {
						fill = c
					}
				}
				if fill.A != 0xff || palette.Contrast(fill, bg) < 1.3 {
					t.Errorf("%s: fill %v, contrast %.2f with the background %v: too faint", it.Label, fill, palette.Contrast(fill, bg), bg)
				}
			}
		})
	}
}
