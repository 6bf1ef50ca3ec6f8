package diagram_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
	"github.com/tokenloom/tokenloom/server"
)

var (
	update    = flag.Bool("update", false, "rewrite the golden files under testdata/")
	sampleDir = flag.String("sample-dir", "", "write pictures of a real sync and async run of demo/hello and demo/hamlet, and of two sweeps' charts, into this directory")
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

// legendWords are the legend's words, as the app's legend has them.
var legendWords = []string{"waiting", "queued", "loading", "prompt", "thinking", "answer"}

// hamlet is demo/hamlet's answer.
var hamlet = []string{"To", " be", ",", " or", " not", " to", " be", ",", " that", " is", " the", " question", "."}

// thinking is a thinking event at ms.
func thinking(ms float64, text string) transcripttest.Event {
	return transcripttest.Event{Type: wire.EventThinking, Data: wire.EventData{Text: text, TMs: ms}}
}

// demoRun is a finished run of demo/hello and demo/hamlet as the server
// logs it: in sync mode hamlet waits for hello's 2 s, then takes its 3 s
// (5 s in all); in async mode both start at once (3 s in all).
func demoRun(mode string) *wire.Transcript {
	helloEnd := 2000.5
	hamletStart := 0.2
	hamletEvs := []transcripttest.Event{}
	if mode == wire.ModeSync {
		hamletStart = helloEnd + 0.1
		hamletEvs = append(hamletEvs, transcripttest.Phase(0.2, wire.PhaseWaiting))
	}
	hamletEvs = append(hamletEvs, transcripttest.Phase(hamletStart, wire.PhaseGenerating))
	for i, tok := range hamlet {
		hamletEvs = append(hamletEvs, transcripttest.Token(hamletStart+3000*float64(i+1)/float64(len(hamlet)), tok))
	}
	end := hamletStart + 3000.4
	hamletEvs = append(hamletEvs, transcripttest.Done(end, wire.ReasonStop))
	t := &wire.Transcript{ID: "r_" + mode, Mode: mode, Prompt: "hi", Finished: true, WallMs: end}
	t.Streams = []wire.StreamTranscript{
		transcripttest.Stream(0, wire.DemoHello, 0.1, nil, transcripttest.Phase(0.2, wire.PhaseGenerating),
			transcripttest.Token(1000.2, "Hello"), transcripttest.Token(2000.3, " world"), transcripttest.Done(helloEnd, wire.ReasonStop)),
		transcripttest.Stream(1, wire.DemoHamlet, hamletStart, nil, hamletEvs...),
	}
	return t
}

// compareDiagram is the picture of demoRun's sync run above its async
// run, with the time async saved marked.
func compareDiagram() diagram.Diagram {
	return diagram.OfComparison(demoRun(wire.ModeSync), demoRun(wire.ModeAsync), nil)
}

// everyPhaseRun is a run whose one stream goes through every phase: queued
// until 1200 ms, loading until 1500, reading the prompt until 1600,
// thinking until 2500, answering until 4000.
func everyPhaseRun() *wire.Transcript {
	evs := []transcripttest.Event{
		transcripttest.Phase(0, wire.PhaseQueued), transcripttest.Phase(1200, wire.PhaseLoading),
		transcripttest.Phase(1500, wire.PhasePrompt), transcripttest.Phase(1600, wire.PhaseThinking),
	}
	for ms := 1650.0; ms < 2500; ms += 50 {
		evs = append(evs, thinking(ms, "hm"))
	}
	evs = append(evs, transcripttest.Phase(2500, wire.PhaseGenerating))
	for ms := 2550.0; ms < 4000; ms += 100 {
		evs = append(evs, transcripttest.Token(ms, "yes"))
	}
	evs = append(evs, transcripttest.Done(4000, wire.ReasonStop))
	t := &wire.Transcript{ID: "r_every", Mode: wire.ModeAsync, Finished: true, WallMs: 4000}
	t.Streams = []wire.StreamTranscript{
		transcripttest.Stream(0, wire.DemoHello, 0, nil, transcripttest.Phase(0, wire.PhaseGenerating), transcripttest.Token(500, "Hi"), transcripttest.Done(600, wire.ReasonStop)),
		transcripttest.Stream(1, "qwen3:0.6b", 0, nil, evs...),
	}
	return t
}

// node is an element of a parsed SVG document.
type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
}

