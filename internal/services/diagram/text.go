package diagram

import (
	"image/color"
	"sort"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// goFonts are the parsed Go fonts; an sfnt.Font is safe for concurrent
// use, its faces are not.
var goFonts = sync.OnceValue(func() [2]*opentype.Font {
	var fs [2]*opentype.Font
	for i, ttf := range [][]byte{goregular.TTF, gobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic("diagram: the embedded Go font does not parse: " + err.Error())
		}
		fs[i] = f
	}
	return fs
})

// fontFamily is the SVG's font-family: the fonts the text was measured in
// first. Each text also says its measured width (textLength), which a
// viewer with another font fits it to.
const fontFamily = "Go, 'Go Regular', 'DejaVu Sans', Arial, Helvetica, sans-serif"

// anchor is where a text's x is: its start, middle or end.
type anchor int

const (
	anchorStart anchor = iota
	anchorMiddle
	anchorEnd
)

// textStyle is how a text is set.
type textStyle struct {
	size   float64 // in pixels
	bold   bool
	colour color.NRGBA
	anchor anchor
	class  string // the SVG element's class
}

type faceKey struct {
	size float64
	bold bool
}

// fonts are the faces of one drawing, unhinted at 72 dpi, so that a size
// in points is one in pixels and widths are the same for SVG and PNG. Not
// safe for concurrent use.
type fonts struct {
	faces map[faceKey]font.Face
}

func newFonts() *fonts { return &fonts{faces: map[faceKey]font.Face{}} }

func (f *fonts) face(size float64, bold bool) font.Face {
	k := faceKey{size, bold}
	if fc, ok := f.faces[k]; ok {
		return fc
	}
	i := 0
	if bold {
		i = 1
	}
	fc, err := opentype.NewFace(goFonts()[i], &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic("diagram: a face of the Go font: " + err.Error())
	}
	f.faces[k] = fc
	return fc
}

// width is s's advance at size.
func (f *fonts) width(s string, size float64, bold bool) float64 {
	return float64(font.MeasureString(f.face(size, bold), s)) / 64
}

// ascent and descent are the extent of a line above and below its
// baseline at size.
func (f *fonts) ascent(size float64, bold bool) float64 {
	return float64(f.face(size, bold).Metrics().Ascent) / 64
}

func (f *fonts) descent(size float64, bold bool) float64 {
	return float64(f.face(size, bold).Metrics().Descent) / 64
}

// lineHeight is the height of a line of text at size: ascent and descent.
func (f *fonts) lineHeight(size float64, bold bool) float64 {
	return f.ascent(size, bold) + f.descent(size, bold)
}

// fit is s as it fits in width at size: whole, or cut after a whole
// character and ended with an ellipsis (only the ellipsis if nothing
// else fits, nothing if not even that does).
func (f *fonts) fit(s string, size float64, bold bool, width float64) string {
	if f.width(s, size, bold) <= width {
		return s
	}
	if f.width("…", size, bold) > width {
		return ""
	}
	runes := []rune(s)
	n := sort.Search(len(runes)+1, func(n int) bool {
		return f.width(string(runes[:n])+"…", size, bold) > width
	}) - 1
	return strings.TrimRightFunc(string(runes[:max(n, 0)]), unicode.IsSpace) + "…"
}

// printable is s with control characters (line breaks, tabs) as spaces:
// a label is one line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// wrap breaks s into lines no wider than width at size, between words
// (runs of spaces); a word wider than width has a line of its own, cut
// with an ellipsis (see fit). An empty or blank s has no lines.
func (f *fonts) wrap(s string, size float64, bold bool, width float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(printable(s)) {
		if line != "" && f.width(line+" "+word, size, bold) <= width {
			line += " " + word
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		line = word
		if f.width(word, size, bold) > width {
			lines = append(lines, f.fit(word, size, bold, width))
			line = ""
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
