// Package assets holds Tokenloom's bundled resources.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the app icon: three rows of coloured tokens.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)