// parseSVG parses a whole document with encoding/xml, failing the test
// where it is no well-formed XML.
func parseSVG(t *testing.T, b []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is no well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(tok)
		}
	}
	if len(root.children) != 1 || root.children[0].name != "svg" {
		t.Fatalf("the document's root is not one svg element")
	}
	return root.children[0]
}

// all are n and the elements under it, in document order.
func (n *node) all() []*node {
	out := []*node{n}
	for _, c := range n.children {
		out = append(out, c.all()...)
	}
	return out
}

// find are the elements under n named name with class among their classes.
func (n *node) find(name, class string) []*node {
	var out []*node
	for _, e := range n.all() {
		if e.name == name && (class == "" || slices.Contains(strings.Fields(e.attrs["class"]), class)) {
			out = append(out, e)
		}
	}
	return out
}

// texts are the contents of the text elements under n of class.
func (n *node) texts(class string) []string {
	var out []string
	for _, e := range n.find("text", class) {
		out = append(out, e.text)
	}
	return out
}

func (n *node) num(t *testing.T, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attrs[attr], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", n.name, attr, n.attrs[attr], err)
	}
	return v
}

// render writes d as SVG at w×h and parses it.
func render(t *testing.T, d diagram.Diagram, w, h int) (*node, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := d.SVG(&buf, w, h); err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, buf.Bytes()), buf.Bytes()
}

// lanes are the lane groups of an SVG by their labels.
func lanes(svg *node) map[string]*node {
	out := map[string]*node{}
	for _, g := range svg.find("g", "lane") {
		if labels := g.texts("label"); len(labels) == 1 {
			out[labels[0]] = g
		}
	}
	return out
}

// manyLanes is a run of n lanes of ticks tokens each, over 10 s.
func manyLanes(n, ticks int) diagram.Diagram {
	g := diagram.Group{Title: "async: 10.00 s", WallMs: 10000}
	for i := range n {
		l := diagram.Lane{Label: fmt.Sprintf("%d demo/flood", i+1), Slot: i,
			Phases: []diagram.Phase{{Name: wire.PhasePrompt, StartMs: 0, EndMs: 300 * float64(i+1)}, {Name: wire.PhaseGenerating, StartMs: 300 * float64(i+1), EndMs: 10000}}}
		for k := range ticks {
			l.Ticks = append(l.Ticks, 300*float64(i+1)+(10000-300*float64(i+1))*float64(k)/float64(ticks))
		}
		g.Lanes = append(g.Lanes, l)
	}
	return diagram.Diagram{Title: fmt.Sprintf("%d streams of %d tokens", n, ticks), Groups: []diagram.Group{g}}
}

