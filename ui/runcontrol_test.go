package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// TestDemoRunShowsBothStreams runs demo/hello and demo/hamlet side by side
// on a fake clock: each pane shows its text in its slot's colour and its
// figures, and the run's status says its lesson with the exact times of
// the demo's schedule.
func TestDemoRunShowsBothStreams(t *testing.T) {
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{})
	fa := h.app.fyneApp
	if got := []string{h.app.panes[0].model.Selected, h.app.panes[1].model.Selected}; got[0] != "demo/hello" || got[1] != "demo/hamlet" {
		t.Fatalf("first start panes %v", got)
	}
	h.app.prompt.SetText("")
	test.Type(h.app.prompt, "Tell me something")
	h.runAndWait()

	hello, hamlet := h.app.panes[0], h.app.panes[1]
	if hello.view.Text() != "Hello world" || hamlet.view.Text() != "To be, or not to be, that is the question." {
		t.Fatalf("texts %q, %q", hello.view.Text(), hamlet.view.Text())
	}
	v := fa.Settings().ThemeVariant()
	for _, c := range []struct {
		text string
		slot int
	}{{"Hello", 0}, {"To be, or not", 1}} {
		got := textColors(h.app.Window(), c.text)
		if len(got) == 0 {
			t.Fatalf("%q is not rendered", c.text)
		}
		if want := widgets.SlotColor(c.slot, v); got[0] != want {
			t.Errorf("%q rendered in %v, want slot %d's %v", c.text, got[0], c.slot, want)
		}
	}
	if widgets.SlotColor(0, v) == widgets.SlotColor(1, v) {
		t.Error("both slots have one colour")
	}
	// Hello: 2 tokens spread over 2 s, the first at 1 s, then 2 tokens in
	// the 1 s from the first to the last. Hamlet: 13 over 3 s, the first
	// at 3/13 s, then 13 in the 36/13 s to the last.
	for i, want := range []string{
		"finished · 2.00 s · TTFT 1000 ms · 2.0 tok/s · 2 tokens",
		"finished · 3.00 s · TTFT 231 ms · 4.7 tok/s · 13 tokens",
	} {
		if s := h.app.panes[i].statusText(); s != want {
			t.Errorf("pane %d: status %q, want %q", i+1, s, want)
		}
	}
	// The run's lesson: its wall time, 3 s (hamlet's), against its stream
	// time, the sum of the durations, 2 s and 3 s, of which 2 s overlapped,
	// as the server measured them on its clock.
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	rt := figures.RunTimeOf(figures.OutcomesOf(tr))
	if s, want := h.app.runStatus.Text, rt.Headline(wire.ModeAsync); s != want || rt.WallMs != 3000 || rt.WorkMs != 5000 || rt.OverlapMs != 2000 {
		t.Errorf("run status %q, want %q, for 3 s of wall time, 5 s of work, 2 s overlapped (%v, %v and %v ms)", s, want, rt.WallMs, rt.WorkMs, rt.OverlapMs)
	}
}

func TestStopOnePane(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/hamlet")
	h.app.prompt.SetText(strings.Repeat("word ", 200)) // 20 s at 10 words/s
	test.Tap(h.app.runBtn)
	echo, hamlet := h.app.panes[0], h.app.panes[1]
	h.q.waitFor(t, "the first echo token", func() bool { return echo.tokens > 0 })
	test.Tap(echo.stopBtn)
	h.q.waitFor(t, "the echo pane to stop", func() bool { return echo.state != paneRunning })
	if echo.reason != wire.ReasonCancelled || !strings.HasPrefix(echo.status.Text, "stopped by you") {
		t.Errorf("stopped pane: %q", echo.status.Text)
	}
	// Hamlet runs 3 s: it is still running, unless a loaded machine took
	// that long to stop the echo; then it must have ended on its own.
	if hamlet.state != paneRunning && hamlet.reason != wire.ReasonStop {
		t.Errorf("the other pane stopped too: %q", hamlet.status.Text)
	}
	h.q.waitFor(t, "hamlet to finish", func() bool { return !h.app.running })
	if hamlet.reason != wire.ReasonStop || hamlet.view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("other pane: %q %q", hamlet.reason, hamlet.view.Text())
	}
}

