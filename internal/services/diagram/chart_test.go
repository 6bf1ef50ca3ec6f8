package diagram_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// sweep is a series of a concurrency sweep at 1, 2, 4 and 8 streams.
func sweep(label string, slot int, dashed bool, ys ...float64) diagram.Series {
	s := diagram.Series{Label: label, Slot: slot, Dashed: dashed}
	for i, y := range ys {
		s.Points = append(s.Points, diagram.ChartPoint{X: math.Pow(2, float64(i)), Y: y})
	}
	return s
}

// waitingChart is the sweep of a model that makes each stream wait for a
// slow source at its own pace (demo/hello's 1.5 tokens/s): the aggregate
// grows with the streams, on its ideal line, and each stream keeps its
// pace.
func waitingChart() diagram.Chart {
	return diagram.Chart{
		Title:  "demo/hello at 1, 2, 4 and 8 streams at once",
		XLabel: "streams at once", YLabel: "tokens/s",
		XTicks: []float64{1, 2, 4, 8},
		Series: []diagram.Series{
			sweep("all streams", 0, false, 1.5, 3, 6, 12),
			sweep("ideal: 1 stream × streams", 0, true, 1.5, 3, 6, 12),
			sweep("each stream", 1, false, 1.5, 1.5, 1.5, 1.5),
			sweep("ideal: as fast as alone", 1, true, 1.5, 1.5, 1.5, 1.5),
		},
		Notes: []string{
			"Waiting: each stream spends its time waiting on its own source, so streams side by side do not slow each other down and the aggregate grows with their number.",
			"The dashed lines are the ideals: the aggregate of one stream times the streams, and each stream as fast as alone.",
		},
	}
}

// sharingChart is the sweep of a model whose streams share one GPU: the
// aggregate grows less and less, far under its ideal, and each stream
// slows down. Its ideals are in colours of their own, so that the tests
// can find them.
func sharingChart() diagram.Chart {
	return diagram.Chart{
		Title:  "qwen3:0.6b at 1, 2, 4 and 8 streams at once",
		XLabel: "streams at once", YLabel: "tokens/s",
		XTicks: []float64{1, 2, 4, 8},
		Series: []diagram.Series{
			sweep("all streams", 0, false, 40, 62, 75, 80),
			sweep("ideal: 1 stream × streams", 2, true, 40, 80, 160, 320),
			sweep("each stream", 1, false, 40, 31, 18.75, 10),
			sweep("ideal: as fast as alone", 3, true, 40, 40, 40, 40),
		},
		Notes: []string{"Sharing: the streams take turns on one GPU, so each slows down as more run at once."},
	}
}

// renderChart writes c as SVG at w×h and parses it.
func renderChart(t *testing.T, c diagram.Chart, w, h int) (*node, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.SVG(&buf, w, h); err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, buf.Bytes()), buf.Bytes()
}

// TestChartGolden compares charts' SVGs with the files under testdata/
// (go test -update rewrites them).
func TestChartGolden(t *testing.T) {
	sharing := sharingChart()
	sharing.Dark = true
	for _, tt := range []struct {
		name string
		c    diagram.Chart
		w, h int
	}{
		{"chart-waiting.svg", waitingChart(), 1600, 900},
		{"chart-sharing-dark.svg", sharing, 800, 450},
	} {
		t.Run(tt.name, func(t *testing.T) {
			goldenSVG(t, tt.c, tt.name, tt.w, tt.h)
		})
	}
}