// TestGroupOf makes lanes from transcripts: a lane per stream named by its
// number and model (or label), its phases from its phase events up to the
// next or its end, its tokens' and reasoning's times, the run's wall time.
func TestGroupOf(t *testing.T) {
	unfinished := &wire.Transcript{Mode: wire.ModeAsync}
	unfinished.Streams = []wire.StreamTranscript{
		transcripttest.Stream(0, wire.DemoEcho, 0, nil, transcripttest.Phase(1, wire.PhasePrompt), transcripttest.Token(50, "a"), transcripttest.Token(70, "b")),
		transcripttest.Stream(1, wire.DemoFlood, 0, nil, transcripttest.Phase(1, wire.PhaseGenerating), transcripttest.Token(90, "c"), transcripttest.Done(100, wire.ReasonStop)),
	}
	thinker := &wire.Transcript{Mode: wire.ModeAsync, WallMs: 600}
	thinker.Streams = []wire.StreamTranscript{transcripttest.Stream(0, wire.DemoThink, 0, nil,
		transcripttest.Phase(0.3, wire.PhaseThinking), thinking(100, "The"), thinking(150, " user"),
		transcripttest.Phase(400, wire.PhaseGenerating), transcripttest.Token(400, "Hi"), transcripttest.Done(600, wire.ReasonStop))}
	tests := []struct {
		name  string
		got   diagram.Group
		title string
		wall  float64
		lanes []diagram.Lane
	}{
		{
			"every kind of end", diagram.GroupOf(transcripttest.Run(), "async: 2.00 s"), "async: 2.00 s", 2001.5,
			[]diagram.Lane{
				// The finished streams' phases are their stats', by their
				// servers' clocks; the others', the events'.
				{Label: "1 demo/hello", Slot: 0, Phases: []diagram.Phase{{wire.PhaseGenerating, 0.4, 2001.4}}, Ticks: []float64{1000.9, 2001.2}},
				{Label: "2 cold | start", Slot: 1, Phases: []diagram.Phase{{wire.PhaseLoading, 0.2, 87.3}, {wire.PhasePrompt, 87.3, 99.8}, {wire.PhaseGenerating, 99.8, 399.8}},
					Ticks: []float64{100, 110, 130, 160, 200, 250, 251, 252, 400}},
				{Label: "3 demo/nope", Slot: 2},
				{Label: "4 demo/flood", Slot: 3, Phases: []diagram.Phase{{wire.PhaseGenerating, 0.4, 5}}, Ticks: []float64{2, 4}},
			},
		},
		{
			"sync", diagram.GroupOf(demoRun(wire.ModeSync), ""), "", 5001,
			[]diagram.Lane{
				{Label: "1 demo/hello", Slot: 0, Phases: []diagram.Phase{{wire.PhaseGenerating, 0.2, 2000.5}}, Ticks: []float64{1000.2, 2000.3}},
				{Label: "2 demo/hamlet", Slot: 1, Phases: []diagram.Phase{{wire.PhaseWaiting, 0.2, 2000.6}, {wire.PhaseGenerating, 2000.6, 5001}},
					Ticks: demoRunTicks(2000.6)},
			},
		},
		{
			"panes' slots", diagram.GroupOfSlots(demoRun(wire.ModeAsync), "x", []int{4}), "x", 3000.6,
			[]diagram.Lane{
				{Label: "5 demo/hello", Slot: 4, Phases: []diagram.Phase{{wire.PhaseGenerating, 0.2, 2000.5}}, Ticks: []float64{1000.2, 2000.3}},
				{Label: "2 demo/hamlet", Slot: 1, Phases: []diagram.Phase{{wire.PhaseGenerating, 0.2, 3000.6}}, Ticks: demoRunTicks(0.2)},
			},
		},
		{
			// No wall time, no end for the first stream: its phases last
			// until the run's latest event; a token starts generating.
			"unfinished", diagram.GroupOf(unfinished, ""), "", 100,
			[]diagram.Lane{
				{Label: "1 demo/echo", Slot: 0, Phases: []diagram.Phase{{wire.PhasePrompt, 1, 50}, {wire.PhaseGenerating, 50, 100}}, Ticks: []float64{50, 70}},
				{Label: "2 demo/flood", Slot: 1, Phases: []diagram.Phase{{wire.PhaseGenerating, 1, 100}}, Ticks: []float64{90}},
			},
		},
		{
			"thinking", diagram.GroupOf(thinker, ""), "", 600,
			[]diagram.Lane{{Label: "1 demo/think", Slot: 0, Phases: []diagram.Phase{{wire.PhaseThinking, 0.3, 400}, {wire.PhaseGenerating, 400, 600}},
				Ticks: []float64{400}, Thinks: []float64{100, 150}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Title != tt.title || tt.got.WallMs != tt.wall {
				t.Errorf("title %q wall %v, want %q %v", tt.got.Title, tt.got.WallMs, tt.title, tt.wall)
			}
			if !reflect.DeepEqual(tt.got.Lanes, tt.lanes) {
				t.Errorf("lanes\n%+v\nwant\n%+v", tt.got.Lanes, tt.lanes)
			}
		})
	}
}

// demoRunTicks are the times of demoRun's hamlet tokens when it starts at
// start.
func demoRunTicks(start float64) []float64 {
	var ts []float64
	for i := range hamlet {
		ts = append(ts, start+3000*float64(i+1)/float64(len(hamlet)))
	}
	return ts
}

// TestOfComparison heads the sync run and the async run with their wall
// times and marks what async saved, from the async wall time to the sync
// one; a run alone is headed by its mode.
func TestOfComparison(t *testing.T) {
	d := compareDiagram()
	if len(d.Groups) != 2 || d.Groups[0].Title != "sync: 5.00 s" || d.Groups[1].Title != "async: 3.00 s" {
		t.Fatalf("groups %q", []string{d.Groups[0].Title, d.Groups[1].Title})
	}
	want := []diagram.Span{{FromMs: 3000.6, ToMs: 5001, Label: "async saved 2.00 s (40%)"}}
	if !reflect.DeepEqual(d.Spans, want) {
		t.Errorf("spans %+v, want %+v", d.Spans, want)
	}
	// Async no faster: nothing is marked.
	if d := diagram.OfComparison(demoRun(wire.ModeAsync), demoRun(wire.ModeAsync), nil); len(d.Spans) != 0 {
		t.Errorf("spans %+v of runs as long", d.Spans)
	}
	one := diagram.OfRun(demoRun(wire.ModeSync), []int{2, 3})
	if len(one.Groups) != 1 || one.Groups[0].Title != "sync: 5.00 s" || !strings.HasPrefix(one.Title, "sync run: 5.00 s wall time") ||
		one.Groups[0].Lanes[1].Label != "4 demo/hamlet" {
		t.Errorf("one run: %q, %+v", one.Title, one.Groups)
	}
}

// TestPNG decodes the picture at the sizes asked, on the background asked.
func TestPNG(t *testing.T) {
	for _, tt := range []struct {
		w, h int
		dark bool
		bg   color.NRGBA
	}{
		{320, 200, false, color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{1200, 500, false, color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{1200, 500, true, color.NRGBA{0x17, 0x17, 0x18, 0xff}},
		{4000, 3000, true, color.NRGBA{0x17, 0x17, 0x18, 0xff}},
	} {
		t.Run(fmt.Sprintf("%dx%d dark %v", tt.w, tt.h, tt.dark), func(t *testing.T) {
			d := compareDiagram()
			d.Dark = tt.dark
			img := decodedPNG(t, d, tt.w, tt.h)
			if c := color.NRGBAModel.Convert(img.At(tt.w-1, tt.h-1)); c != tt.bg {
				t.Errorf("background %v, want %v", c, tt.bg)
			}
			// Something is drawn in the lanes' colours: the first lane's
			// name at least.
			slot := palette.OnBackground(palette.Of(0).RGB, tt.bg)
			if !hasColour(img, slot) {
				t.Errorf("no pixel in slot 0's colour %v", slot)
			}
		})
	}
}

// hasColour reports whether some pixel of img is c.
func hasColour(img image.Image, c color.NRGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)) == c {
				return true
			}
		}
	}
	return false
}

