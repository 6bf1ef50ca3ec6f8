package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/export"
	"github.com/tokenloom/tokenloom/internal/wire"
)

// runViews are the views of the whole run, beside the panes: the
// interleaved text, the timeline, the wire and the stats.
type runViews struct {
	interleaved *TokenView
	timeline    *Timeline
	summary     *widget.Label
	stats       *statsTable
	wire        *wireView

	// Per stream of the current run, in pane order.
	labels []string
	slots  []int
	ids    []string
	// marks are what the stats need of each stream's events: kind and
	// time, 16 bytes an event (the server keeps the events themselves).
	marks [][]export.Mark
	// arrivals are the stream indexes of the events in arrival order; with
	// the run's transcript they give the arrival order of the tokens (for
	// tests).
	arrivals []uint8
	// run counts the runs shown, so that figures computed for an earlier
	// one are dropped.
	run int
	app *App
	// drawnAt is when the timeline was last redrawn.
	drawnAt time.Time
}

func newRunViews(a *App) *runViews {
	rv := &runViews{
		interleaved: NewTokenView(),
		timeline:    NewTimeline(),
		summary:     widget.NewLabel("Run the streams to see their tokens arrive on a shared clock."),
		stats:       newStatsTable(),
		app:         a,
	}
	rv.summary.TextStyle = fyne.TextStyle{Bold: true}
	rv.summary.Truncation = fyne.TextTruncateEllipsis
	rv.wire = newWireView(a)
	return rv
}

// timelineBox is the timeline with its heading and legend.
func (rv *runViews) timelineBox() fyne.CanvasObject {
	legend := widget.NewLabel("ticks: tokens · shading: waiting (grey), loading, prompt, generating")
	legend.SizeName = theme.SizeNameCaptionText
	legend.Importance = widget.LowImportance
	return container.NewBorder(container.NewBorder(nil, nil, nil, legend, rv.summary), nil, nil, nil, rv.timeline)
}

// reset prepares the views for a run of the given streams.
func (rv *runViews) reset(labels []string, slots []int, ids []string) {
	rv.labels, rv.slots, rv.ids = labels, slots, ids
	rv.marks = make([][]export.Mark, len(ids))
	rv.run++
	rv.arrivals = rv.arrivals[:0]
	rv.interleaved.Clear()
	rv.timeline.Reset(labels, slots)
	rv.summary.SetText("running…")
	rv.stats.reset(labels, slots)
	rv.wire.reset(labels, slots, ids)
}

// apply takes a batch of events of the run in arrival order.
func (rv *runViews) apply(batch []client.IndexedEvent) {
	var runs []Run
	ended := false
	for _, ev := range batch {
		i := ev.Index
		rv.arrivals = append(rv.arrivals, uint8(i))
		rv.marks[i] = append(rv.marks[i], export.MarkOf(ev.Type, ev.Phase, ev.TMs))
		rv.timeline.Add(i, ev.Event)
		if ev.Type == client.EventToken {
			runs = append(runs, Run{Text: ev.Text, Slot: rv.slots[i]})
		}
		if ev.Terminal() {
			ended = true
			rv.figure(i, ev.Stats)
		}
	}
	rv.interleaved.Append(runs...)
	// The timeline is one image drawn afresh each time: at most
	// timelineEvery apart while tokens stream, at once when a stream ends.
	if ended || time.Since(rv.drawnAt) >= timelineEvery {
		rv.timeline.Refresh()
		rv.drawnAt = time.Now()
	}
}

// timelineEvery is the least time between two redraws of the timeline
// while a run streams.
const timelineEvery = 50 * time.Millisecond

// figure computes the figures of stream i, which has ended, off the Fyne
// thread (a long stream has many events; other streams may still be
// streaming), and shows them in the stats table.
func (rv *runViews) figure(i int, stats *client.Stats) {
	marks, run := rv.marks[i], rv.run // no more marks come for an ended stream
	rv.app.background(func(context.Context, *client.Client) func() {
		f := export.FiguresOf(marks, stats)
		return func() {
			if rv.run == run {
				rv.stats.set(i, f)
			}
		}
	})
}

// finish writes the run's lesson: wall time against the sum of the streams'
// durations.
func (rv *runViews) finish(mode string, stats []*client.Stats) string {
	var wall, sum float64
	for _, st := range stats {
		if st != nil {
			wall = max(wall, st.EndMs)
			sum += st.DurationMs
		}
	}
	line := fmt.Sprintf("%s run: %.2f s wall time for %.2f s of stream time", mode, wall/1000, sum/1000)
	if wall > 0 {
		line += fmt.Sprintf(" (%.2f×)", sum/wall)
	}
	rv.summary.SetText(line)
	return line
}

// InterleavedText is the interleaved view's text.
func (a *App) InterleavedText() string { return a.views.interleaved.Text() }

// arrivalTokens are the tokens of the run whose transcript is tr in the
// order they arrived, each in its stream's slot, for tests.
func (rv *runViews) arrivalTokens(tr *client.Transcript) []Run {
	var out []Run
	next := make([]int, len(tr.Streams))
	for _, i := range rv.arrivals {
		ev := tr.Streams[i].Events[next[i]]
		next[i]++
		if ev.Event == client.EventToken {
			var d wire.EventData
			if err := json.Unmarshal(ev.Data, &d); err == nil {
				out = append(out, Run{Text: d.Text, Slot: rv.slots[i]})
			}
		}
	}
	return out
}

// arrivalText joins the tokens in the order they arrived, for tests.
func (rv *runViews) arrivalText(tr *client.Transcript) string {
	var b strings.Builder
	for _, r := range rv.arrivalTokens(tr) {
		b.WriteString(r.Text)
	}
	return b.String()
}

// subscribeRun follows the run's streams and hands their events, in
// arrival order, to the views at most once per frame.
func (a *App) subscribeRun(ctx context.Context, cl *client.Client, panes []*Pane, ids []string) {
	a.wg.Go(func() {
		events, err := cl.SubscribeAll(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				a.do(func() {
					for _, p := range panes {
						p.showError("could not follow the stream: "+err.Error(), "")
					}
					a.runEnded(panes)
				})
			}
			return
		}
		pump(ctx, events, a.frames, a.pace, a.do, func(batch []client.IndexedEvent, final bool) {
			per := make([][]client.Event, len(panes))
			for _, ev := range batch {
				per[ev.Index] = append(per[ev.Index], ev.Event)
			}
			for i, p := range panes {
				p.apply(per[i], final)
			}
			a.views.apply(batch)
			if a.opts.Probe != nil {
				a.opts.Probe.applied(batch)
			}
			if final {
				a.runEnded(panes)
			}
		})
	})
}