// TestChartSVG checks a chart's document: the title, the legend's labels,
// the axes' numbers and names, the notes whole and in order; a polyline
// per series in its slot's colour, the dashed ones first, fainter and
// dashed; a dot per point of a solid series, none for a dashed one.
func TestChartSVG(t *testing.T) {
	for _, dark := range []bool{false, true} {
		t.Run(fmt.Sprintf("dark %v", dark), func(t *testing.T) {
			c := waitingChart()
			c.Dark = dark
			svg, _ := renderChart(t, c, 1600, 900)
			if svg.attrs["viewBox"] != "0 0 1600 900" {
				t.Errorf("viewBox %q", svg.attrs["viewBox"])
			}
			for class, want := range map[string][]string{
				"title":   {c.Title},
				"legend":  {"all streams", "ideal: 1 stream × streams", "each stream", "ideal: as fast as alone"},
				"x-tick":  {"1", "2", "4", "8"},
				"y-tick":  {"0", "2.5", "5", "7.5", "10", "12.5"},
				"x-label": {"streams at once"},
				"y-label": {"tokens/s"},
			} {
				if got := svg.texts(class); !slices.Equal(got, want) {
					t.Errorf("%s texts %q, want %q", class, got, want)
				}
			}
			if got, want := strings.Join(svg.texts("note"), " "), strings.Join(c.Notes, " "); got != want {
				t.Errorf("notes %q, want %q", got, want)
			}
			if n := len(svg.texts("note")); n < 2 {
				t.Errorf("%d lines of notes", n)
			}
			series := svg.find("g", "series")
			if len(series) != 1 {
				t.Fatalf("%d series groups", len(series))
			}
			lines := series[0].find("polyline", "line")
			if len(lines) != 4 {
				t.Fatalf("%d lines", len(lines))
			}
			bg := coloursOf(dark)
			// Dashed ones first: the ideals under the measures.
			for i, want := range []struct {
				slot   int
				dashed bool
			}{{0, true}, {1, true}, {0, false}, {1, false}} {
				e := lines[i]
				colour := hexOf(palette.OnBackground(palette.Of(want.slot).RGB, bg))
				_, dashed := e.attrs["stroke-dasharray"]
				if e.attrs["stroke"] != colour || dashed != want.dashed || (e.attrs["stroke-opacity"] == "0.63") != want.dashed {
					t.Errorf("line %d: stroke %s opacity %q dashed %v, want %s dashed %v", i, e.attrs["stroke"], e.attrs["stroke-opacity"], dashed, colour, want.dashed)
				}
				if got := len(strings.Fields(e.attrs["points"])); got != 4 {
					t.Errorf("line %d has %d points", i, got)
				}
			}
			if dots := series[0].find("circle", "dot"); len(dots) != 8 {
				t.Errorf("%d dots, want 8", len(dots))
			}
			for _, e := range svg.all() {
				for _, a := range []string{"fill", "stroke"} {
					if v, ok := e.attrs[a]; ok && v != "none" && !hexColour.MatchString(v) {
						t.Errorf("%s %s=%q", e.name, a, v)
					}
				}
			}
		})
	}
}

