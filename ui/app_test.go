package ui

import (
	"image/color"
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/server"
)

// uiQueue runs the app's Fyne-thread work on the test goroutine, so the
// test reads widgets without racing the pumps.
type uiQueue struct {
	ch   chan func()
	done chan struct{}
}

func newUIQueue() *uiQueue {
	return &uiQueue{ch: make(chan func(), 1024), done: make(chan struct{})}
}

func (q *uiQueue) do(f func()) {
	select {
	case q.ch <- f:
	case <-q.done:
	}
}

// waitFor runs queued UI work until cond holds.
func (q *uiQueue) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case f := <-q.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type harness struct {
	t   *testing.T
	app *App
	q   *uiQueue
	srv *server.Server
}

func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// newHarness starts the real embedded server (Ollama pointing nowhere
// unless ollamaURL says otherwise) and the app on Fyne's test driver.
func newHarness(t *testing.T, fa fyne.App, ollamaURL string) *harness {
	srv, cl := startServer(t, ollamaURL)
	q := newUIQueue()
	h := &harness{t: t, q: q, srv: srv}
	h.app = New(fa, Options{Client: cl, Do: q.do})
	h.app.Window().Resize(fyne.NewSize(1000, 700))
	t.Cleanup(func() {
		closed := make(chan struct{})
		go func() { h.app.Close(); close(closed) }()
		for done := false; !done; {
			select {
			case f := <-q.ch:
				f()
			case <-closed:
				done = true
			}
		}
		close(q.done)
		srv.Close()
		cl.Close()
	})
	q.waitFor(t, "the model list", func() bool { return h.app.loaded })
	return h
}

