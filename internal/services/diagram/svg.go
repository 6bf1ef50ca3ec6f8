package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"github.com/tokenloom/tokenloom/internal/base/paint"
)

// svgCanvas writes an SVG document: the body as it is drawn, the patterns
// it uses into its defs.
type svgCanvas struct {
	f        *fonts
	w, h     int
	body     bytes.Buffer
	defs     bytes.Buffer
	patterns map[patternKey]string // their ids
	num      []byte                // scratch for numbers
}

type patternKey struct {
	kind   paint.Pattern
	scale  int
	colour color.NRGBA
}

func newSVGCanvas(f *fonts, w, h int) *svgCanvas {
	return &svgCanvas{f: f, w: w, h: h, patterns: map[patternKey]string{}}
}

// writeTo writes the document.
func (s *svgCanvas) writeTo(w io.Writer) error {
	var head bytes.Buffer
	fmt.Fprintf(&head, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\">\n",
		s.w, s.h, s.w, s.h, fontFamily)
	if s.defs.Len() > 0 {
		head.WriteString("<defs>\n")
		head.Write(s.defs.Bytes())
		head.WriteString("</defs>\n")
	}
	for _, b := range [][]byte{head.Bytes(), s.body.Bytes(), []byte("</svg>\n")} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write svg: %w", err)
		}
	}
	return nil
}

// n writes a number to b, to a hundredth of a pixel.
func (s *svgCanvas) n(b *bytes.Buffer, v float64) {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0 // not -0
	}
	s.num = strconv.AppendFloat(s.num[:0], v, 'f', -1, 64)
	b.Write(s.num)
}

// attr writes name="v" with a leading space, v escaped.
func (s *svgCanvas) attr(b *bytes.Buffer, name, v string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	xml.EscapeText(b, []byte(v)) //nolint:errcheck // a bytes.Buffer does not fail
	b.WriteByte('"')
}

// numAttr writes name="v" with a leading space.
func (s *svgCanvas) numAttr(b *bytes.Buffer, name string, v float64) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	s.n(b, v)
	b.WriteByte('"')
}

// paint writes a fill or stroke attribute of c and, when c is not opaque,
// its opacity.
func (s *svgCanvas) paint(b *bytes.Buffer, what string, c color.NRGBA) {
	s.attr(b, what, hex(c))
	if c.A != 0xff {
		s.numAttr(b, what+"-opacity", math.Round(float64(c.A)/0xff*1000)/1000)
	}
}

func (s *svgCanvas) begin(class string) {
	s.body.WriteString("<g")
	s.attr(&s.body, "class", class)
	s.body.WriteString(">\n")
}

func (s *svgCanvas) end() { s.body.WriteString("</g>\n") }

func (s *svgCanvas) rectXYWH(x0, y0, x1, y1 float64) {
	b := &s.body
	s.numAttr(b, "x", x0)
	s.numAttr(b, "y", y0)
	s.numAttr(b, "width", x1-x0)
	s.numAttr(b, "height", y1-y0)
}

func (s *svgCanvas) rect(x0, y0, x1, y1 float64, c color.NRGBA, class string) {
	if x1 <= x0 || y1 <= y0 || c.A == 0 {
		return
	}
	b := &s.body
	b.WriteString("<rect")
	if class != "" {
		s.attr(b, "class", class)
	}
	s.rectXYWH(x0, y0, x1, y1)
	s.paint(b, "fill", c)
	b.WriteString("/>\n")
}

func (s *svgCanvas) pattern(x0, y0, x1, y1 float64, k paint.Pattern, scale int, c color.NRGBA) {
	if x1 <= x0 || y1 <= y0 || c.A == 0 {
		return
	}
	key := patternKey{k, scale, c}
	id, ok := s.patterns[key]
	if !ok {
		id = "pattern" + strconv.Itoa(len(s.patterns))
		s.patterns[key] = id
		s.definePattern(id, key)
	}
	b := &s.body
	b.WriteString("<rect class=\"pattern\"")
	s.rectXYWH(x0, y0, x1, y1)
	b.WriteString(` fill="url(#` + id + `)"/>` + "\n")
}

