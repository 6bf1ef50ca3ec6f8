package ui

import (
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/palette"
)

// SlotColorName is the theme colour name of stream slot i; every view that
// shows a stream's colour asks the theme for it.
func SlotColorName(i int) fyne.ThemeColorName {
	return fyne.ThemeColorName(slotColorPrefix + strconv.Itoa(i%len(palette.Slots)))
}

const slotColorPrefix = "tokenloom-slot-"

// appTheme is the default theme plus the stream slot colours.
type appTheme struct {
	fyne.Theme
}

func newAppTheme() fyne.Theme { return &appTheme{Theme: theme.DefaultTheme()} }

// Color answers the slot colours (see SlotColor); other names go to the
// default theme.
func (t *appTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
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
	bg := lightBackground
	if v == theme.VariantDark {
		bg = darkBackground
	}
	return palette.OnBackground(palette.Of(i).RGB, bg)
}

// The default theme's backgrounds (fyne.io/fyne/v2/theme), fixed here so
// that slot colours do not need a running app.
var (
	darkBackground  = color.NRGBA{R: 0x17, G: 0x17, B: 0x18, A: 0xff}
	lightBackground = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)