func TestSyncShowsWaiting(t *testing.T) {
	h := newHarnessOn(t, test.NewTempApp(t), startRealTime(t), Options{}) // watches the second pane wait
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.mode.SetSelected("Sync")
	test.Tap(h.app.runBtn)
	hello, hamlet := h.app.panes[0], h.app.panes[1]
	h.q.waitFor(t, "the second pane to wait", func() bool { return hamlet.phase == wire.PhaseWaiting })
	if !strings.HasPrefix(hamlet.status.Text, "waiting") {
		t.Errorf("status %q", hamlet.status.Text)
	}
	h.q.waitFor(t, "hello to finish", func() bool { return hello.state == paneDone })
	if hamlet.tokens != 0 {
		t.Errorf("second pane had %d tokens before the first ended", hamlet.tokens)
	}
	h.q.waitFor(t, "the run to end", func() bool { return !h.app.running })
	if !strings.HasPrefix(h.app.runStatus.Text, "sync run:") {
		t.Errorf("run status %q", h.app.runStatus.Text)
	}
}

func TestUnknownModelErrorStaysInItsPane(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/nope", "demo/echo")
	h.app.panes[0].model.SetOptions(append(h.app.models, "demo/nope"))
	h.app.panes[0].model.SetSelected("demo/nope")
	h.app.prompt.SetText("a b")
	h.runAndWait()
	bad, good := h.app.panes[0], h.app.panes[1]
	if !bad.errLabel.Visible() || !strings.HasPrefix(bad.errLabel.Text, "model \"demo/nope\" not found\nDemo sources: demo/") {
		t.Errorf("bad pane error %q (visible %v)", bad.errLabel.Text, bad.errLabel.Visible())
	}
	if good.errLabel.Visible() || good.view.Text() != "a b" || good.reason != wire.ReasonStop {
		t.Errorf("good pane: error %q, text %q", good.errLabel.Text, good.view.Text())
	}
}

// httpStatus is how client.APIError.Error ends: for logs, not for people.
var httpStatus = regexp.MustCompile(`\[\d{3}\]`)

// TestRefusedRunSaysWhy: a run the server refuses says so in the status
// line, its message and then its hint on a line of its own, as a sentence;
// never the HTTP status.
func TestRefusedRunSaysWhy(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo")
	h.app.addPane(PaneConfig{Model: "../x"})
	h.app.prompt.SetText("hi")
	test.Tap(h.app.runBtn)
	h.q.waitFor(t, "the refusal", func() bool { return !h.app.running && strings.HasPrefix(h.app.runStatus.Text, "Could not start") })
	want := "Could not start: stream 1: invalid model name \"../x\"\nModel names look like llama3.2, llama3.2:1b, namespace/name:tag or demo/hello"
	if got := h.app.runStatus.Text; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
}

// TestProblem: every failure reads alike, whatever it came from: what
// failed, the message, and the hint apart; no HTTP status.
func TestProblem(t *testing.T) {
	refusal := &client.APIError{Status: 400, Message: `stream 0: unknown endpoint "nope"`, Hint: "the endpoints are: gpu"}
	for _, tt := range []struct {
		what string
		err  error
		want string
	}{
		{"Could not start", refusal, "Could not start: stream 0: unknown endpoint \"nope\"\nThe endpoints are: gpu"},
		{"Could not start", fmt.Errorf("step 1: %w", refusal), "Could not start: step 1: stream 0: unknown endpoint \"nope\"\nThe endpoints are: gpu"},
		{"Could not stop", &client.APIError{Status: 500, Message: "internal error"}, "Could not stop: internal error"},
		{"Could not save the run", errors.New("open /x: permission denied"), "Could not save the run: open /x: permission denied"},
		{"", errors.New("endpoint name \"g pu\": use 1 to 32 letters"), "endpoint name \"g pu\": use 1 to 32 letters"},
		{"Could not open a file", &client.APIError{Status: 404, Message: "no such run", Hint: "émigré: check the id"}, "Could not open a file: no such run\nÉmigré: check the id"},
	} {
		got := problem(tt.what, tt.err)
		if got != tt.want || httpStatus.MatchString(got) {
			t.Errorf("problem(%q, %v) = %q, want %q", tt.what, tt.err, got, tt.want)
		}
	}
}

func TestEmptyPromptIsRefused(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.prompt.SetText("  \n")
	test.Tap(h.app.runBtn)
	if h.app.running || h.app.runStatus.Text != "Write a prompt first." {
		t.Errorf("running %v, status %q", h.app.running, h.app.runStatus.Text)
	}
}

func TestBadOptionIsRefused(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.panes[1].temp.SetText("warm")
	test.Tap(h.app.runBtn)
	if h.app.running || !strings.Contains(h.app.runStatus.Text, `Pane 2: temperature "warm" is not a number`) {
		t.Errorf("running %v, status %q", h.app.running, h.app.runStatus.Text)
	}
}
