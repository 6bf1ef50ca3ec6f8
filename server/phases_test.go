package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/server"
)

// clockedOllama is an Ollama stand-in that keeps a request waiting for
// queued before its first byte, as Ollama at one slot keeps a request
// behind another, then streams three tokens and sends the durations of
// its clock in the last chunk, measured as Ollama measures them: total
// from the request's arrival, the rest split into a load (load long; the
// model is in memory, by /api/ps, unless cold), a prompt and the
// generation. The durations it sent come back on sent.
func clockedOllama(t *testing.T, queued, load time.Duration, cold bool, sent chan<- map[string]int64) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/ps", func(w http.ResponseWriter, r *http.Request) {
		if cold {
			fmt.Fprint(w, `{"models":[]}`)
			return
		}
		fmt.Fprint(w, `{"models":[{"name":"m:latest","model":"m:latest"}]}`)
	})
	mux.HandleFunc("/api/chat", func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		// Only once the body is read does the server notice a client that
		// hangs up, and end r.Context().
		_, _ = io.ReadAll(r.Body)
		const prompt = 20 * time.Millisecond
		select {
		case <-time.After(queued + load + prompt):
		case <-r.Context().Done():
			return
		}
		generating := time.Now()
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, tok := range []string{"one", " two", " three"} {
			fmt.Fprintf(w, `{"model":"m","message":{"role":"assistant","content":%q},"done":false}`+"\n", tok)
			w.(http.Flusher).Flush()
			time.Sleep(10 * time.Millisecond)
		}
		d := map[string]int64{
			"total_duration": int64(time.Since(arrived)), "load_duration": int64(load),
			"prompt_eval_duration": int64(prompt), "eval_duration": int64(time.Since(generating)),
		}
		final := map[string]any{"model": "m", "message": map[string]string{"role": "assistant", "content": ""},
			"done": true, "done_reason": "stop", "eval_count": 3, "prompt_eval_count": 2}
		for k, v := range d {
			final[k] = v
		}
		b, _ := json.Marshal(final)
		fmt.Fprintf(w, "%s\n", b)
		sent <- d
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL
}

// phaseNames lists the phases' names.
func phaseNames(ps []wire.PhaseSpan) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Phase)
	}
	return out
}

// TestServerClockPhases: when the server's last chunk says how it spent
// the request's time, the stream's phases are set from it at the end:
// the request's wait before its first byte is queued from the moment it
// was sent (not from when a guess could tell), exactly
// total − load − prompt_eval − eval long, and the busy time is the rest.
// A load is a phase when the model was not in memory at the request, or
// took as long as a cold start; else it is the scheduler handing over
// the model, and no phase: neither busy nor queued.
func TestServerClockPhases(t *testing.T) {
	for _, tt := range []struct {
		name      string
		load      time.Duration
		cold      bool
		loadPhase bool
	}{
		{"cold", 30 * time.Millisecond, true, true},
		{"in memory", 3 * time.Millisecond, false, false},
		{"in memory, a long load", figures.ColdLoad + 20*time.Millisecond, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			durations := make(chan map[string]int64, 1)
			const queued = 300 * time.Millisecond
			_, cl := start(t, server.Config{OllamaURL: clockedOllama(t, queued, tt.load, tt.cold, durations)})
			run := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: []wire.StreamSpec{{Model: "m"}}})
			evs := collect(t, cl, run.Streams[0].ID)
			last := evs[len(evs)-1]
			st := last.Stats
			if last.Type != wire.EventDone || st == nil {
				t.Fatalf("end %+v", last)
			}
			d := <-durations
			ms := func(k string) float64 { return float64(d[k]) / 1e6 }
			wantQueued := ms("total_duration") - ms("load_duration") - ms("prompt_eval_duration") - ms("eval_duration")
			if st.Clock != wire.ClockServer || math.Abs(st.QueuedMs-wantQueued) > 0.002 || wantQueued < float64(queued.Milliseconds()) {
				t.Errorf("clock %q, queued %.3f ms: want the server's, total − load − prompt − eval = %.3f ms", st.Clock, st.QueuedMs, wantQueued)
			}
			want := ms("prompt_eval_duration") + ms("eval_duration")
			names := []string{wire.PhaseQueued, wire.PhasePrompt, wire.PhaseGenerating}
			if tt.loadPhase {
				want += ms("load_duration")
				names = append([]string{wire.PhaseLoading}, names...)
			}
			if math.Abs(st.BusyMs-want) > 0.004 {
				t.Errorf("busy %.3f ms, want %.3f ms (load counted: %v)", st.BusyMs, want, tt.loadPhase)
			}
			if got := phaseNames(st.Phases); !slices.Equal(got, names) {
				t.Fatalf("phases %v, want %v", st.Phases, names)
			}
			// The request went out right after the stream's first phase
			// event: its phases begin there, one after another (a load
			// that is no phase leaves its time out before them), and the
			// generation after the prompt contains the tokens.
			p := st.Phases
			firstEvent := evs[0].TMs
			from := p[0].StartMs
			if !tt.loadPhase {
				from -= ms("load_duration")
			}
			if evs[0].Type != wire.EventPhase || from < firstEvent-0.002 || from > evs[1].TMs {
				t.Errorf("phases %+v; first event %+v: want them from the request on", p, evs[0])
			}
			for i := 1; i < len(p); i++ {
				if p[i].StartMs != p[i-1].EndMs {
					t.Errorf("phases %+v: a gap or an overlap at %d", p, i)
				}
			}
			gen := p[len(p)-1]
			if first := evs[slices.IndexFunc(evs, func(e client.Event) bool { return e.Type == wire.EventToken })].TMs; first < gen.StartMs || st.EndMs < gen.EndMs {
				t.Errorf("first token at %.1f, end at %.1f: phases %+v", first, st.EndMs, p)
			}
			if _, err := wire.CheckTranscript(mustRun(t, cl, run.ID)); err != nil {
				t.Errorf("transcript: %v", err)
			}
		})
	}
}

