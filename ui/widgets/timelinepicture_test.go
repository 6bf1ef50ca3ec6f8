package widgets

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
)

// shadedRun is a finished run of three streams that between them go
// through every phase, each phase long enough to show its shading: one
// loads, reads the prompt, thinks and answers; one is queued behind it,
// then reads and answers; one waits, loads, reads and answers.
func shadedRun() *wire.Transcript {
	think := func(ms float64, text string) transcripttest.Event {
		return transcripttest.Event{Type: wire.EventThinking, Data: wire.EventData{Text: text, TMs: ms}}
	}
	tokens := func(from, to, every float64) []transcripttest.Event {
		var out []transcripttest.Event
		for ms := from; ms < to; ms += every {
			out = append(out, transcripttest.Token(ms, " tok"))
		}
		return out
	}
	stream := func(i int, end float64, evs ...transcripttest.Event) wire.StreamTranscript {
		return transcripttest.Stream(i, fmt.Sprintf("demo/s%d", i), 0, nil, append(evs, transcripttest.Done(end, wire.ReasonStop))...)
	}
	return &wire.Transcript{
		ID: "r_000000000001", Mode: wire.ModeAsync, Prompt: "shades", Finished: true, WallMs: 3900,
		Streams: []wire.StreamTranscript{
			stream(0, 3200, slices.Concat([]transcripttest.Event{
				transcripttest.Phase(0, wire.PhaseLoading), transcripttest.Phase(600, wire.PhasePrompt),
				transcripttest.Phase(1000, wire.PhaseThinking), think(1100, "Hmm"), think(1300, " so"), think(1500, " then"),
				transcripttest.Phase(1800, wire.PhaseGenerating),
			}, tokens(1900, 3200, 150))...),
			stream(1, 3600, slices.Concat([]transcripttest.Event{
				transcripttest.Phase(0, wire.PhaseQueued), transcripttest.Phase(1500, wire.PhasePrompt),
				transcripttest.Phase(1900, wire.PhaseGenerating),
			}, tokens(2000, 3600, 150))...),
			stream(2, 3900, slices.Concat([]transcripttest.Event{
				transcripttest.Phase(0, wire.PhaseWaiting), transcripttest.Phase(700, wire.PhaseLoading),
				transcripttest.Phase(1300, wire.PhasePrompt), transcripttest.Phase(1800, wire.PhaseGenerating),
			}, tokens(1900, 3900, 150))...),
		},
	}
}

// shade is what a phase shows within a stretch of it: its ground (the
// commonest colour), and the marks of its pattern (the next commonest,
// where they are a pattern's share of the pixels: ticks and grid lines
// are fewer), opaque as they are on the screen.
type shade struct {
	phase        string
	ground, mark color.NRGBA
	marked       bool
}

// shadeIn reads the shade of phase from the pixels of r in img.
func shadeIn(img image.Image, r image.Rectangle, phase string) shade {
	count := map[color.NRGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			count[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	byCount := slices.SortedFunc(maps.Keys(count), func(a, b color.NRGBA) int {
		return cmp.Or(count[b]-count[a], cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)))
	})
	s := shade{phase: phase}
	if len(byCount) > 0 {
		s.ground = byCount[0]
	}
	if len(byCount) > 1 && count[byCount[1]]*100 >= 5*r.Dx()*r.Dy() {
		s.mark, s.marked = byCount[1], true
	}
	return s
}

// inside is r without margin pixels on every side: away from a phase's
// edges (and a lane's).
func inside(r image.Rectangle, margin int) image.Rectangle { return r.Inset(margin) }

// appShades are the shades of each lane's phases as the app's Timeline
// shows tr, on the app's theme held to variant v, in a window as Fyne
// paints it.
func appShades(t *testing.T, tr *wire.Transcript, v fyne.ThemeVariant) [][]shade {
	test.NewTempApp(t).Settings().SetTheme(variantTheme{NewTheme(), v})
	tl := NewTimeline()
	win := test.NewTempWindow(t, tl)
	win.Resize(fyne.NewSize(900, 300))
	labels := make([]string, len(tr.Streams))
	slots := make([]int, len(tr.Streams))
	for i, st := range tr.Streams {
		labels[i], slots[i] = st.Model, i
	}
	tl.Reset(labels, slots)
	evs, err := client.TranscriptEvents(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		tl.Add(ev.Index, ev.Event)
	}
	tl.Refresh()
	img := win.Canvas().Capture()
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(tl)
	if s := win.Canvas().Scale(); s != 1 {
		t.Fatalf("canvas scale %v: the spans below are in pixels at scale 1", s)
	}
	out := make([][]shade, tl.Lanes())
	laneH := tl.laneHeight()
	for i := range out {
		top, bottom := int(at.Y+float32(i)*laneH), int(at.Y+float32(i+1)*laneH)
		for _, p := range tl.Lane(i).Phases {
			r := image.Rect(int(at.X+tl.timeX(p.Start)), top, int(at.X+tl.timeX(p.End)), bottom)
			out[i] = append(out[i], shadeIn(img, inside(r, 4), p.Phase))
		}
	}
	return out
}

