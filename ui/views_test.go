package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/export"
)

// TestInterleavedOrder: the interleaved view shows every token of every
// stream, each in its stream's colour, in the order the events arrived.
func TestInterleavedOrder(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/echo", "demo/hamlet")
	h.app.prompt.SetText("one two three four five six seven eight")
	h.runAndWait()
	rv := h.app.views
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.app.InterleavedText(), rv.arrivalText(tr); got != want {
		t.Fatalf("interleaved %q, arrival order %q", got, want)
	}
	// The runs of the view follow the arrival order stream by stream.
	var arrival []Run
	for _, tok := range rv.arrivalTokens(tr) {
		if n := len(arrival); n > 0 && arrival[n-1].Slot == tok.Slot {
			arrival[n-1].Text += tok.Text
		} else {
			arrival = append(arrival, tok)
		}
	}
	if got := rv.interleaved.Runs(); !reflect.DeepEqual(got, arrival) {
		t.Errorf("runs %+v, want %+v", got, arrival)
	}
	// The streams really interleave: slots alternate more than once.
	if len(arrival) < 6 {
		t.Errorf("only %d runs: the streams did not interleave", len(arrival))
	}
}

// TestTimelineOfRuns checks the timeline against the transcript: ticks
// proportional to t_ms; in a sync run the lanes' intervals are disjoint,
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
		x0, w := tl.plot()
		for i, st := range tr.Streams {
			k := 0
			for _, e := range st.Events {
				if e.Event != client.EventToken {
					continue
				}
				tms := dataTMs(t, e.Data)
				if got, want := tl.TickX(i, k), x0+float32(tms/tl.span())*w; abs32(got-want) > 0.01 {
					t.Errorf("%s: stream %d tick %d at %v, want %v", mode, i, k, got, want)
				}
				k++
			}
		}
		s0, e0 := tl.Interval(0)
		s1, e1 := tl.Interval(1)
		disjoint := e0 <= s1 || e1 <= s0
		if (mode == "Sync") != disjoint {
			t.Errorf("%s: intervals [%.0f, %.0f] and [%.0f, %.0f], disjoint %v", mode, s0, e0, s1, e1, disjoint)
		}
		if !strings.Contains(h.app.views.summary.Text, strings.ToLower(mode)+" run:") {
			t.Errorf("timeline summary %q", h.app.views.summary.Text)
		}
	}
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

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// TestWireView: the wire view's text equals the frames on the wire.
func TestWireView(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/hello")
	h.app.prompt.SetText("wire me up")
	h.runAndWait()
	w := h.app.views.wire
	for _, stream := range []int{0, 1} {
		w.pick.SetSelectedIndex(stream)
		want := rawFrames(t, h.srv.URL(), w.ids[stream])
		waitForWire(t, h, w, want)
		if !strings.HasPrefix(w.CurlCommand(), "curl -N '"+h.srv.URL()+"/events?stream="+w.ids[stream]) {
			t.Errorf("curl command %q", w.CurlCommand())
		}
	}
}

func waitForWire(t *testing.T, h *harness, w *wireView, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Text() != want {
		if time.Now().After(deadline) {
			t.Fatalf("wire view:\n%q\nwire:\n%q", w.Text(), want)
		}
		select {
		case f := <-h.q.ch:
			f()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rawFrames reads a finished stream's SSE response as it is on the wire.
func rawFrames(t *testing.T, base, id string) string {
	resp, err := http.Get(base + "/events?stream=" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// TestStatsTable shows every stream's figures and marks fastest and
// slowest.
func TestStatsTable(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.runAndWait()
	s := h.app.views.stats
	h.q.waitFor(t, "the figures", func() bool { return s.figures[0] != nil && s.figures[1] != nil })
	// The demo scripts send hello's first token at 1000 ms and hamlet's at
	// 231 ms: a TTFT is never earlier (timers may be late on a busy
	// machine; the ranks tell the order).
	ttft := 0
	atLeast := func(text string, ms float64) bool {
		v, err := strconv.ParseFloat(strings.Fields(text + " x")[0], 64)
		return err == nil && v >= ms
	}
	if text, rank := s.Cell(0, ttft); rank != -1 || !atLeast(text, 1000) {
		t.Errorf("hello's TTFT %q rank %d: want at least 1000 ms, the slowest", text, rank)
	}
	if text, rank := s.Cell(1, ttft); rank != 1 || !atLeast(text, 230) {
		t.Errorf("hamlet's TTFT %q rank %d: want at least 231 ms, the fastest", text, rank)
	}
	if text, _ := s.Cell(1, 1); text != "13" {
		t.Errorf("hamlet's tokens %q", text)
	}
	if text, _ := s.Cell(0, 6); text != "–" {
		t.Errorf("demo stream has an Ollama eval rate %q", text)
	}
}

// TestExportThenOpen saves the run, opens it again and replays it: the
// saved run equals the server's, the replay shows the same texts.
func TestExportThenOpen(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/hamlet")
	h.app.prompt.SetText("save this run")
	h.runAndWait()
	want, err := h.app.client().Run(context.Background(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"run.json", "run.md", "run.txt"} {
		var got error
		done := false
		h.app.exportTo(filepath.Join(dir, name), func(err error) { got, done = err, true })
		h.q.waitFor(t, "the export", func() bool { return done })
		if (got == nil) != (name != "run.txt") {
			t.Errorf("export to %s: %v", name, got)
		}
	}
	opened, err := export.Load(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opened, want) {
		t.Fatalf("opened run differs from the server's transcript")
	}
	began := time.Now()
	h.app.replay(opened, 4)
	h.q.waitFor(t, "the replay to end", func() bool { return h.app.running == 0 && h.app.runID != want.ID })
	took := time.Since(began)
	if h.app.panes[0].view.Text() != "save this run" || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("replayed texts %q, %q", h.app.panes[0].view.Text(), h.app.panes[1].view.Text())
	}
	// Hamlet takes 3 s; at 4× its replay cannot end before 0.75 s (timers
	// never fire early). The exact gaps are checked with a fake clock in
	// the server's tests.
	if took < 750*time.Millisecond {
		t.Errorf("replay at 4× took only %v", took)
	}
}
