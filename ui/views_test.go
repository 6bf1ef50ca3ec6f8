package ui

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/frame"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// TestInterleavedOrder: the interleaved view shows every token of every
// stream, each in its stream's colour, in the order the views took the
// events (as the probe saw them).
func TestInterleavedOrder(t *testing.T) {
	probe := frame.NewProbe(nil, nil)
	h := newHarnessOn(t, test.NewTempApp(t), startRealTime(t), Options{Probe: probe}) // frames paint as tokens come
	h.setPanes("demo/echo", "demo/echo", "demo/hamlet")
	h.app.prompt.SetText("one two three four five six seven eight")
	h.runAndWait()
	rv := h.app.views
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	h.app.Window().Canvas().Capture() // a frame: the probe notes every token the views took as painted
	tokens := arrivalTokens(t, probe, tr, rv.slots)
	var text strings.Builder
	for _, tok := range tokens {
		text.WriteString(tok.Text)
	}
	if got, want := rv.interleaved.Text(), text.String(); got != want {
		t.Fatalf("interleaved %q, arrival order %q", got, want)
	}
	// The spans of the view follow the arrival order stream by stream.
	var arrival []widgets.Span
	for _, tok := range tokens {
		if n := len(arrival); n > 0 && arrival[n-1].Slot == tok.Slot {
			arrival[n-1].Text += tok.Text
		} else {
			arrival = append(arrival, tok)
		}
	}
	if got := rv.interleaved.Spans(); !reflect.DeepEqual(got, arrival) {
		t.Errorf("spans %+v, want %+v", got, arrival)
	}
	// The streams really interleave: slots alternate more than once.
	if len(arrival) < 6 {
		t.Errorf("only %d spans: the streams did not interleave", len(arrival))
	}
}

// arrivalTokens are the tokens of the run whose transcript is tr in the
// order the views took them, as probe noted them painted, each in its
// stream's slot.
func arrivalTokens(t *testing.T, probe *frame.Probe, tr *wire.Transcript, slots []int) []widgets.Span {
	texts := make([][]string, len(tr.Streams))
	for i, st := range tr.Streams {
		for _, e := range st.Events {
			if e.Event == wire.EventToken {
				var d struct {
					Text string `json:"text"`
				}
				if err := json.Unmarshal(e.Data, &d); err != nil {
					t.Fatal(err)
				}
				texts[i] = append(texts[i], d.Text)
			}
		}
	}
	var out []widgets.Span
	for _, s := range probe.Samples() {
		out = append(out, widgets.Span{Text: texts[s.Stream][s.Token], Slot: slots[s.Stream]})
	}
	return out
}

// TestTimelineOfRuns checks the timeline against the transcript: a tick
// at each token's t_ms; in a sync run the lanes' intervals are disjoint,
// in an async run they overlap.
func TestTimelineOfRuns(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	for _, mode := range []string{"Sync", "Async"} {
		h.app.mode.SetSelected(mode)
		h.runAndWait()
		tl := h.app.views.timeline
		tr, err := h.app.client().Run(context.Background(), h.app.runID)
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range tr.Streams {
			ticks := tl.Lane(i).Ticks
			k := 0
			for _, e := range st.Events {
				if e.Event != wire.EventToken {
					continue
				}
				if tms := dataTMs(t, e.Data); k >= len(ticks) || math.Abs(ticks[k]-tms) > 1e-6 {
					t.Errorf("%s: stream %d tick %d of %d, want one at %v ms", mode, i, k, len(ticks), tms)
				}
				k++
			}
		}
		s0, e0 := laneInterval(tl.Lane(0))
		s1, e1 := laneInterval(tl.Lane(1))
		disjoint := e0 <= s1 || e1 <= s0
		if (mode == "Sync") != disjoint {
			t.Errorf("%s: intervals [%.0f, %.0f] and [%.0f, %.0f], disjoint %v", mode, s0, e0, s1, e1, disjoint)
		}
		// The run's lesson shows once, under the controls, not again above
		// the timeline.
		if !strings.Contains(h.app.runStatus.Text, strings.ToLower(mode)+" run:") {
			t.Errorf("run status %q", h.app.runStatus.Text)
		}
		if strings.Contains(h.app.views.heading.Text, " run:") {
			t.Errorf("the timeline's heading repeats the run's lesson: %q", h.app.views.heading.Text)
		}
	}
}

// laneInterval is a lane's span in run time, from its start (its first
// phase other than waiting) to its end (where its last phase ends: -1
// while it runs, or before any phase); start -1 before it.
func laneInterval(l widgets.LaneInfo) (start, end float64) {
	start, end = -1, -1
	for _, p := range l.Phases {
		if p.Phase != wire.PhaseWaiting {
			start = p.Start
			break
		}
	}
	if n := len(l.Phases); n > 0 {
		end = l.Phases[n-1].End
	}
	return start, end
}

func dataTMs(t *testing.T, data []byte) float64 {
	var d struct {
		TMs float64 `json:"t_ms"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d.TMs
}