// definePattern writes the tile of a pattern, fixed to the picture's
// pixels as the image's is.
func (s *svgCanvas) definePattern(id string, key patternKey) {
	b := &s.defs
	u := float64(key.scale)
	var tw, th float64
	var d string
	switch key.kind {
	case paint.Hatched:
		// The pixels where (x+y) mod p < m: two bands across the tile.
		p, m := paint.HatchPeriod*u, paint.HatchWidth*u
		tw, th = p, p
		d = fmt.Sprintf("M0 0H%gL0 %gZM%g 0V%gL%g %gH0Z", m, m, p, m, m, p)
	case paint.Dotted:
		// A dot at the tile's corner and one a staggered row below.
		tw, th = paint.DotPeriod*u, 2*paint.DotRows*u
		d = fmt.Sprintf("M0 0h%gv%gh-%gZM%g %gh%gv%gh-%gZ", u, u, u, paint.DotStagger*u, paint.DotRows*u, u, u, u)
	default:
		return
	}
	b.WriteString("<pattern")
	s.attr(b, "id", id)
	b.WriteString(` patternUnits="userSpaceOnUse" x="0" y="0"`)
	s.numAttr(b, "width", tw)
	s.numAttr(b, "height", th)
	b.WriteString("><path")
	s.attr(b, "d", d)
	s.paint(b, "fill", key.colour)
	b.WriteString("/></pattern>\n")
}

func (s *svgCanvas) ticks(ts []tick, width float64, c color.NRGBA, class string) {
	if len(ts) == 0 {
		return
	}
	b := &s.body
	b.WriteString("<path")
	s.attr(b, "class", class)
	b.WriteString(` d="`)
	for _, t := range ts {
		b.WriteByte('M')
		s.n(b, t.x+width/2)
		b.WriteByte(' ')
		s.n(b, t.y0)
		b.WriteByte('V')
		s.n(b, t.y1)
	}
	b.WriteByte('"')
	s.paint(b, "stroke", c)
	s.numAttr(b, "stroke-width", width)
	b.WriteString(" fill=\"none\"/>\n")
}

func (s *svgCanvas) dashedV(x, y0, y1, width, dash float64, c color.NRGBA) {
	b := &s.body
	b.WriteString(`<path class="dashed" d="M`)
	s.n(b, x+width/2)
	b.WriteByte(' ')
	s.n(b, y0)
	b.WriteByte('V')
	s.n(b, y1)
	b.WriteByte('"')
	s.paint(b, "stroke", c)
	s.numAttr(b, "stroke-width", width)
	b.WriteString(` stroke-dasharray="`)
	s.n(b, dash)
	b.WriteByte(' ')
	s.n(b, dash)
	b.WriteString("\" fill=\"none\"/>\n")
}

func (s *svgCanvas) text(x, y float64, str string, st textStyle) {
	if str == "" {
		return
	}
	b := &s.body
	b.WriteString("<text")
	if st.class != "" {
		s.attr(b, "class", st.class)
	}
	s.numAttr(b, "x", x)
	s.numAttr(b, "y", y)
	s.numAttr(b, "font-size", st.size)
	if st.bold {
		b.WriteString(` font-weight="bold"`)
	}
	switch st.anchor {
	case anchorMiddle:
		b.WriteString(` text-anchor="middle"`)
	case anchorEnd:
		b.WriteString(` text-anchor="end"`)
	}
	s.paint(b, "fill", st.colour)
	// The width the layout measured in the Go font: a viewer without it
	// fits its own font to it, so that text stays clear of its
	// neighbours.
	s.numAttr(b, "textLength", s.f.width(str, st.size, st.bold))
	b.WriteString(` lengthAdjust="spacingAndGlyphs">`)
	xml.EscapeText(b, []byte(str)) //nolint:errcheck // a bytes.Buffer does not fail
	b.WriteString("</text>\n")
}

func (s *svgCanvas) line(pts []point, width, dash float64, c color.NRGBA, class string) {
	if len(pts) < 2 || width <= 0 || c.A == 0 {
		return
	}
	b := &s.body
	b.WriteString("<polyline")
	if class != "" {
		s.attr(b, "class", class)
	}
	b.WriteString(` points="`)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		s.n(b, p.x)
		b.WriteByte(',')
		s.n(b, p.y)
	}
	b.WriteString(`" fill="none"`)
	s.paint(b, "stroke", c)
	s.numAttr(b, "stroke-width", width)
	if dash > 0 {
		b.WriteString(` stroke-dasharray="`)
		s.n(b, dash)
		b.WriteByte(' ')
		s.n(b, dash)
		b.WriteByte('"')
	}
	b.WriteString(` stroke-linecap="round" stroke-linejoin="round"/>` + "\n")
}

func (s *svgCanvas) dot(x, y, r float64, c color.NRGBA, class string) {
	if r <= 0 || c.A == 0 {
		return
	}
	b := &s.body
	b.WriteString("<circle")
	if class != "" {
		s.attr(b, "class", class)
	}
	s.numAttr(b, "cx", x)
	s.numAttr(b, "cy", y)
	s.numAttr(b, "r", r)
	s.paint(b, "fill", c)
	b.WriteString("/>\n")
}