// pictureShades are the shades of each lane's phases in the picture of tr
// (its image, where its SVG, painted from the same layout, says each phase
// is).
func pictureShades(t *testing.T, tr *wire.Transcript, dark bool) [][]shade {
	d := diagram.OfRun(tr, nil)
	d.Dark = dark
	const w, h = 900, 360
	img := d.Image(w, h)
	var svg bytes.Buffer
	if err := d.SVG(&svg, w, h); err != nil {
		t.Fatal(err)
	}
	var out [][]shade
	dec := xml.NewDecoder(&svg)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch {
		case el.Name.Local == "g" && attr["class"] == "lane":
			out = append(out, nil)
		case el.Name.Local == "rect" && strings.HasPrefix(attr["class"], "phase ") && len(out) > 0:
			num := func(name string) int {
				v, err := strconv.ParseFloat(attr[name], 64)
				if err != nil {
					t.Fatalf("rect %v: %v", attr, err)
				}
				return int(v)
			}
			x, y := num("x"), num("y")
			r := image.Rect(x, y, x+num("width"), y+num("height"))
			last := len(out) - 1
			out[last] = append(out[last], shadeIn(img, inside(r, 4), strings.TrimPrefix(attr["class"], "phase ")))
		}
	}
	return out
}

// TestTimelineShadesAsItsPicture: a run of streams that go through every
// phase, drawn by the app's Timeline as a window shows it and by the
// picture of the run (diagram), on the dark and on the light theme, shows
// the same shade in each phase of each lane: the same ground, and the
// same pattern's marks where the phase has a pattern (queued, thinking),
// to the rounding of two ways of blending (a unit of 255).
func TestTimelineShadesAsItsPicture(t *testing.T) {
	tr := shadedRun()
	for _, tt := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"dark", theme.VariantDark}, {"light", theme.VariantLight}} {
		t.Run(tt.name, func(t *testing.T) {
			app, pic := appShades(t, tr, tt.v), pictureShades(t, tr, tt.v == theme.VariantDark)
			if len(app) != len(tr.Streams) || len(pic) != len(tr.Streams) {
				t.Fatalf("%d lanes in the app, %d in the picture, of %d streams", len(app), len(pic), len(tr.Streams))
			}
			for i := range app {
				if fmt.Sprint(phasesOf(app[i])) != fmt.Sprint(phasesOf(pic[i])) {
					t.Fatalf("lane %d: phases %v in the app, %v in the picture", i, phasesOf(app[i]), phasesOf(pic[i]))
				}
				for k, a := range app[i] {
					p := pic[i][k]
					if !near(a.ground, p.ground) {
						t.Errorf("lane %d, %s: ground %v in the app, %v in the picture", i, a.phase, a.ground, p.ground)
					}
					if a.marked != p.marked || a.marked && !near(a.mark, p.mark) {
						t.Errorf("lane %d, %s: marks %v (%v) in the app, %v (%v) in the picture", i, a.phase, a.marked, a.mark, p.marked, p.mark)
					}
					if want := a.phase == wire.PhaseQueued || a.phase == wire.PhaseThinking; a.marked != want {
						t.Errorf("lane %d, %s: marked %v, want %v", i, a.phase, a.marked, want)
					}
					// The shades tell the phases apart: equal shades would
					// agree whatever each side painted.
					if k > 0 && near(a.ground, app[i][k-1].ground) {
						t.Errorf("lane %d: %s shaded as the %s before it, %v", i, a.phase, app[i][k-1].phase, a.ground)
					}
				}
			}
		})
	}
}

// phasesOf names the phases of a lane's shades, in order.
func phasesOf(shades []shade) []string {
	out := make([]string, len(shades))
	for i, s := range shades {
		out[i] = s.phase
	}
	return out
}

// near reports whether a and b are the same colour to a unit of 255 in
// each channel.
func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return max(x, y)-min(x, y) <= 1 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}
