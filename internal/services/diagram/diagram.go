// Package diagram draws runs' timelines as pictures for slides and notes:
// one run, or several stacked on one time axis (a sync run above the async
// run of the same streams). A picture has a title, per run a heading above
// its lanes, per stream a lane named in its colour with its phases shaded
// as the app shades them and a tick per token, one seconds axis shared by
// all runs, marked spans of the axis (the time async saved) and a legend.
//
// It writes SVG and PNG (or an image for the screen) without Fyne, so that
// the desktop app and the terminal client draw the same picture. Text is
// set in the Go fonts (golang.org/x/image/font/gofont), measured the same
// way for both formats; an SVG names them first and gives each text its
// measured width, so that a viewer without them fits its own sans-serif
// to the same room.
//
// It also draws line charts (Chart), such as a concurrency sweep's tokens
// per second against the number of streams run at once, on the same
// canvases, in the same fonts and colours.
//
// Files: diagram.go the model and its making from transcripts; layout.go
// where things go; paint.go what is drawn, in order, on a canvas;
// svg.go and raster.go the two canvases; text.go the fonts; shade.go the
// colours and the phases' shading; chart.go the line chart, its layout
// and its painting.
package diagram

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Phase is a stretch of one phase in a lane.
type Phase struct {
	// Name is a wire phase: wire.PhaseWaiting, PhaseQueued, PhaseLoading,
	// PhasePrompt, PhaseThinking or PhaseGenerating. Others are shaded as
	// generating.
	Name string
	// StartMs and EndMs are its start and end in run time (t_ms).
	StartMs, EndMs float64
}

// Lane is one stream of a run.
type Lane struct {
	// Label names the lane at its left, in its colour; one too wide for
	// the column of names is cut with an ellipsis.
	Label string
	// Slot is the stream's colour slot (palette.Of).
	Slot int
	// Phases are its phases, in any order; they should not overlap.
	Phases []Phase
	// Ticks are the t_ms of its answer's tokens, Thinks those of its
	// reasoning's (thinking events), in any order.
	Ticks, Thinks []float64
}

// Group is one run: a heading and its lanes.
type Group struct {
	// Title is the heading above the lanes, such as "sync: 5.00 s".
	Title string
	// Lanes are the run's streams, top to bottom.
	Lanes []Lane
	// WallMs is the run's wall time, marked across its lanes; 0 draws no
	// mark.
	WallMs float64
}

// Span is a marked stretch of the time axis, such as the time async saved:
// a band across the lanes and a bracket under the axis with its label.
type Span struct {
	FromMs, ToMs float64
	Label        string
}

// Diagram is a picture of one run or of several on one time axis.
type Diagram struct {
	// Title is the line at the top; empty leaves it out.
	Title string
	// Groups are the runs, top to bottom.
	Groups []Group
	// Spans are marked on the axis, each on a row of its own.
	Spans []Span
	// Dark draws on a dark background; the default is a light one.
	Dark bool
	// TextSize, if set, is the size of the body text in pixels, as on a
	// screen whose text has one size at every window size; unset, text
	// grows with the picture, as on a slide. Either way it shrinks where
	// the lanes would get too little of the height.
	TextSize float64
}

// The sizes a picture may be drawn at, in pixels. Between about 320×200
// and 4000×3000 every part has room; below that, text shrinks and lane
// names that would overlap are left out.
const (
	MinWidth, MinHeight = 160, 100
	MaxWidth, MaxHeight = 8000, 6000
)

// GroupOf makes the group of a run from its transcript, with the streams
// in their run order and each stream's slot its index: see GroupOfSlots.
func GroupOf(t *wire.Transcript, title string) Group {
	return GroupOfSlots(t, title, nil)
}

