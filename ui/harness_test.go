package ui

import (
	"image/color"
	"net"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/uitest"
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

// waitFor runs queued UI work until cond holds, for up to
// testenv.Patience.
func (q *uiQueue) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(testenv.Patience)
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
// unless ollamaURL says otherwise) and the app on Fyne's test driver, and
// waits for the model list.
func newHarness(t *testing.T, fa fyne.App, ollamaURL string) *harness {
	return newHarnessWith(t, fa, ollamaURL, Options{})
}

// newHarnessWith is newHarness with more options for the app (its Client
// and Do are the harness's).
func newHarnessWith(t *testing.T, fa fyne.App, ollamaURL string, o Options) *harness {
	return newHarnessOn(t, fa, startServer(t, ollamaURL), o)
}

// newHarnessOn is newHarnessWith on a server the test started, which the
// harness closes at the end of the test.
func newHarnessOn(t *testing.T, fa fyne.App, emb *embedded.Server, o Options) *harness {
	q := newUIQueue()
	h := &harness{t: t, q: q, srv: emb.Server}
	o.Client, o.Do = emb.Client, q.do
	h.app = New(fa, o)
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
		emb.Close()
	})
	q.waitFor(t, "the model list", func() bool { return len(h.app.models) > 0 })
	return h
}

// startServer starts the real embedded server and a client of it; the
// caller closes them. With no ollamaURL, Ollama points nowhere and the
// server runs on a fake clock that moves whenever every stream waits for
// it (fakeclock): a demo run takes no real time, and its figures are exact.
func startServer(t *testing.T, ollamaURL string) *embedded.Server {
	if ollamaURL != "" {
		return startOn(t, server.Config{OllamaURL: ollamaURL})
	}
	clock := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	emb := startOn(t, server.Config{OllamaURL: closedURL(t), Clock: clock})
	clock.PlayDuring(t, emb.Server) // stops after the harness's cleanup
	return emb
}

// startRealTime starts the embedded server on the real clock, Ollama
// pointing nowhere: for a test that watches a demo stream midway (a
// fake clock plays a stream to its end before the test can look).
func startRealTime(t *testing.T) *embedded.Server {
	return startOn(t, server.Config{OllamaURL: closedURL(t)})
}

func startOn(t *testing.T, cfg server.Config) *embedded.Server {
	emb, err := embedded.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return emb
}

// tempHistory is a new history in the test's folder, closed at its end.
func tempHistory(t *testing.T) *history.Store {
	store, err := history.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
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
	h.q.waitFor(h.t, "the run to end", func() bool { return !h.app.running && h.app.runID != "" })
}

// textColors returns the colours of the rendered texts in the window that
// contain s.
func textColors(w fyne.Window, s string) []color.Color {
	return uitest.TextColors(w.Content(), s)
}
