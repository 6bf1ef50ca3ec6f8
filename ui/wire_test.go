package ui

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

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
	deadline := time.Now().Add(testenv.Patience)
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
