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
	// arrivals are the stream indexes of the events in arrival order; with
	// logs they give the arrival order of the tokens (for tests).
	arrivals []uint8
	// drawnAt is when the timeline was last redrawn.
	drawnAt time.Time
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
		rv.logs[i] = append(rv.logs[i], wire.LoggedEvent{Event: ev.Type, ID: ev.Seq, Data: ev.Raw})
		rv.timeline.Add(i, ev.Event)
		if ev.Type == client.EventToken {
			runs = append(runs, Run{Text: ev.Text, Slot: rv.slots[i]})
		}
		if ev.Terminal() {
			ended = true
			rv.ended[i] = true
			rv.stats.set(i, streamTranscript(rv.ids[i], rv.labels[i], rv.logs[i], ev.Stats))
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

// arrivalTokens are the tokens in the order they arrived, each in its
// stream's slot, for tests.
func (rv *runViews) arrivalTokens() []Run {
	var out []Run
	next := make([]int, len(rv.logs))
	for _, i := range rv.arrivals {
		ev := rv.logs[i][next[i]]
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
func (rv *runViews) arrivalText() string {
	var b strings.Builder
	for _, r := range rv.arrivalTokens() {
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
