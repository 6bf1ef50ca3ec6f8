package client_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/server"
)

// record runs req to its end and returns its transcript.
func record(t *testing.T, cl *client.Client, req wire.RunRequest) *wire.Transcript {
	t.Helper()
	run, err := cl.StartRun(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range run.Streams {
		subscribeAll(t, cl, s.ID)
	}
	tr, err := cl.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func idsOf(run *wire.RunCreated) []string {
	ids := make([]string, len(run.Streams))
	for i, s := range run.Streams {
		ids[i] = s.ID
	}
	return ids
}

// TestStartReplay replays a recorded run at 16×: the new run's streams
// carry the original models, "replay of" labels and, to their subscribers,
// the original texts and ends, faster than the original. Refusals come back
// as *APIError.
func TestStartReplay(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC))
	srv, ts := newServerWith(t, server.Config{Clock: clock})
	cl := newClient(t, ts.URL)
	// The clock moves whenever every stream waits for it, for the
	// original run and its replay alike.
	clock.PlayDuring(t, srv)
	// The echo at 5 words a second: the original takes 600 ms.
	orig := record(t, cl, wire.RunRequest{Prompt: "alpha beta gamma", Mode: "sync", Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(5.0)}}, {Model: "demo/nope"},
	}})
	ctx := t.Context()
	run, err := cl.StartReplay(ctx, orig, 16)
	if err != nil {
		t.Fatal(err)
	}
	if run.Mode != "sync" || len(run.Streams) != 2 || run.Streams[0].Model != wire.DemoEcho || run.Streams[1].Label != "replay of demo/nope" {
		t.Fatalf("replay created %+v", run)
	}
	events, err := cl.SubscribeAll(ctx, idsOf(run))
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 2)
	ends := make([]client.Event, 2)
	for ev := range events {
		texts[ev.Index] += ev.Text
		if ev.Terminal() {
			ends[ev.Index] = ev.Event
		}
	}
	if texts[0] != "alpha beta gamma" || texts[1] != "" {
		t.Errorf("replayed texts %q", texts)
	}
	if ends[0].Reason != wire.ReasonStop || ends[1].Type != wire.EventError || ends[1].Message != orig.Streams[1].Error {
		t.Errorf("replayed ends %+v", ends)
	}
	// The replay's wall time, on the server's clock: the original's, a
	// sixteenth of it (to the microsecond).
	rep, err := cl.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if orig.WallMs != 600 || math.Abs(rep.WallMs-orig.WallMs/16) > 0.001 {
		t.Errorf("replay at 16× took %.3f ms, the original %.3f ms: want a sixteenth of it", rep.WallMs, orig.WallMs)
	}

	var apiErr *client.APIError
	if _, err := cl.StartReplay(ctx, orig, 0); !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, "speed 0 out of range") {
		t.Errorf("speed 0: %v", err)
	}
	broken := *orig
	broken.Streams = append([]wire.StreamTranscript(nil), orig.Streams...)
	broken.Streams[0].Text = "other"
	if _, err := cl.StartReplay(ctx, &broken, 1); !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, "stream 0 (demo/echo)") {
		t.Errorf("broken transcript: %v", err)
	}
}

// TestSubscribeAll merges two paced streams and a fast one: every event
// arrives once, each stream's in order, tagged with its stream's index; the
// paced streams interleave; the channel closes after the last terminal
// event. Interleave: the long stream (10 s, cancelled once the short one
// has ended) sends a token every 10 ms while the short one runs for a
// second; tokens of the long stream must come between the short stream's
// first token and its end, and the short stream's end before the long
// stream's. A merge that took the streams one after another, or each once
// it had ended, would fail one of the two.
func TestSubscribeAll(t *testing.T) {
	_, ts := newServer(t)
	cl := newClient(t, ts.URL)
	ctx := t.Context()
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1000, 100), flood(40, 40), flood(500, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := cl.SubscribeAll(ctx, idsOf(run))
	if err != nil {
		t.Fatal(err)
	}
	next := make([]int64, 3)
	ended := make([]bool, 3)
	switches, prev := 0, -1
	longWhileShort := 0 // tokens of the long stream after the short one's first token, before its end
	shortFirst := false // the short stream ended before the long one
	for ev := range events {
		i := ev.Index
		if ev.Stream != run.Streams[i].ID || ev.Seq != next[i] || ended[i] {
			t.Fatalf("event %+v of stream %d, want seq %d", ev.Event, i, next[i])
		}
		next[i]++
		ended[i] = ev.Terminal()
		if i == 0 && ev.Type == wire.EventToken && next[1] > 1 && !ended[1] {
			longWhileShort++
		}
		if i == 1 && ev.Terminal() {
			shortFirst = !ended[0]
			if err := cl.CancelStream(ctx, run.Streams[0].ID); err != nil {
				t.Fatal(err)
			}
		}
		if i < 2 && prev >= 0 && prev != i {
			switches++
		}
		if i < 2 {
			prev = i
		}
	}
	for i, e := range ended {
		if !e {
			t.Errorf("stream %d: no terminal event", i)
		}
	}
	if next[2] != 502 {
		t.Errorf("fast stream: %d events, want 502", next[2])
	}
	t.Logf("the paced streams switched %d times; %d tokens of the long stream came while the short one ran", switches, longWhileShort)
	if longWhileShort == 0 || !shortFirst {
		t.Errorf("the two paced streams did not interleave: %d tokens of the long stream while the short one ran; the short one ended first: %v", longWhileShort, shortFirst)
	}

	none, err := cl.SubscribeAll(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := <-none; ok {
		t.Errorf("no streams: the channel delivered an event")
	}
}

// TestSubscribeAllEnds: an unknown stream makes SubscribeAll fail and let go
// of the streams already subscribed; cancelling ctx closes the channel of a
// live merge promptly. TestMain's goleak checks nothing is left.
func TestSubscribeAllEnds(t *testing.T) {
	srv, ts := newServer(t)
	cl := newClient(t, ts.URL)
	run, err := cl.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 500), flood(100000, 500)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.CancelRun(context.Background(), run.ID)
	if _, err := cl.SubscribeAll(context.Background(), append(idsOf(run), "s_nope")); !client.IsNotFound(err) || !strings.Contains(err.Error(), "s_nope") {
		t.Errorf("unknown stream: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events, err := cl.SubscribeAll(ctx, idsOf(run))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		<-events
	}
	cancel()
	var rest []client.IndexedEvent
	for ev := range events {
		rest = append(rest, ev)
	}
	checkClosedByCancel(t, srv, rest, 2)
}

// rawFrames reads GET /events?stream=ID with plain net/http and splits the
// body at blank lines: the frames as any SSE reader sees them on the wire.
func rawFrames(t *testing.T, url string) []string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
	}
	return strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
}

