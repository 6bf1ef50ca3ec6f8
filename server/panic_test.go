package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// panicSource sends a token, then panics: a bug in a source.
type panicSource struct{}

func (panicSource) Generate(_ context.Context, _ Request, emit Emitter) (Result, error) {
	emit.Phase(wire.PhaseGenerating)
	emit.Token("before the panic")
	panic("a bug in a source")
}

func (panicSource) Models(context.Context) ([]wire.Model, error) { return nil, nil }

// startPanicky starts a server whose "panic/..." models panic.
func startPanicky(t *testing.T) (*Server, *client.Client) {
	t.Helper()
	s, err := New(Config{OllamaURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	s.sources = append(s.sources, route{"panic/", panicSource{}})
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		cl.Close()
	})
	return s, cl
}

// TestPanicEndsOnlyItsStream: a source that panics ends its own stream
// with an error event; the other stream of the run finishes, and the
// server serves on.
func TestPanicEndsOnlyItsStream(t *testing.T) {
	_, cl := startPanicky(t)
	ctx := t.Context()
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "panic/x"}, {Model: wire.DemoHello}}})
	if err != nil {
		t.Fatal(err)
	}
	var lasts []client.Event
	var texts []string
	for _, st := range run.Streams {
		ch, err := cl.Subscribe(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		var last client.Event
		var text strings.Builder
		for ev := range ch {
			last = ev
			text.WriteString(ev.Text)
		}
		lasts = append(lasts, last)
		texts = append(texts, text.String())
	}
	if e := lasts[0]; e.Type != wire.EventError || !strings.Contains(e.Message, "internal error: a bug in a source") || e.Hint == "" || texts[0] != "before the panic" {
		t.Errorf("the panicking stream ended %+v after %q", e, texts[0])
	}
	if e := lasts[1]; e.Type != wire.EventDone || texts[1] != "Hello world" {
		t.Errorf("the other stream ended %+v after %q", e, texts[1])
	}
	if _, err := cl.Health(ctx); err != nil {
		t.Errorf("server after the panic: %v", err)
	}
}

// TestPanicEndsOnlyItsSubscriber: a panic while feeding a subscriber (here
// an event of a type that does not exist, as a bug could leave in a log)
// ends that response only; the server goes on.
func TestPanicEndsOnlyItsSubscriber(t *testing.T) {
	s, cl := startPanicky(t)
	ctx := t.Context()
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: wire.DemoHello}}})
	if err != nil {
		t.Fatal(err)
	}
	st := s.lookupStream(run.Streams[0].ID)
	ch, err := cl.Subscribe(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	for range ch { // to its end
	}
	st.mu.Lock()
	typ := st.log.events[1].typ
	st.log.events[1].typ = 200
	st.mu.Unlock()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events?stream="+st.id, nil)
	rec := httptest.NewRecorder()
	s.follow(rec, req, st, 0)
	if body := rec.Body.String(); !strings.Contains(body, "event: phase") || strings.Contains(body, "event: done") {
		t.Errorf("the response of the panicking feed: %q", body)
	}
	st.mu.Lock()
	st.log.events[1].typ = typ
	st.mu.Unlock()
	ch, err = cl.Subscribe(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for ev := range ch {
		text.WriteString(ev.Text)
	}
	if text.String() != "Hello world" {
		t.Errorf("a subscriber after the panic got %q", text.String())
	}
}