var hexColour = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// TestSVG checks the document of a comparison: well-formed, of the
// viewBox asked, with the title, both runs' headings, every lane's name in
// its colour, the saved time and every legend word as text, colours in hex.
func TestSVG(t *testing.T) {
	for _, dark := range []bool{false, true} {
		t.Run(fmt.Sprintf("dark %v", dark), func(t *testing.T) {
			d := compareDiagram()
			d.Dark = dark
			svg, _ := render(t, d, 1200, 500)
			if got := svg.attrs["viewBox"]; got != "0 0 1200 500" {
				t.Errorf("viewBox %q", got)
			}
			if svg.attrs["width"] != "1200" || svg.attrs["height"] != "500" {
				t.Errorf("size %s×%s", svg.attrs["width"], svg.attrs["height"])
			}
			for class, want := range map[string][]string{
				"title":      {d.Title},
				"heading":    {"sync: 5.00 s", "async: 3.00 s"},
				"label":      {"1 demo/hello", "2 demo/hamlet", "1 demo/hello", "2 demo/hamlet"},
				"span-label": {"async saved 2.00 s (40%)"},
				"legend":     legendWords,
			} {
				if got := svg.texts(class); !slices.Equal(got, want) {
					t.Errorf("%s texts %q, want %q", class, got, want)
				}
			}
			bg := coloursOf(dark)
			for _, e := range svg.find("text", "label") {
				slot := 0
				if strings.HasPrefix(e.text, "2 ") {
					slot = 1
				}
				if want := hexOf(palette.OnBackground(palette.Of(slot).RGB, bg)); e.attrs["fill"] != want {
					t.Errorf("%s in %s, want %s", e.text, e.attrs["fill"], want)
				}
			}
			for _, e := range svg.all() {
				for _, a := range []string{"fill", "stroke"} {
					if v, ok := e.attrs[a]; ok && v != "none" && !strings.HasPrefix(v, "url(#") && !hexColour.MatchString(v) {
						t.Errorf("%s %s=%q", e.name, a, v)
					}
				}
			}
			for _, word := range []string{"waiting", "queued", "thinking"} {
				if len(svg.find("rect", word)) == 0 {
					t.Errorf("no swatch of %s", word)
				}
			}
		})
	}
}