// startServer starts the real embedded server (Ollama pointing nowhere
// unless ollamaURL says otherwise) and a client of it; the caller closes
// both.
func startServer(t *testing.T, ollamaURL string) (*server.Server, *client.Client) {
	if ollamaURL == "" {
		ollamaURL = closedURL(t)
	}
	srv, err := server.New(server.Config{OllamaURL: ollamaURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

func (h *harness) setPanes(models ...string) {
	for len(h.app.panes) > len(models) {
		h.app.removePane(h.app.panes[len(h.app.panes)-1])
	}
	for len(h.app.panes) < len(models) {
		h.app.addPane(PaneConfig{})
	}
	for i, m := range models {
		h.app.panes[i].model.SetSelected(m)
	}
}

func (h *harness) runAndWait() {
	test.Tap(h.app.runBtn)
	h.q.waitFor(h.t, "the run to end", func() bool { return h.app.running == 0 && h.app.runID != "" })
}

// textColors returns the colours of the rendered texts in the window that
// contain s.
func textColors(w fyne.Window, s string) []color.Color {
	var out []color.Color
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			if strings.Contains(x.Text, s) {
				out = append(out, x.Color)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(w.Content())
	return out
}

func TestDemoRunShowsBothStreams(t *testing.T) {
	fa := test.NewTempApp(t)
	h := newHarness(t, fa, "")
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
		if want := SlotColor(c.slot, v); got[0] != want {
			t.Errorf("%q rendered in %v, want slot %d's %v", c.text, got[0], c.slot, want)
		}
	}
	if SlotColor(0, v) == SlotColor(1, v) {
		t.Error("both slots have one colour")
	}
	for _, p := range h.app.panes {
		if s := p.status.Text; !strings.HasPrefix(s, "done (stop)") || !strings.Contains(s, "TTFT") {
			t.Errorf("status %q", s)
		}
	}
	if s := h.app.runStatus.Text; !strings.HasPrefix(s, "async run:") || !strings.Contains(s, "5.0") {
		t.Errorf("run status %q", s)
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
	if echo.reason != client.ReasonCancelled || !strings.Contains(echo.status.Text, "done (cancelled)") {
		t.Errorf("stopped pane: %q", echo.status.Text)
	}
	if hamlet.state != paneRunning {
		t.Errorf("the other pane stopped too: %q", hamlet.status.Text)
	}
	h.q.waitFor(t, "hamlet to finish", func() bool { return h.app.running == 0 })
	if hamlet.reason != client.ReasonStop || hamlet.view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("other pane: %q %q", hamlet.reason, hamlet.view.Text())
	}
}

func TestSyncShowsWaiting(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.mode.SetSelected("Sync")
	test.Tap(h.app.runBtn)
	hello, hamlet := h.app.panes[0], h.app.panes[1]
	h.q.waitFor(t, "the second pane to wait", func() bool { return hamlet.phase == client.PhaseWaiting })
	if !strings.HasPrefix(hamlet.status.Text, "waiting") {
		t.Errorf("status %q", hamlet.status.Text)
	}
	h.q.waitFor(t, "hello to finish", func() bool { return hello.state == paneDone })
	if hamlet.tokens != 0 {
		t.Errorf("second pane had %d tokens before the first ended", hamlet.tokens)
	}
	h.q.waitFor(t, "the run to end", func() bool { return h.app.running == 0 })
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
	if !bad.errLabel.Visible() || !strings.Contains(bad.errLabel.Text, `model "demo/nope" not found`) {
		t.Errorf("bad pane error %q (visible %v)", bad.errLabel.Text, bad.errLabel.Visible())
	}
	if good.errLabel.Visible() || good.view.Text() != "a b" || good.reason != client.ReasonStop {
		t.Errorf("good pane: error %q, text %q", good.errLabel.Text, good.view.Text())
	}
}

func TestOllamaDownBanner(t *testing.T) {
	url := closedURL(t)
	h := newHarness(t, test.NewTempApp(t), url)
	if !h.app.banner.Visible() || !strings.Contains(h.app.bannerMsg.Text, "Ollama is not reachable at "+url) || !strings.Contains(h.app.bannerMsg.Text, "ollama serve") {
		t.Errorf("banner visible %v: %q", h.app.banner.Visible(), h.app.bannerMsg.Text)
	}
	for _, p := range h.app.panes {
		if !strings.HasPrefix(p.model.Selected, "demo/") {
			t.Errorf("pane model %q without Ollama", p.model.Selected)
		}
	}
}

func TestEmptyPromptIsRefused(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.prompt.SetText("  \n")
	test.Tap(h.app.runBtn)
	if h.app.running != 0 || h.app.runStatus.Text != "Write a prompt first." {
		t.Errorf("running %d, status %q", h.app.running, h.app.runStatus.Text)
	}
}

func TestBadOptionIsRefused(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.panes[1].temp.SetText("warm")
	test.Tap(h.app.runBtn)
	if h.app.running != 0 || !strings.Contains(h.app.runStatus.Text, `Stream 2: temperature "warm" is not a number`) {
		t.Errorf("running %d, status %q", h.app.running, h.app.runStatus.Text)
	}
}

// TestSettingsPersist: panes, options and mode come back in a new window of
// the same app.
func TestSettingsPersist(t *testing.T) {
	fa := test.NewTempApp(t)
	h := newHarness(t, fa, "")
	h.setPanes("demo/hamlet", "demo/echo", "demo/flood")
	h.app.panes[2].maxTok.SetText("42")
	h.app.mode.SetSelected("Sync")
	h.app.save()

	h2 := newHarness(t, fa, "")
	var models []string
	for _, p := range h2.app.panes {
		models = append(models, p.model.Selected)
	}
	if strings.Join(models, ",") != "demo/hamlet,demo/echo,demo/flood" || h2.app.panes[2].maxTok.Text != "42" || h2.app.Mode() != "sync" {
		t.Errorf("restored panes %v, max tokens %q, mode %s", models, h2.app.panes[2].maxTok.Text, h2.app.Mode())
	}
	if h2.app.panes[2].slot != 2 {
		t.Errorf("third pane in slot %d", h2.app.panes[2].slot)
	}
}

func TestPaneLimitAndSlots(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	for range 10 {
		test.Tap(h.app.addBtn)
	}
	if len(h.app.panes) != MaxPanes || !h.app.addBtn.Disabled() {
		t.Fatalf("%d panes, add enabled %v", len(h.app.panes), !h.app.addBtn.Disabled())
	}
	test.Tap(h.app.panes[3].closeBtn)
	test.Tap(h.app.addBtn)
	if h.app.panes[len(h.app.panes)-1].slot != 3 {
		t.Errorf("new pane took slot %d, want the freed 3", h.app.panes[len(h.app.panes)-1].slot)
	}
	// Eight panes at 1000 px: narrower than their minimum, so they scroll.
	if min := h.app.panesBox.MinSize().Width; min <= 1000 {
		t.Errorf("panes' minimum width %v", min)
	}
}

// TestPaneOptionsSummedUp: a pane's options start closed even when set, and
// while the pane is idle its status line names what is set, or the option
// that is not a number.
func TestPaneOptionsSummedUp(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	rate, maxTok := 3.0, 1
	h.app.addPane(PaneConfig{Model: "demo/echo", Rate: &rate, MaxTokens: &maxTok})
	p := h.app.panes[len(h.app.panes)-1]
	if p.options.Visible() {
		t.Error("options open at start")
	}
	if got, want := p.status.Text, "ready · at most 1 token · pace 3 tokens/s"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	p.temp.SetText("warm")
	if got, want := p.status.Text, `ready · temperature "warm" is not a number`; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	p.temp.SetText("")
	p.rate.SetText("")
	p.maxTok.SetText("")
	if p.status.Text != "ready" {
		t.Errorf("status %q with no options", p.status.Text)
	}
}

// TestNewWithFyneDo builds the app as the desktop does (no Do: fyne.Do,
// the frame counter and the pacer running) and closes it. Its goroutines
// start with the app's context in place (the race detector watches).
func TestNewWithFyneDo(t *testing.T) {
	srv, cl := startServer(t, "")
	defer srv.Close()
	defer cl.Close()
	for range 3 {
		a := New(test.NewTempApp(t), Options{Client: cl})
		a.Close()
	}
}