func collectFrames(t *testing.T, cl *client.Client, ctx context.Context, id string) []string {
	t.Helper()
	ch, err := cl.Frames(ctx, id)
	if err != nil {
		t.Error(err)
		return nil
	}
	var out []string
	for f := range ch {
		out = append(out, f)
	}
	return out
}

// TestFrames: the frames of Frames are exactly those a plain HTTP reader
// gets from /events, for a finished stream and for one still streaming.
func TestFrames(t *testing.T) {
	_, ts := newServer(t)
	cl := newClient(t, ts.URL)
	ctx := t.Context()

	finished := record(t, cl, wire.RunRequest{Prompt: "one\ntwo :three", Streams: []wire.StreamSpec{{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(0.0)}}}})
	live, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(300, 1000)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id string
	}{{"finished", finished.Streams[0].ID}, {"live", live.Streams[0].ID}} {
		t.Run(tt.name, func(t *testing.T) {
			var got, want []string
			var wg sync.WaitGroup
			wg.Go(func() { got = collectFrames(t, cl, ctx, tt.id) })
			wg.Go(func() { want = rawFrames(t, cl.EventsURL(tt.id)) })
			wg.Wait()
			if len(got) != len(want) || len(got) < 3 {
				t.Fatalf("%d frames, plain reader %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("frame %d = %q, plain reader %q", i, got[i], want[i])
				}
			}
			if first := got[0]; !strings.HasPrefix(first, "id: 0\ndata: {\"seq\":0,") || !strings.HasSuffix(first, "\nevent: phase") {
				t.Errorf("first frame %q", first)
			}
			if last := got[len(got)-1]; !strings.HasPrefix(last, "id: "+strconv.Itoa(len(got)-1)+"\n") || !strings.HasSuffix(last, "\nevent: done") {
				t.Errorf("last frame %q", last)
			}
		})
	}
}

// TestFramesErrors: refusals are errors like Subscribe's; cancelling ctx
// closes the channel of a live stream, before the stream's end.
func TestFramesErrors(t *testing.T) {
	srv, ts := newServer(t)
	cl := newClient(t, ts.URL)
	if _, err := cl.Frames(context.Background(), "s_nope"); !client.IsNotFound(err) {
		t.Errorf("unknown stream: %v", err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") }))
	defer html.Close()
	if _, err := newClient(t, html.URL).Frames(context.Background(), "s_x"); err == nil || !strings.Contains(err.Error(), "does not answer like a Tokenloom server") {
		t.Errorf("not an SSE server: %v", err)
	}

	run, err := cl.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 500)}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.CancelRun(context.Background(), run.ID)
	ctx, cancel := context.WithCancel(context.Background())
	frames, err := cl.Frames(ctx, run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		<-frames
	}
	cancel()
	var rest []frameText
	for f := range frames {
		rest = append(rest, frameText(f))
	}
	checkClosedByCancel(t, srv, rest, 1)
}

// frameText is a frame of Frames; its stream's last frame is its terminal
// event's.
type frameText string

func (f frameText) Terminal() bool {
	return strings.HasSuffix(string(f), "\nevent: done") || strings.HasSuffix(string(f), "\nevent: error")
}

func TestEventsURL(t *testing.T) {
	for _, tt := range []struct{ base, id, want string }{
		{"http://127.0.0.1:8765", "s_0b2e", "http://127.0.0.1:8765/events?stream=s_0b2e"},
		{"http://127.0.0.1:8765/", "s_0b2e", "http://127.0.0.1:8765/events?stream=s_0b2e"},
		{"http://[::1]:9/", "a b&c'", "http://[::1]:9/events?stream=a+b%26c%27"},
	} {
		if got := newClient(t, tt.base).EventsURL(tt.id); got != tt.want {
			t.Errorf("EventsURL(%q) on %s = %q, want %q", tt.id, tt.base, got, tt.want)
		}
	}
}