// GroupOfSlots makes the group of a run from its transcript. Stream i is
// in colour slot slots[i] (its index where slots is shorter: the app
// colours a stream by its pane's slot) and is named "N model", N being the
// slot plus one (the pane's number) and model the stream's Label if set.
// A finished stream's phases are its stats' (exact where the server gave
// its clock); a stream without them has the phases of its events: each
// lasts until the next phase event or the terminal event (an open one, in
// an unfinished run, until the run's latest event), and a token out of
// the generating phase starts it, as the app's timeline does.
// WallMs is the transcript's, or its latest event's time. Events whose data
// does not decode are left out.
func GroupOfSlots(t *wire.Transcript, title string, slots []int) Group {
	g := Group{Title: title}
	if t == nil {
		return g
	}
	latest := 0.0
	lanes := make([]Lane, len(t.Streams))
	open := make([]bool, len(t.Streams)) // the lane's last phase is still open
	for i, st := range t.Streams {
		slot := i
		if i < len(slots) {
			slot = slots[i]
		}
		name := endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String() // as tokenloom run -m names it
		if st.Label != "" {
			name = st.Label
		}
		l := Lane{Label: strconv.Itoa(slot+1) + " " + name, Slot: slot}
		closePhase := func(at float64) {
			if n := len(l.Phases); n > 0 && open[i] {
				l.Phases[n-1].EndMs = at
				open[i] = false
			}
		}
		startPhase := func(name string, at float64) {
			closePhase(at)
			l.Phases = append(l.Phases, Phase{Name: name, StartMs: at})
			open[i] = true
		}
		for _, ev := range st.Events {
			var d wire.EventData
			if err := json.Unmarshal(ev.Data, &d); err != nil || !finite(d.TMs) {
				continue
			}
			latest = max(latest, d.TMs)
			switch ev.Event {
			case wire.EventPhase:
				startPhase(d.Phase, d.TMs)
			case wire.EventThinking:
				l.Thinks = append(l.Thinks, d.TMs)
			case wire.EventToken:
				if n := len(l.Phases); n == 0 || !open[i] || l.Phases[n-1].Name != wire.PhaseGenerating {
					startPhase(wire.PhaseGenerating, d.TMs)
				}
				l.Ticks = append(l.Ticks, d.TMs)
			case wire.EventDone, wire.EventError:
				closePhase(d.TMs)
			}
		}
		if exact := exactPhases(st.Stats); exact != nil {
			l.Phases, open[i] = exact, false
		}
		lanes[i] = l
	}
	for i := range lanes {
		if n := len(lanes[i].Phases); n > 0 && open[i] {
			lanes[i].Phases[n-1].EndMs = max(latest, lanes[i].Phases[n-1].StartMs)
		}
	}
	g.Lanes = lanes
	g.WallMs = latest
	if t.WallMs > 0 {
		g.WallMs = t.WallMs
	}
	return g
}

// exactPhases are the phases of a finished stream's stats, nil for none.
func exactPhases(st *wire.Stats) []Phase {
	if st == nil || len(st.Phases) == 0 {
		return nil
	}
	out := make([]Phase, 0, len(st.Phases))
	for _, p := range st.Phases {
		if finite(p.StartMs) && finite(p.EndMs) {
			out = append(out, Phase{Name: p.Phase, StartMs: p.StartMs, EndMs: p.EndMs})
		}
	}
	return out
}

// OfRun is the picture of one run, its streams in slots (see
// GroupOfSlots): titled by its headline (figures.RunTime.Headline),
// headed by its mode and wall time ("async: 3.00 s").
func OfRun(t *wire.Transcript, slots []int) Diagram {
	rt := figures.RunTimeOf(figures.OutcomesOf(t))
	return Diagram{Title: rt.Headline(t.Mode), Groups: []Group{GroupOfSlots(t, t.Mode+": "+rt.Wall(), slots)}}
}