// mustRun fetches a finished run's transcript.
func mustRun(t *testing.T, cl *client.Client, id string) *wire.Transcript {
	t.Helper()
	tr, err := cl.Run(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestObservedPhases: a stream that does not end normally keeps the
// phases it was seen in, and says they are Tokenloom's observation.
func TestObservedPhases(t *testing.T) {
	durations := make(chan map[string]int64, 1)
	_, cl := start(t, server.Config{OllamaURL: clockedOllama(t, time.Hour, 3*time.Millisecond, false, durations)})
	run := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: []wire.StreamSpec{{Model: "m"}}})
	ch, err := cl.Subscribe(t.Context(), run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	first := <-ch // the prompt phase: the request is out
	if err := cl.CancelRun(t.Context(), run.ID); err != nil {
		t.Fatal(err)
	}
	var last client.Event
	for ev := range ch {
		last = ev
	}
	st := last.Stats
	if last.Reason != wire.ReasonCancelled || st == nil || st.Clock != wire.ClockObserved ||
		!slices.Equal(phaseNames(st.Phases), []string{wire.PhasePrompt}) || st.Phases[0].StartMs != first.TMs || st.Phases[0].EndMs != st.EndMs {
		t.Errorf("cancelled stream: %+v, stats %+v", last, st)
	}
}

// TestDemoEngines, on a fake clock: demo/oneslot answers a run's streams
// one at a time, the other queued for exactly the first one's 0.5 s;
// demo/shared splits one engine between them, their tokens alternating on
// its ticks, so that one ends at 0.9 s and the other at 1 s; the streams of
// another run have engines of their own.
func TestDemoEngines(t *testing.T) {
	srv, clock, cl := startFake(t, server.Config{})
	five := &wire.Options{NumPredict: ptr(5)} // 0.5 s alone
	both := func(model string) []wire.StreamSpec {
		return []wire.StreamSpec{{Model: model, Options: five}, {Model: model, Options: five}}
	}
	oneslot := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: both(wire.DemoOneSlot)})
	other := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: []wire.StreamSpec{{Model: wire.DemoOneSlot, Options: five}}})
	shared := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: both(wire.DemoShared)})
	playOut(t, srv, clock)
	var queued, ends []float64
	for _, s := range append(oneslot.Streams, other.Streams...) {
		evs := collect(t, cl, s.ID)
		st := evs[len(evs)-1].Stats
		if textOf(evs) != " one two three four five" || st.Clock != wire.ClockServer || st.BusyMs != 500 {
			t.Errorf("oneslot %s: %q, clock %q, busy %v ms", s.ID, textOf(evs), st.Clock, st.BusyMs)
		}
		queued = append(queued, st.QueuedMs)
		ends = append(ends, st.EndMs)
		want := []string{wire.PhaseGenerating}
		if st.QueuedMs > 0 {
			want = []string{wire.PhaseQueued, wire.PhaseGenerating}
		}
		if !slices.Equal(phaseNames(st.Phases), want) {
			t.Errorf("queued %v ms: phases %+v, want %v", st.QueuedMs, st.Phases, want)
		}
	}
	// One of the run's two waited for the other's 0.5 s; the other run's
	// stream did not wait for them.
	slices.Sort(queued[:2])
	slices.Sort(ends[:2])
	if !slices.Equal(queued, []float64{0, 500, 0}) || !slices.Equal(ends, []float64{500, 1000, 500}) {
		t.Errorf("queued %v ms, ended at %v ms: want one of the first two queued 500 ms, ending at 1000", queued, ends)
	}
	var busy []float64
	for _, s := range shared.Streams {
		evs := collect(t, cl, s.ID)
		st := evs[len(evs)-1].Stats
		if st.QueuedMs != 0 || textOf(evs) != " one two three four five" {
			t.Errorf("shared %s: queued %v ms, %q", s.ID, st.QueuedMs, textOf(evs))
		}
		busy = append(busy, st.BusyMs)
	}
	if slices.Sort(busy); !slices.Equal(busy, []float64{900, 1000}) {
		t.Errorf("sharing the engine, busy %v ms, want 900 and 1000", busy)
	}
}