// coloursOf is a picture's background.
func coloursOf(dark bool) color.NRGBA {
	if dark {
		return color.NRGBA{0x17, 0x17, 0x18, 0xff}
	}
	return color.NRGBA{0xff, 0xff, 0xff, 0xff}
}

func hexOf(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// axisMap reads the axis's labels ("1.5 s", centred on their time): the x
// of run time ms is x0 + ms*perMs. It fails the test unless every label
// sits on that line.
func axisMap(t *testing.T, svg *node) (x0, perMs float64) {
	t.Helper()
	var ms, xs []float64
	for _, e := range svg.find("text", "axis") {
		s, ok := strings.CutSuffix(e.text, " s")
		v, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || e.attrs["text-anchor"] != "middle" {
			t.Fatalf("axis label %q anchored %q", e.text, e.attrs["text-anchor"])
		}
		ms, xs = append(ms, v*1000), append(xs, e.num(t, "x"))
	}
	if len(ms) < 3 || ms[0] != 0 {
		t.Fatalf("axis labels at %v ms", ms)
	}
	n := len(ms) - 1
	x0, perMs = xs[0], (xs[n]-xs[0])/ms[n]
	for i := range ms {
		if math.Abs(x0+ms[i]*perMs-xs[i]) > 0.02 {
			t.Errorf("axis label %v ms at x %v, not on the axis's line (%v)", ms[i], xs[i], x0+ms[i]*perMs)
		}
	}
	return x0, perMs
}

// TestPhasePlaces: a lane's phases and ticks are where their times put
// them on the axis (to a pixel): every phase of a stream that goes
// through all of them, and the waiting of a sync run.
func TestPhasePlaces(t *testing.T) {
	type span struct {
		phase    string
		from, to float64
	}
	for _, tt := range []struct {
		name   string
		d      diagram.Diagram
		w, h   int
		lane   string
		phases []span
		ticks  []float64
	}{
		{
			"every phase", diagram.Diagram{Groups: []diagram.Group{diagram.GroupOf(everyPhaseRun(), "")}}, 1200, 500, "2 qwen3:0.6b",
			[]span{{"queued", 0, 1200}, {"loading", 1200, 1500}, {"prompt", 1500, 1600}, {"thinking", 1600, 2500}, {"generating", 2500, 4000}},
			[]float64{2550, 3050, 3950},
		},
		{
			"every phase, small", diagram.Diagram{Groups: []diagram.Group{diagram.GroupOf(everyPhaseRun(), "")}}, 400, 240, "2 qwen3:0.6b",
			[]span{{"queued", 0, 1200}, {"loading", 1200, 1500}, {"thinking", 1600, 2500}, {"generating", 2500, 4000}},
			nil,
		},
		{
			"sync", diagram.OfRun(demoRun(wire.ModeSync), nil), 1600, 900, "2 demo/hamlet",
			[]span{{"waiting", 0.2, 2000.6}, {"generating", 2000.6, 5001}},
			demoRunTicks(2000.6)[:12], // the last falls on the axis's end
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svg, _ := render(t, tt.d, tt.w, tt.h)
			x0, perMs := axisMap(t, svg)
			at := func(ms float64) float64 { return x0 + ms*perMs }
			lane := lanes(svg)[tt.lane]
			if lane == nil {
				t.Fatalf("no lane %q among %v", tt.lane, svg.texts("label"))
			}
			for _, want := range tt.phases {
				rects := lane.find("rect", want.phase)
				if len(rects) != 1 {
					t.Errorf("%d rects of %s", len(rects), want.phase)
					continue
				}
				x, w := rects[0].num(t, "x"), rects[0].num(t, "width")
				if math.Abs(x-at(want.from)) > 1 || math.Abs(x+w-at(want.to)) > 1 {
					t.Errorf("%s from x %v to %v, want %v to %v", want.phase, x, x+w, at(want.from), at(want.to))
				}
			}
			paths := lane.find("path", "answer")
			if len(tt.ticks) > 0 && len(paths) != 1 {
				t.Fatalf("%d paths of answer ticks", len(paths))
			}
			for _, ms := range tt.ticks {
				xs := tickXs(t, paths[0])
				if !slices.ContainsFunc(xs, func(x float64) bool { return math.Abs(x-at(ms)) <= 1.5 }) {
					t.Errorf("no tick at %v ms (x %v) among %v", ms, at(ms), xs)
				}
			}
		})
	}
}

