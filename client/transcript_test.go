package client_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TestTranscriptEvents decodes a finished run's transcript into the events
// a client following its streams sees: every event once, each stream in
// its order, all in t_ms order; a broken event is refused.
func TestTranscriptEvents(t *testing.T) {
	_, ts := newServer(t)
	cl := newClient(t, ts.URL)
	ctx := t.Context()
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "one two three", Streams: []wire.StreamSpec{flood(40, 400), {Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(100.0)}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range run.Streams {
		subscribeAll(t, cl, st.ID)
	}
	tr, err := cl.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := client.TranscriptEvents(tr)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]strings.Builder, len(tr.Streams))
	count := make([]int, len(tr.Streams))
	seq := []int64{-1, -1}
	for k, ev := range evs {
		if k > 0 && ev.TMs < evs[k-1].TMs {
			t.Fatalf("event %d at %v ms after one at %v ms", k, ev.TMs, evs[k-1].TMs)
		}
		if ev.Seq != seq[ev.Index]+1 || ev.Stream != tr.Streams[ev.Index].ID {
			t.Fatalf("stream %d: event %d of %s after %d", ev.Index, ev.Seq, ev.Stream, seq[ev.Index])
		}
		seq[ev.Index] = ev.Seq
		count[ev.Index]++
		if ev.Type == wire.EventToken {
			texts[ev.Index].WriteString(ev.Text)
		}
	}
	for i, st := range tr.Streams {
		if count[i] != len(st.Events) || texts[i].String() != st.Text {
			t.Errorf("stream %d: %d of %d events, text %q of %q", i, count[i], len(st.Events), texts[i].String(), st.Text)
		}
	}
	if !evs[len(evs)-1].Terminal() {
		t.Error("the last event ends no stream")
	}
	tr.Streams[1].Events[1].Data = json.RawMessage(`{"seq":1,"t_ms":1}`) // a token without text
	if _, err := client.TranscriptEvents(tr); err == nil || !strings.Contains(err.Error(), "without text") {
		t.Errorf("broken event: %v", err)
	}
}