// TestChartYAxis: the y axis goes from 0 to a nice value just above the
// highest point, at least 1, in 3 to 5 nice steps.
func TestChartYAxis(t *testing.T) {
	for _, tt := range []struct {
		most float64
		want []string
	}{
		{12, []string{"0", "2.5", "5", "7.5", "10", "12.5"}},
		{10, []string{"0", "2.5", "5", "7.5", "10", "12.5"}},
		{7, []string{"0", "2", "4", "6", "8"}},
		{1.45, []string{"0", "0.5", "1", "1.5", "2"}},
		{0.3, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{0, []string{"0", "0.2", "0.4", "0.6", "0.8", "1"}},
		{100, []string{"0", "25", "50", "75", "100", "125"}},
		{320, []string{"0", "100", "200", "300", "400"}},
		{1900, []string{"0", "500", "1000", "1500", "2000"}},
		{23456, []string{"0", "5000", "10000", "15000", "20000", "25000"}},
	} {
		t.Run(fmt.Sprint(tt.most), func(t *testing.T) {
			c := diagram.Chart{XTicks: []float64{1, 2}, Series: []diagram.Series{sweep("s", 0, false, tt.most/2, tt.most)}}
			svg, _ := renderChart(t, c, 800, 450)
			if got := svg.texts("y-tick"); !slices.Equal(got, tt.want) {
				t.Errorf("y axis %q, want %q", got, tt.want)
			}
		})
	}
}

// box is the room a text takes in an SVG: its measured width and, as the
// Go fonts reach 0.91 of their size above the baseline and 0.21 below,
// a little more than that up and down.
type box struct {
	text                     string
	left, right, top, bottom float64
}

func textBox(t *testing.T, e *node) box {
	t.Helper()
	x, y, size, w := e.num(t, "x"), e.num(t, "y"), e.num(t, "font-size"), e.num(t, "textLength")
	switch e.attrs["text-anchor"] {
	case "middle":
		x -= w / 2
	case "end":
		x -= w
	}
	return box{e.text, x, x + w, y - 0.95*size, y + 0.25*size}
}

func (a box) overlaps(b box) bool {
	return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom
}

// TestChartTextApart: at every size from 320×200 to 4000×3000, with text
// that grows with the picture or keeps its size, no two texts overlap,
// every text is inside the picture and outside the plot, and the notes
// are no wider than the plot.
func TestChartTextApart(t *testing.T) {
	crowded := sharingChart()
	crowded.XTicks = []float64{1, 2, 3, 4, 5, 6, 7, 8, 12, 16}
	screen := waitingChart()
	screen.TextSize = 14
	for _, c := range []struct {
		name string
		c    diagram.Chart
	}{{"waiting", waitingChart()}, {"crowded x axis", crowded}, {"text size 14", screen}} {
		for _, s := range [][2]int{{320, 200}, {400, 300}, {800, 450}, {1280, 720}, {1600, 900}, {1920, 1080}, {4000, 3000}, {4000, 200}, {320, 3000}} {
			t.Run(fmt.Sprintf("%s at %dx%d", c.name, s[0], s[1]), func(t *testing.T) {
				svg, _ := renderChart(t, c.c, s[0], s[1])
				axes := svg.find("rect", "axis-line")
				if len(axes) != 2 {
					t.Fatalf("%d axis lines", len(axes))
				}
				plot := box{"plot", axes[0].num(t, "x"), axes[1].num(t, "x") + axes[1].num(t, "width"), axes[0].num(t, "y"), axes[1].num(t, "y")}
				if plot.bottom-plot.top < 0.3*float64(s[1]) {
					t.Errorf("the plot is %v px high", plot.bottom-plot.top)
				}
				var boxes []box
				for _, e := range svg.find("text", "") {
					b := textBox(t, e)
					if b.left < 0 || b.top < 0 || b.right > float64(s[0]) || b.bottom > float64(s[1]) {
						t.Errorf("%q at %+v, outside the picture", b.text, b)
					}
					if b.overlaps(plot) {
						t.Errorf("%q at %+v, in the plot %+v", b.text, b, plot)
					}
					if slices.Contains(strings.Fields(e.attrs["class"]), "note") && b.right > plot.right+0.01 {
						t.Errorf("note %q reaches %v, past the plot's right %v", b.text, b.right, plot.right)
					}
					for _, o := range boxes {
						if b.overlaps(o) {
							t.Errorf("%q %+v overlaps %q %+v", b.text, b, o.text, o)
						}
					}
					boxes = append(boxes, b)
				}
				if got := len(svg.texts("x-tick")); got < 2 {
					t.Errorf("%d x labels", got)
				}
			})
		}
	}
}

// TestChartPNG decodes charts at the sizes asked, opaque, with each solid
// series' colour at its points (where no later series' dot covers them)
// and each dashed series' colour, blended on the background, along its
// segments.
func TestChartPNG(t *testing.T) {
	for _, tt := range []struct {
		c    diagram.Chart
		w, h int
		dark bool
	}{
		{sharingChart(), 1600, 900, false},
		{sharingChart(), 800, 450, true},
		{sharingChart(), 320, 200, false},
		{waitingChart(), 1600, 900, true},
	} {
		t.Run(fmt.Sprintf("%s at %dx%d dark %v", tt.c.Title, tt.w, tt.h, tt.dark), func(t *testing.T) {
			c := tt.c
			c.Dark = tt.dark
			img := decodedPNG(t, c, tt.w, tt.h)
			for y := range tt.h {
				for x := range tt.w {
					if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
						t.Fatalf("pixel %d,%d has alpha %#x", x, y, a)
					}
				}
			}
			bg := coloursOf(tt.dark)
			at, dotR, dash := diagram.ChartMarks(c, tt.w, tt.h)
			for i, s := range c.Series {
				colour := palette.OnBackground(palette.Of(s.Slot).RGB, bg)
				if !s.Dashed {
					for k, p := range at[i] {
						if coveredLater(c, at, i, p) {
							continue
						}
						if !near(img, p, dotR, func(px color.NRGBA) bool { return px == colour }) {
							t.Errorf("%s: no pixel of %v within %v px of point %d at %v", s.Label, colour, dotR, k, p)
						}
					}
					continue
				}
				// At least half covered by the line: nearer its colour
				// than the background is.
				want := blendOn(colour, 0xa0, bg)
				half := dist(bg, want) / 2
				for k := 1; k < len(at[i]); k++ {
					a, b := at[i][k-1], at[i][k]
					mid := diagram.ChartPoint{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2}
					if !near(img, mid, dash+2, func(px color.NRGBA) bool { return dist(px, want) < half }) {
						t.Errorf("%s: no pixel near %v within %v px of %v", s.Label, want, dash+2, mid)
					}
				}
			}
		})
	}
}

// coveredLater reports whether a solid series drawn after series i has a
// point within a pixel of p (its dot covers p's).
func coveredLater(c diagram.Chart, at [][]diagram.ChartPoint, i int, p diagram.ChartPoint) bool {
	for j := i + 1; j < len(c.Series); j++ {
		if c.Series[j].Dashed {
			continue
		}
		for _, q := range at[j] {
			if math.Hypot(p.X-q.X, p.Y-q.Y) <= 1 {
				return true
			}
		}
	}
	return false
}

