package widgets

import (
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/base/palette"
)

// SlotColorName is the theme colour name of stream slot i; every view that
// shows a stream's colour asks the theme for it.
func SlotColorName(i int) fyne.ThemeColorName {
	return fyne.ThemeColorName(slotColorPrefix + strconv.Itoa(i%len(palette.Slots)))
}

// SlotDimColorName is the theme colour name of stream slot i subdued: its
// reasoning, beside the answer in SlotColorName.
func SlotDimColorName(i int) fyne.ThemeColorName {
	return fyne.ThemeColorName(slotDimColorPrefix + strconv.Itoa(i%len(palette.Slots)))
}

const (
	slotColorPrefix    = "tokenloom-slot-"
	slotDimColorPrefix = "tokenloom-slot-dim-"
)

// appTheme is the default theme plus the stream slot colours.
type appTheme struct {
	fyne.Theme
}

// NewTheme is the app's theme: Fyne's default theme plus the stream slot
// colours (SlotColorName, SlotDimColorName).
func NewTheme() fyne.Theme { return &appTheme{Theme: theme.DefaultTheme()} }

// Color answers the slot colours (see SlotColor and SlotDimColor); other
// names go to the default theme.
func (t *appTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n, ok := strings.CutPrefix(string(name), slotDimColorPrefix); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			return SlotDimColor(i, v)
		}
	}
	if n, ok := strings.CutPrefix(string(name), slotColorPrefix); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			return SlotColor(i, v)
		}
	}
	return t.Theme.Color(name, v)
}

// SlotColor is the colour of stream slot i on a theme variant: the
// palette's colour, adjusted just enough to read as text on that variant's
// background.
func SlotColor(i int, v fyne.ThemeVariant) color.NRGBA {
	return palette.OnBackground(palette.Of(i).RGB, background(v))
}

// SlotDimColor is the colour of stream slot i subdued, for its reasoning:
// the slot's colour dimmed on the background (palette.Dim). Opaque, so
// that text in it draws as crisply as the answer.
func SlotDimColor(i int, v fyne.ThemeVariant) color.NRGBA {
	return palette.Dim(SlotColor(i, v), background(v))
}

// background is the theme's background on variant v, as the pictures of
// a run have it (paint.Background).
func background(v fyne.ThemeVariant) color.NRGBA { return paint.Background(v == theme.VariantDark) }