// OfComparison is the picture of the same streams run one after another
// (sync) above them run side by side (async), on one time axis, each
// headed by its wall time ("sync: 5.00 s"), with the time async saved
// marked from the async run's wall time to the sync run's
// (figures.Comparison.Saved) when it saved any.
func OfComparison(sync, async *wire.Transcript, slots []int) Diagram {
	c := figures.Compare(figures.OutcomesOf(sync), figures.OutcomesOf(async))
	d := Diagram{
		Title: "The same streams one after another (sync) and side by side (async)",
		Groups: []Group{
			GroupOfSlots(sync, "sync: "+c.Sync.Wall(), slots),
			GroupOfSlots(async, "async: "+c.Async.Wall(), slots),
		},
	}
	if c.AsyncSaved() {
		d.Spans = []Span{{FromMs: c.Async.WallMs, ToMs: c.Sync.WallMs, Label: c.Saved()}}
	}
	return d
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkSize refuses a size outside MinWidth×MinHeight to MaxWidth×MaxHeight.
func checkSize(width, height int) error {
	if width < MinWidth || width > MaxWidth || height < MinHeight || height > MaxHeight {
		return fmt.Errorf("diagram size %d×%d: want %d×%d to %d×%d pixels", width, height, MinWidth, MinHeight, MaxWidth, MaxHeight)
	}
	return nil
}

// SVG writes the picture as an SVG document of width×height pixels (its
// viewBox): text as text elements, colours in hex, a lane's ticks as one
// path with at most one tick per pixel column. It refuses a size outside
// MinWidth×MinHeight to MaxWidth×MaxHeight.
func (d Diagram) SVG(w io.Writer, width, height int) error { return writeSVG(d, w, width, height) }

// Image draws the picture at width×height pixels, opaque, for the screen
// or a file. Any size from 1×1 to MaxWidth×MaxHeight is drawn as asked
// (below MinWidth×MinHeight parts do not fit); one outside is brought
// within it.
func (d Diagram) Image(width, height int) *image.RGBA { return drawImage(d, width, height) }

// PNG writes the picture as a PNG image of width×height pixels. It refuses
// a size outside MinWidth×MinHeight to MaxWidth×MaxHeight.
func (d Diagram) PNG(w io.Writer, width, height int) error { return writePNG(d, w, width, height) }

// painted is a picture that its painter draws on a canvas: a Diagram or a
// Chart.
type painted interface {
	paint(c canvas, f *fonts, width, height int)
}

// writeSVG writes p as an SVG document of width×height pixels, refusing a
// size outside the range.
func writeSVG(p painted, w io.Writer, width, height int) error {
	if err := checkSize(width, height); err != nil {
		return err
	}
	f := newFonts()
	c := newSVGCanvas(f, width, height)
	p.paint(c, f, width, height)
	return c.writeTo(w)
}

// drawImage draws p at width×height pixels, brought within the range.
func drawImage(p painted, width, height int) *image.RGBA {
	width, height = min(max(width, 1), MaxWidth), min(max(height, 1), MaxHeight)
	f := newFonts()
	c := newRasterCanvas(f, width, height)
	p.paint(c, f, width, height)
	return c.img
}

// writePNG writes p as a PNG image of width×height pixels, refusing a
// size outside the range.
func writePNG(p painted, w io.Writer, width, height int) error {
	if err := checkSize(width, height); err != nil {
		return err
	}
	return png.Encode(w, drawImage(p, width, height))
}

// Save writes p (a Diagram or a Chart) to the file name at width×height
// pixels, as SVG or PNG by the name's extension (.svg or .png, in any
// case). It refuses another extension or a size outside
// MinWidth×MinHeight to MaxWidth×MaxHeight before making the file.
func Save(p Picture, name string, width, height int) (err error) {
	write := p.SVG
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".svg":
	case ".png":
		write = p.PNG
	default:
		return fmt.Errorf("diagram file %s: the name must end in .svg or .png", name)
	}
	if err := checkSize(width, height); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("diagram file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("diagram file: %w", cerr)
		}
	}()
	if err := write(f, width, height); err != nil {
		return fmt.Errorf("diagram file %s: %w", name, err)
	}
	return nil
}