// near reports whether a pixel within r (a square) of p is ok.
func near(img image.Image, p diagram.ChartPoint, r float64, ok func(color.NRGBA) bool) bool {
	for y := int(math.Floor(p.Y - r)); y <= int(math.Ceil(p.Y+r)); y++ {
		for x := int(math.Floor(p.X - r)); x <= int(math.Ceil(p.X+r)); x++ {
			if image.Pt(x, y).In(img.Bounds()) && ok(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)) {
				return true
			}
		}
	}
	return false
}

// blendOn is c at alpha a over the opaque bg.
func blendOn(c color.NRGBA, a uint8, bg color.NRGBA) color.NRGBA {
	f := float64(a) / 0xff
	ch := func(x, y uint8) uint8 { return uint8(float64(y) + (float64(x)-float64(y))*f + 0.5) }
	return color.NRGBA{ch(c.R, bg.R), ch(c.G, bg.G), ch(c.B, bg.B), 0xff}
}

func dist(a, b color.NRGBA) float64 {
	d := func(x, y uint8) float64 { return float64(x) - float64(y) }
	return math.Sqrt(d(a.R, b.R)*d(a.R, b.R) + d(a.G, b.G)*d(a.G, b.G) + d(a.B, b.B)*d(a.B, b.B))
}

// TestChartSizes: SVG, PNG and Save refuse sizes out of range; Image
// draws any size as asked.
func TestChartSizes(t *testing.T) {
	c := waitingChart()
	dir := t.TempDir()
	for _, s := range [][2]int{{diagram.MinWidth - 1, 200}, {320, diagram.MinHeight - 1}, {diagram.MaxWidth + 1, 600}, {800, diagram.MaxHeight + 1}, {0, 0}} {
		if err := c.SVG(io.Discard, s[0], s[1]); err == nil {
			t.Errorf("SVG at %v: no error", s)
		}
		if err := c.PNG(io.Discard, s[0], s[1]); err == nil {
			t.Errorf("PNG at %v: no error", s)
		}
		name := filepath.Join(dir, "t.png")
		if err := diagram.Save(c, name, s[0], s[1]); err == nil {
			t.Errorf("Save at %v: no error", s)
		}
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("a refused file was made: %v", err)
		}
	}
	for _, s := range [][2]int{{1, 1}, {40, 30}, {diagram.MinWidth, diagram.MinHeight}, {300, 2000}, {diagram.MaxWidth + 10, 10}} {
		want := image.Pt(min(s[0], diagram.MaxWidth), s[1])
		if b := c.Image(s[0], s[1]).Bounds(); b.Size() != want {
			t.Errorf("image %v, want %v", b, want)
		}
	}
}