// tickXs are the x of a ticks path's strokes ("M x y0 V y1", repeated).
func tickXs(t *testing.T, path *node) []float64 {
	t.Helper()
	var xs []float64
	for _, seg := range strings.Split(path.attrs["d"], "M")[1:] {
		x, _, ok := strings.Cut(seg, " ")
		v, err := strconv.ParseFloat(x, 64)
		if !ok || err != nil {
			t.Fatalf("tick %q", seg)
		}
		xs = append(xs, v)
	}
	return xs
}

// TestHostileText: names and titles with markup and quotes are escaped in
// the SVG and come back whole; a line break in a name becomes a space.
func TestHostileText(t *testing.T) {
	const hostile = `<b>&"x`
	d := diagram.Diagram{
		Title: hostile + " title",
		Groups: []diagram.Group{{Title: hostile + " run", WallMs: 1000, Lanes: []diagram.Lane{
			{Label: hostile, Phases: []diagram.Phase{{Name: `gen"erating`, StartMs: 0, EndMs: 1000}}, Ticks: []float64{500}},
			{Label: "two\nlines", Slot: 1},
		}}},
		Spans: []diagram.Span{{FromMs: 500, ToMs: 1000, Label: hostile + " span"}},
	}
	svg, raw := render(t, d, 800, 400)
	if bytes.Contains(raw, []byte("<b>")) || bytes.Contains(raw, []byte(`&"`)) {
		t.Errorf("the SVG holds the markup unescaped:\n%s", raw)
	}
	for class, want := range map[string][]string{
		"title": {hostile + " title"}, "heading": {hostile + " run"}, "label": {hostile, "two lines"}, "span-label": {hostile + " span"},
	} {
		if got := svg.texts(class); !slices.Equal(got, want) {
			t.Errorf("%s texts %q, want %q", class, got, want)
		}
	}
}

// TestLabelsApart: however many lanes share the height, the lanes' names
// never overlap and stay inside the picture; at 320×200 eight lanes all
// have their names.
func TestLabelsApart(t *testing.T) {
	twoGroups := manyLanes(8, 30)
	twoGroups.Groups = append(twoGroups.Groups, twoGroups.Groups[0])
	for _, tt := range []struct {
		name    string
		d       diagram.Diagram
		w, h    int
		atLeast int
	}{
		{"8 lanes at 320×200", manyLanes(8, 30), 320, 200, 8},
		{"8 lanes at 1200×500", manyLanes(8, 30), 1200, 500, 8},
		{"2 runs of 8 lanes at 320×200", twoGroups, 320, 200, 8},
		{"30 lanes at 320×200", manyLanes(30, 3), 320, 200, 8},
		{"60 lanes at 1200×500", manyLanes(60, 3), 1200, 500, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svg, _ := render(t, tt.d, tt.w, tt.h)
			labels := svg.find("text", "label")
			if len(labels) < tt.atLeast {
				t.Errorf("%d lane names, want at least %d", len(labels), tt.atLeast)
			}
			type extent struct{ top, bottom float64 }
			var ys []extent
			for _, e := range labels {
				y, size := e.num(t, "y"), e.num(t, "font-size")
				if size < 6 {
					t.Errorf("%q at %v px", e.text, size)
				}
				// The Go fonts reach 0.91 of their size above the
				// baseline and 0.21 below: these bounds are wider.
				ys = append(ys, extent{y - 0.95*size, y + 0.25*size})
			}
			slices.SortFunc(ys, func(a, b extent) int { return cmp.Compare(a.top, b.top) })
			for i, e := range ys {
				if e.top < 0 || e.bottom > float64(tt.h) {
					t.Errorf("name %d from y %v to %v, outside the picture", i, e.top, e.bottom)
				}
				if i > 0 && e.top < ys[i-1].bottom {
					t.Errorf("names %d and %d overlap: %v and %v", i-1, i, ys[i-1], e)
				}
			}
		})
	}
}

