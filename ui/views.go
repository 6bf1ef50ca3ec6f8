package ui

import (
	"context"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// timelineHeading is the timeline's heading while it shows a run.
const timelineHeading = "Timeline: each token as it arrives, one lane per stream, on the run's clock"

// runViews are the views of the whole run, beside the panes: the
// interleaved text, the timeline, the wire and the stats.
type runViews struct {
	interleaved *widgets.TokenView
	timeline    *widgets.Timeline
	heading     *widget.Label // above the timeline
	legend      *widgets.TimelineLegend
	stats       *statsTable
	wire        *wireView
	compare     *compareView
	compareTab  *container.TabItem
	history     *historyView
	diff        *diffView
	sweep       *sweepView

	// slots are the colour slots of the current run's streams, in pane
	// order.
	slots []int
	// marks are what the stats need of each stream's events: kind and
	// time, 16 bytes an event (the server keeps the events themselves).
	marks [][]figures.Mark
	// run counts the runs shown, so that figures computed for an earlier
	// one are dropped.
	run int
	app *App
	// drawnAt is when the timeline was last redrawn.
	drawnAt time.Time
}

func newRunViews(a *App) *runViews {
	rv := &runViews{
		interleaved: widgets.NewTokenView(),
		timeline:    widgets.NewTimeline(),
		legend:      widgets.NewTimelineLegend(),
		heading:     widget.NewLabel(timelineHeading),
		stats:       newStatsTable(),
		app:         a,
	}
	rv.heading.TextStyle = fyne.TextStyle{Bold: true}
	rv.heading.Truncation = fyne.TextTruncateEllipsis
	rv.wire = newWireView(a)
	rv.compare = newCompareView(a)
	rv.history = newHistoryView(a)
	rv.diff = newDiffView(a)
	rv.sweep = newSweepView(a)
	return rv
}

// timelineBox is the timeline with its heading and legend.
func (rv *runViews) timelineBox() fyne.CanvasObject {
	save := rv.app.tips.NewButton(theme.DocumentSaveIcon(), "Save the timeline as a picture (SVG or PNG)", rv.app.saveTimelinePicture)
	return container.NewBorder(container.NewBorder(nil, nil, nil, container.NewHBox(rv.legend, save), rv.heading), nil, nil, nil, rv.timeline)
}

// reset prepares the views for a run of the given streams.
func (rv *runViews) reset(labels []string, slots []int, ids []string) {
	rv.slots = slots
	rv.marks = make([][]figures.Mark, len(ids))
	rv.run++
	rv.interleaved.Clear()
	rv.heading.SetText(timelineHeading) // a sweep's step may have had it
	rv.timeline.Reset(labels, slots)
	rv.stats.reset(labels)
	rv.wire.reset(labels, slots, ids)
}

// remove takes stream i of an ended run out of the views whose rows and
// lanes follow the panes: the timeline, the stats and the interleaved text.
// The wire keeps every stream of the run, as the server does.
func (rv *runViews) remove(i int) {
	if i < 0 || i >= len(rv.slots) {
		return
	}
	slot := rv.slots[i]
	rv.slots = slices.Delete(rv.slots, i, i+1)
	rv.marks = slices.Delete(rv.marks, i, i+1)
	rv.timeline.RemoveLane(i)
	rv.stats.remove(i)
	spans := slices.DeleteFunc(rv.interleaved.Spans(), func(s widgets.Span) bool { return s.Slot == slot })
	rv.interleaved.Clear()
	rv.interleaved.Append(spans...)
}

// apply takes a batch of events of the run in arrival order.
func (rv *runViews) apply(batch []client.IndexedEvent) {
	var spans []widgets.Span
	ended := false
	for _, ev := range batch {
		i := ev.Index
		rv.marks[i] = append(rv.marks[i], figures.MarkOfEvent(ev.Type, ev.Phase, ev.Reason, ev.TMs))
		rv.timeline.Add(i, ev.Event)
		switch ev.Type {
		case wire.EventToken:
			spans = append(spans, widgets.Span{Text: ev.Text, Slot: rv.slots[i]})
		case wire.EventThinking: // the reasoning, subdued
			spans = append(spans, widgets.Span{Text: ev.Text, Slot: rv.slots[i], Dim: true})
		}
		if ev.Terminal() {
			ended = true
			rv.figure(i, ev.Stats)
		}
	}
	rv.interleaved.Append(spans...)
	rv.redrawTimeline(ended)
}

// redrawTimeline redraws the timeline after events were added to it. It
// is one image drawn afresh each time: at most timelineEvery apart while
// tokens stream, at once when a stream has ended.
func (rv *runViews) redrawTimeline(ended bool) {
	if ended || time.Since(rv.drawnAt) >= timelineEvery {
		rv.timeline.Refresh()
		rv.drawnAt = time.Now()
	}
}

// timelineEvery is the least time between two redraws of the timeline
// while a run streams.
const timelineEvery = 200 * time.Millisecond

// figure computes the figures of stream i, which has ended, off the Fyne
// thread (a long stream has many events; other streams may still be
// streaming), and shows them in the stats table.
func (rv *runViews) figure(i int, stats *wire.Stats) {
	var recorded *wire.StreamTranscript
	if r := rv.app.replaying; r != nil && i < len(r.t.Streams) {
		recorded = &r.t.Streams[i] // a replay shows the figures as recorded
	}
	marks, run := rv.marks[i], rv.run // no more marks come for an ended stream
	slot := rv.slots[i]               // its row, while closed panes' rows go
	rv.app.background(func(context.Context, *client.Client) func() {
		f := figures.FromMarks(marks, stats)
		if recorded != nil {
			f = figures.FromTranscript(*recorded)
		}
		return func() {
			if j := slices.Index(rv.slots, slot); rv.run == run && j >= 0 {
				rv.stats.set(j, f)
			}
		}
	})
}
