package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
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
	logs   [][]wire.LoggedEvent
	ended  []bool
	order  []client.IndexedEvent // every event in arrival order (for tests and export)
}

func newRunViews(a *App) *runViews {
	rv := &runViews{
		interleaved: NewTokenView(),
		timeline:    NewTimeline(),
		summary:     widget.NewLabel("Run the streams to see their tokens arrive on a shared clock."),
		stats:       newStatsTable(),
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
	rv.logs = make([][]wire.LoggedEvent, len(ids))
	rv.ended = make([]bool, len(ids))
	rv.order = rv.order[:0]
	rv.interleaved.Clear()
	rv.timeline.Reset(labels, slots)
	rv.summary.SetText("running…")
	rv.stats.reset(labels, slots)
	rv.wire.reset(labels, slots, ids)
}

// apply takes a batch of events of the run in arrival order.
func (rv *runViews) apply(batch []client.IndexedEvent) {
	var runs []Run
	for _, ev := range batch {
		i := ev.Index
		rv.order = append(rv.order, ev)
		rv.logs[i] = append(rv.logs[i], wire.LoggedEvent{Event: ev.Type, ID: ev.Seq, Data: ev.Raw})
		rv.timeline.Add(i, ev.Event)
		if ev.Type == client.EventToken {
			runs = append(runs, Run{Text: ev.Text, Slot: rv.slots[i]})
		}
		if ev.Terminal() {
			rv.ended[i] = true
			rv.stats.set(i, streamTranscript(rv.ids[i], rv.labels[i], rv.logs[i], ev.Stats))
		}
	}
	rv.interleaved.Append(runs...)
	rv.timeline.Refresh()
}

// streamTranscript builds the transcript of one stream from its events.
func streamTranscript(id, label string, events []wire.LoggedEvent, stats *client.Stats) wire.StreamTranscript {
	return wire.StreamTranscript{ID: id, Model: label, Events: events, Stats: stats}
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

// arrivalText joins the tokens in the order they arrived, for tests.
func (rv *runViews) arrivalText() string {
	var b strings.Builder
	for _, ev := range rv.order {
		if ev.Type == client.EventToken {
			b.WriteString(ev.Text)
		}
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
		pump(ctx, events, a.do, func(batch []client.IndexedEvent, final bool) {
			per := make([][]client.Event, len(panes))
			for _, ev := range batch {
				per[ev.Index] = append(per[ev.Index], ev.Event)
			}
			for i, p := range panes {
				p.apply(per[i], final)
			}
			a.views.apply(batch)
			if final {
				a.runEnded(panes)
			}
		})
	})
}