// TestLongLabel: a name too wide for its column is cut with an ellipsis,
// and the plot keeps most of the width.
func TestLongLabel(t *testing.T) {
	d := manyLanes(2, 3)
	long := "2 " + strings.Repeat("very-long-model-name/", 10) + "latest"
	d.Groups[0].Lanes[1].Label = long
	svg, _ := render(t, d, 800, 300)
	got := svg.texts("label")
	if len(got) != 2 || got[0] != "1 demo/flood" || !strings.HasSuffix(got[1], "…") || !strings.HasPrefix(long, strings.TrimSuffix(got[1], "…")) {
		t.Errorf("names %q", got)
	}
	if x0, _ := axisMap(t, svg); x0 > 0.31*800 {
		t.Errorf("the plot starts at x %v", x0)
	}
}

// TestDense: 8 lanes of 20,000 tokens draw at most a tick per pixel column
// each, so that the SVG stays small.
func TestDense(t *testing.T) {
	svg, raw := render(t, manyLanes(8, 20000), 1600, 900)
	const bound = 2 << 20
	if len(raw) > bound {
		t.Errorf("the SVG has %d bytes, more than %d", len(raw), bound)
	}
	paths := svg.find("path", "ticks")
	if len(paths) != 8 {
		t.Fatalf("%d tick paths", len(paths))
	}
	for _, p := range paths {
		xs := tickXs(t, p)
		if len(xs) < 1000 || len(xs) > 1600 {
			t.Errorf("%d ticks in a lane of 20,000 tokens 1600 px wide", len(xs))
		}
		if !slices.IsSorted(xs) || len(slices.Compact(slices.Clone(xs))) != len(xs) {
			t.Error("two ticks in one pixel column")
		}
	}
	t.Logf("SVG of 8 lanes × 20,000 tokens at 1600×900: %d bytes", len(raw))
}

// TestSizes: SVG and PNG refuse sizes out of range; Image draws any size,
// however small, as asked.
func TestSizes(t *testing.T) {
	d := compareDiagram()
	for _, s := range [][2]int{{diagram.MinWidth - 1, 200}, {320, diagram.MinHeight - 1}, {diagram.MaxWidth + 1, 600}, {0, 0}} {
		if err := d.SVG(io.Discard, s[0], s[1]); err == nil {
			t.Errorf("SVG at %v: no error", s)
		}
		if err := d.PNG(io.Discard, s[0], s[1]); err == nil {
			t.Errorf("PNG at %v: no error", s)
		}
	}
	for _, s := range [][2]int{{1, 1}, {40, 30}, {160, 100}, {300, 2000}} {
		if b := d.Image(s[0], s[1]).Bounds(); b.Dx() != s[0] || b.Dy() != s[1] {
			t.Errorf("image %v, want %v", b, s)
		}
	}
	if b := (diagram.Diagram{}).Image(320, 200).Bounds(); b.Dx() != 320 {
		t.Errorf("empty diagram: %v", b)
	}
	if err := (diagram.Diagram{}).SVG(io.Discard, 320, 200); err != nil {
		t.Errorf("empty diagram: %v", err)
	}
}

// TestSave writes a picture, a timeline or a chart, as SVG or PNG by the
// file's extension (in any case) and refuses others, making no file.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	for name, p := range map[string]diagram.Picture{"timeline": compareDiagram(), "chart": waitingChart()} {
		t.Run(name, func(t *testing.T) {
			svgPath, pngPath := filepath.Join(dir, name+".SVG"), filepath.Join(dir, name+".png")
			if err := diagram.Save(p, svgPath, 640, 360); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(svgPath)
			if err != nil {
				t.Fatal(err)
			}
			parseSVG(t, b)
			if err := diagram.Save(p, pngPath, 640, 360); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(pngPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != 640 || cfg.Height != 360 {
				t.Errorf("PNG %+v, %v", cfg, err)
			}
			for _, bad := range []string{".pdf", "", ".svg.txt"} {
				path := filepath.Join(dir, name+bad)
				if err := diagram.Save(p, path, 640, 360); err == nil || !strings.Contains(err.Error(), ".svg or .png") {
					t.Errorf("%s: %v", path, err)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("a refused file was made: %v", err)
				}
			}
		})
	}
}

// TestGolden compares SVGs with the files under testdata/ (go test
// -update rewrites them): a change in the picture is seen in review.
func TestGolden(t *testing.T) {
	every := diagram.Diagram{Title: "Every phase", Dark: true, Groups: []diagram.Group{diagram.GroupOf(everyPhaseRun(), "async: 4.00 s")}}
	for name, d := range map[string]diagram.Diagram{"compare.svg": compareDiagram(), "phases-dark.svg": every} {
		t.Run(name, func(t *testing.T) {
			goldenSVG(t, d, name, 1200, 500)
		})
	}
}