// TestChartOdd draws charts with odd data without panics, in both formats
// at several sizes: points left out split the lines (a lone point is a dot
// alone), an empty chart and a chart of one tick draw their axes, and no
// number that is not one reaches the SVG.
func TestChartOdd(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	gaps := sweep("gaps", 0, false, 1.5, nan, 6, 12)
	gaps.Points = append(gaps.Points, diagram.ChartPoint{X: 16, Y: -1}, diagram.ChartPoint{X: 32, Y: 20})
	long := strings.Repeat("very-long-word-", 30)
	for _, tt := range []struct {
		name           string
		c              diagram.Chart
		lines, dots    int
		xTicks         []string
		oneInTheMiddle bool
	}{
		{name: "empty", c: diagram.Chart{}},
		{name: "no series", c: diagram.Chart{Title: "t", XTicks: []float64{1, 2, 4, 8}, Notes: []string{"n"}}, xTicks: []string{"1", "2", "4", "8"}},
		{name: "gaps", c: diagram.Chart{XTicks: []float64{1, 2, 4, 8, 16, 32}, Series: []diagram.Series{gaps, sweep("ideal", 0, true, nan, -3, 6, inf)}},
			lines: 1, dots: 4, xTicks: []string{"1", "2", "4", "8", "16", "32"}},
		{name: "every point left out", c: diagram.Chart{XTicks: []float64{1, 2}, Series: []diagram.Series{sweep("none", 0, false, nan, -1)}},
			xTicks: []string{"1", "2"}},
		{name: "one tick", c: diagram.Chart{XTicks: []float64{1}, Series: []diagram.Series{sweep("one", 0, false, 1.5)}},
			dots: 1, xTicks: []string{"1"}, oneInTheMiddle: true},
		{name: "no ticks", c: diagram.Chart{Series: []diagram.Series{sweep("s", 0, false, 1, 2, 3)}}, lines: 1, dots: 3},
		{name: "odd ticks and xs", c: diagram.Chart{XTicks: []float64{0, -2, nan, 2, inf}, Series: []diagram.Series{{Label: "x", Points: []diagram.ChartPoint{{X: 0, Y: 1}, {X: -1, Y: 1}, {X: nan, Y: 1}, {X: 2, Y: 1}}}}},
			dots: 1, xTicks: []string{"2"}, oneInTheMiddle: true},
		{name: "huge and tiny", c: diagram.Chart{XTicks: []float64{1, 1e6}, Series: []diagram.Series{
			{Label: "huge", Points: []diagram.ChartPoint{{X: 1, Y: math.MaxFloat64}, {X: 1e6, Y: 1e-300}}}}},
			lines: 1, dots: 2, xTicks: []string{"1", "1000000"}},
		{name: "long words", c: diagram.Chart{Title: long, XLabel: long, YLabel: long, XTicks: []float64{1, 2}, Notes: []string{long, "short " + long + " short", "  "},
			Series: []diagram.Series{sweep(long, 9, false, 1, 2), sweep("<b>&\"x\n", -3, true, 1, 2)}},
			lines: 2, dots: 2, xTicks: []string{"1", "2"}},
		{name: "huge text size", c: func() diagram.Chart { c := waitingChart(); c.TextSize = 1e9; return c }(),
			lines: 4, dots: 8, xTicks: []string{"1", "2", "4", "8"}},
		{name: "infinite text size", c: func() diagram.Chart { c := waitingChart(); c.TextSize = inf; return c }(),
			lines: 4, dots: 8, xTicks: []string{"1", "2", "4", "8"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range [][2]int{{diagram.MinWidth, diagram.MinHeight}, {320, 200}, {1600, 900}} {
				svg, raw := renderChart(t, tt.c, s[0], s[1])
				if bytes.Contains(raw, []byte("NaN")) || bytes.Contains(raw, []byte("Inf")) {
					t.Errorf("at %v the SVG holds a NaN or an Inf", s)
				}
				series := svg.find("g", "series")[0]
				if got := len(series.find("polyline", "")); got != tt.lines {
					t.Errorf("at %v: %d lines, want %d", s, got, tt.lines)
				}
				dots := series.find("circle", "dot")
				if len(dots) != tt.dots {
					t.Errorf("at %v: %d dots, want %d", s, len(dots), tt.dots)
				}
				if s[0] >= 320 {
					if got := svg.texts("x-tick"); !slices.Equal(got, tt.xTicks) {
						t.Errorf("at %v: x labels %q, want %q", s, got, tt.xTicks)
					}
				}
				if tt.oneInTheMiddle {
					axes := svg.find("rect", "axis-line")
					mid := axes[1].num(t, "x") + axes[1].num(t, "width")/2
					if x := dots[0].num(t, "cx"); math.Abs(x-mid) > 1 {
						t.Errorf("at %v the one point is at x %v, not in the middle %v", s, x, mid)
					}
				}
			}
			for _, s := range [][2]int{{1, 1}, {40, 30}, {320, 200}} {
				tt.c.Image(s[0], s[1])
			}
		})
	}
}

// TestChartSaved: the sweeps' charts, light and dark, at a slide's size
// and at half of it, saved as PNG and SVG, are pictures of that size
// (with -sample-dir they are written there, to look at).
func TestChartSaved(t *testing.T) {
	dir := *sampleDir
	if dir == "" {
		dir = t.TempDir()
	}
	for name, c := range map[string]diagram.Chart{"waiting": waitingChart(), "sharing": sharingChart()} {
		for _, dark := range []bool{false, true} {
			c.Dark = dark
			for _, s := range [][2]int{{1600, 900}, {800, 450}} {
				base := filepath.Join(dir, fmt.Sprintf("chart-%s-%dx%d-dark-%v", name, s[0], s[1], dark))
				for _, ext := range []string{".png", ".svg"} {
					if err := diagram.Save(c, base+ext, s[0], s[1]); err != nil {
						t.Fatal(err)
					}
				}
				f, err := os.Open(base + ".png")
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := png.DecodeConfig(f)
				f.Close()
				if err != nil || cfg.Width != s[0] || cfg.Height != s[1] {
					t.Errorf("%s.png: %+v, %v", base, cfg, err)
				}
				if b, err := os.ReadFile(base + ".svg"); err != nil || !bytes.Contains(b, []byte(fmt.Sprintf(`viewBox="0 0 %d %d"`, s[0], s[1]))) {
					t.Errorf("%s.svg: %v, want a viewBox of %dx%d", base, err, s[0], s[1])
				}
			}
		}
	}
}