// TestRealRun draws runs of the real server on a fake clock: demo/hello
// and demo/hamlet, in sync mode (exactly 5 s) and then in async mode (3 s).
// With -sample-dir it writes the pictures there.
func TestRealRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + ln.Addr().String() // no Ollama: the demos need none
	ln.Close()
	clock := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	emb, err := embedded.Start(server.Config{OllamaURL: nowhere, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	// The clock plays each run as it comes; one starts once the other has
	// ended.
	clock.PlayDuring(t, emb.Server)
	ctx := t.Context()
	runs := make([]*wire.Transcript, 2)
	for i, mode := range []string{wire.ModeSync, wire.ModeAsync} {
		if runs[i], err = record(ctx, emb.Client, mode); err != nil {
			t.Fatal(err)
		}
	}
	d := diagram.OfComparison(runs[0], runs[1], nil)
	if len(d.Groups) != 2 || len(d.Spans) != 1 {
		t.Fatalf("groups %d, spans %+v", len(d.Groups), d.Spans)
	}
	if s := d.Spans[0]; s.FromMs != 3000 || s.ToMs != 5000 || s.Label != "async saved 2.00 s (40%)" {
		t.Errorf("span %+v", s)
	}
	for _, g := range d.Groups {
		if len(g.Lanes) != 2 || len(g.Lanes[0].Ticks) != 2 || len(g.Lanes[1].Ticks) != len(hamlet) {
			t.Errorf("%s: lanes %+v", g.Title, g.Lanes)
		}
	}
	if ph := d.Groups[0].Lanes[1].Phases; len(ph) == 0 || ph[0].Name != wire.PhaseWaiting || ph[0].StartMs != 0 || ph[0].EndMs != 2000 {
		t.Errorf("sync hamlet's phases %+v", ph)
	}
	svg, _ := render(t, d, 1200, 500)
	if got := svg.texts("label"); len(got) != 4 || got[0] != "1 demo/hello" || got[1] != "2 demo/hamlet" {
		t.Errorf("names %q", got)
	}
	if *sampleDir != "" {
		for _, dark := range []bool{false, true} {
			d.Dark = dark
			name := "diagram-sample"
			if dark {
				name += "-dark"
			}
			for _, ext := range []string{".png", ".svg"} {
				if err := diagram.Save(d, filepath.Join(*sampleDir, name+ext), 1200, 500); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// record runs demo/hello and demo/hamlet in mode and returns the finished
// run's transcript.
func record(ctx context.Context, cl *client.Client, mode string) (*wire.Transcript, error) {
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Mode: mode,
		Streams: []wire.StreamSpec{{Model: wire.DemoHello}, {Model: wire.DemoHamlet}}})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(run.Streams))
	for i, s := range run.Streams {
		ids[i] = s.ID
	}
	events, err := cl.SubscribeAll(ctx, ids)
	if err != nil {
		return nil, err
	}
	for range events {
	}
	tr, err := cl.Run(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	if !tr.Finished {
		return nil, fmt.Errorf("run %s (%s) not finished", run.ID, mode)
	}
	return tr, nil
}

// BenchmarkDense draws 8 lanes of 20,000 tokens at 1600×900.
func BenchmarkDense(b *testing.B) {
	d := manyLanes(8, 20000)
	b.Run("SVG", func(b *testing.B) {
		for b.Loop() {
			if err := d.SVG(io.Discard, 1600, 900); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Image", func(b *testing.B) {
		for b.Loop() {
			d.Image(1600, 900)
		}
	})
	b.Run("PNG", func(b *testing.B) {
		for b.Loop() {
			if err := d.PNG(io.Discard, 1600, 900); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// decodedPNG writes p as a PNG of w×h pixels and decodes it, failing
// unless it is of that size.
func decodedPNG(t *testing.T, p diagram.Picture, w, h int) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := p.PNG(&buf, w, h); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("size %v, want %dx%d", b.Size(), w, h)
	}
	return img
}

// goldenSVG compares p as an SVG of w×h pixels with testdata/name (go test
// -update rewrites it).
func goldenSVG(t *testing.T, p diagram.Picture, name string, w, h int) {
	t.Helper()
	var buf bytes.Buffer
	if err := p.SVG(&buf, w, h); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from %s (go test -update rewrites it)", name, path)
	}
}
