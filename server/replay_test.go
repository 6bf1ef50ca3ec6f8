package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// recordDemoRuns runs, on a real-time server, an async run of four demo
// streams — a paced echo, a flood, an unknown demo (an error event) and a
// long flood cancelled after a few tokens — and a sync run of two, and
// returns their transcripts. The flood's done event is given Ollama
// metrics, so that the replay of the original stats is checked too.
func recordDemoRuns(t *testing.T) []*wire.Transcript {
	t.Helper()
	_, cl := start(t, server.Config{})
	async := startRun(t, cl, wire.RunRequest{Prompt: "one two three four five", Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(200.0)}},
		flood(20, 500),
		{Model: "demo/nope"},
		flood(100000, 400),
	}})
	ctx := t.Context()
	long, err := cl.Subscribe(ctx, async.Streams[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for ev := range long {
		if ev.Type == wire.EventToken {
			if tokens++; tokens == 5 {
				if err := cl.CancelStream(ctx, async.Streams[3].ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	asyncTr := transcriptOf(t, cl, async)

	// Ollama's metrics on the flood's done event, as if Ollama had sent it.
	st := &asyncTr.Streams[1]
	last := &st.Events[len(st.Events)-1]
	var d wire.EventData
	if err := json.Unmarshal(last.Data, &d); err != nil {
		t.Fatal(err)
	}
	d.Stats.Ollama = &wire.OllamaStats{EvalCount: 20, EvalDurationNs: 39e6, PromptEvalCount: 7, PromptEvalDurationNs: 3e6, LoadDurationNs: 1e9, TotalDurationNs: 1.1e9}
	last.Data = mustJSON(d)
	st.Stats = d.Stats

	sync := startRun(t, cl, wire.RunRequest{Prompt: "a b c", Mode: wire.ModeSync, Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(100.0)}},
		flood(5, 200),
	}})
	return []*wire.Transcript{asyncTr, transcriptOf(t, cl, sync)}
}

// startFake runs a server whose clock is fake and returns it with its
// clock and a client.
func startFake(t *testing.T, cfg server.Config) (*server.Server, *fakeclock.Clock, *client.Client) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	cfg.Clock = clock
	srv, cl := start(t, cfg)
	return srv, clock, cl
}

// playOut advances the fake clock until every stream of the server has
// ended.
func playOut(t *testing.T, srv *server.Server, clock *fakeclock.Clock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	if err := clock.RunUntilIdle(ctx, fakeclock.Playing(srv)); err != nil {
		t.Fatalf("replay did not end: %v (%+v, %d timers pending)", err, srv.Stats(), clock.Pending())
	}
}

func decodeAll(t *testing.T, st wire.StreamTranscript) []wire.EventData {
	t.Helper()
	out := make([]wire.EventData, len(st.Events))
	for i, e := range st.Events {
		if err := json.Unmarshal(e.Data, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// near reports whether a replayed time equals the original one divided by
// the speed: run times have microsecond precision, and the replay's are
// truncated to the microsecond.
func near(replayed, original, speed float64) bool {
	return math.Abs(replayed-original/speed) <= 0.001+1e-9
}

// TestReplayTiming replays recorded demo runs at 1×, 2× and 4× under a fake
// clock: every event comes back in order with its type, phase, text, end
// reason or error, at the original t_ms divided by the speed (so the gaps
// between events are the original gaps divided by the speed), with the
// original Ollama metrics and the stats of the original divided by the
// speed; and GET /events serves the replayed streams like any other.
func TestReplayTiming(t *testing.T) {
	recorded := recordDemoRuns(t)
	for _, speed := range []float64{1, 2, 4} {
		for _, orig := range recorded {
			t.Run(fmt.Sprintf("%s at %g×", orig.Mode, speed), func(t *testing.T) {
				srv, clock, cl := startFake(t, server.Config{})
				created, err := cl.StartReplay(context.Background(), orig, speed)
				if err != nil {
					t.Fatal(err)
				}
				if created.Mode != orig.Mode || len(created.Streams) != len(orig.Streams) {
					t.Fatalf("replay created %+v", created)
				}
				for i, s := range created.Streams {
					if s.Model != orig.Streams[i].Model || s.Label != "replay of "+orig.Streams[i].Model || s.Index != i {
						t.Errorf("stream %d created as %+v", i, s)
					}
				}
				playOut(t, srv, clock)

				rep, err := cl.Run(context.Background(), created.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !rep.Finished || rep.ReplayOf != orig.ID || rep.Speed != speed || rep.Prompt != orig.Prompt || rep.Mode != orig.Mode {
					t.Errorf("replay transcript: finished %v, replay of %q at %v, prompt %q, mode %s", rep.Finished, rep.ReplayOf, rep.Speed, rep.Prompt, rep.Mode)
				}
				if _, err := wire.CheckTranscript(rep); err != nil {
					t.Errorf("the replay's transcript breaks the contract: %v", err)
				}
				if !near(rep.WallMs, orig.WallMs, speed) {
					t.Errorf("wall time %v, want %v / %v", rep.WallMs, orig.WallMs, speed)
				}
				for i, ost := range orig.Streams {
					rst := rep.Streams[i]
					want, got := decodeAll(t, ost), decodeAll(t, rst)
					if len(got) != len(want) {
						t.Fatalf("stream %d (%s): %d events, want %d", i, ost.Model, len(got), len(want))
					}
					for j := range want {
						w, g := want[j], got[j]
						if rst.Events[j].Event != ost.Events[j].Event || g.Phase != w.Phase || g.Text != w.Text || g.Reason != w.Reason || g.Message != w.Message || g.Hint != w.Hint {
							t.Fatalf("stream %d event %d = %s %s, want %s %s", i, j, rst.Events[j].Event, rst.Events[j].Data, ost.Events[j].Event, ost.Events[j].Data)
						}
						if !near(g.TMs, w.TMs, speed) {
							t.Errorf("stream %d event %d at %v ms, want %v / %v", i, j, g.TMs, w.TMs, speed)
						}
						if j > 0 && math.Abs((g.TMs-got[j-1].TMs)-(w.TMs-want[j-1].TMs)/speed) > 0.002+1e-9 {
							t.Errorf("stream %d: gap before event %d is %v ms, want %v / %v", i, j, g.TMs-got[j-1].TMs, w.TMs-want[j-1].TMs, speed)
						}
					}
					if rst.Text != ost.Text || rst.Error != ost.Error {
						t.Errorf("stream %d: text %q error %q, want %q %q", i, rst.Text, rst.Error, ost.Text, ost.Error)
					}
					ws, gs := want[len(want)-1].Stats, got[len(got)-1].Stats
					if gs.Tokens != ws.Tokens || !reflect.DeepEqual(gs.Ollama, ws.Ollama) {
						t.Errorf("stream %d stats %+v (ollama %+v), want %+v (ollama %+v)", i, gs, gs.Ollama, ws, ws.Ollama)
					}
					// The phases as recorded, by the clock they came from.
					if gs.Clock != ws.Clock || len(gs.Phases) != len(ws.Phases) || i == 0 && (len(ws.Phases) == 0 || ws.Clock != wire.ClockServer) {
						t.Errorf("stream %d: phases %+v by %q, want %+v by %q", i, gs.Phases, gs.Clock, ws.Phases, ws.Clock)
					}
					for k := range min(len(gs.Phases), len(ws.Phases)) {
						if g, w := gs.Phases[k], ws.Phases[k]; g.Phase != w.Phase || !near(g.StartMs, w.StartMs, speed) || !near(g.EndMs, w.EndMs, speed) {
							t.Errorf("stream %d phase %d: %+v, want %+v / %v", i, k, g, w, speed)
						}
					}
					for _, f := range []struct {
						name      string
						got, want float64
					}{{"start_ms", gs.StartMs, ws.StartMs}, {"end_ms", gs.EndMs, ws.EndMs}, {"ttft_ms", gs.TTFTMs, ws.TTFTMs}, {"duration_ms", gs.DurationMs, ws.DurationMs},
						{"busy_ms", gs.BusyMs, ws.BusyMs}, {"queued_ms", gs.QueuedMs, ws.QueuedMs}} {
						if math.Abs(f.got-f.want/speed) > 0.002+1e-9 {
							t.Errorf("stream %d: %s %v, want %v / %v", i, f.name, f.got, f.want, speed)
						}
					}

					// The replayed stream is served like any other.
					evs := collect(t, cl, created.Streams[i].ID)
					if len(evs) != len(rst.Events) || string(evs[len(evs)-1].Raw) != string(rst.Events[len(evs)-1].Data) {
						t.Errorf("stream %d: GET /events gave %d events, transcript %d", i, len(evs), len(rst.Events))
					}
				}
			})
		}
	}
}

// TestReplayCancel cancels a replay midway, as a run is cancelled: streams
// that had ended keep their original ends, the others end at once with
// done/cancelled after the original's first events.
func TestReplayCancel(t *testing.T) {
	orig := recordDemoRuns(t)[0]
	srv, clock, cl := startFake(t, server.Config{})
	created, err := cl.StartReplay(context.Background(), orig, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Play until the long stream (cancelled in the original after five
	// tokens) has sent two tokens, then cancel the whole replay.
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	longID := created.Streams[3].ID
	err = clock.RunUntil(ctx, fakeclock.Playing(srv), func() bool {
		tr, err := cl.Run(ctx, created.ID)
		return err == nil && strings.Count(tr.Streams[3].Text, " ") >= 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.CancelRun(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	playOut(t, srv, clock)
	rep, err := cl.Run(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := 0
	for i, rst := range rep.Streams {
		want, got := decodeAll(t, orig.Streams[i]), decodeAll(t, rst)
		last := got[len(got)-1]
		if reflect.DeepEqual(stripTimes(got), stripTimes(want)) {
			continue // it had ended before the cancel
		}
		cancelled++
		if rst.Events[len(got)-1].Event != wire.EventDone || last.Reason != wire.ReasonCancelled {
			t.Errorf("stream %d ended with %s", i, rst.Events[len(got)-1].Data)
		}
		if !reflect.DeepEqual(stripTimes(got[:len(got)-1]), stripTimes(want[:len(got)-1])) {
			t.Errorf("stream %d: events before the cancel differ from the original's", i)
		}
	}
	if cancelled == 0 || !strings.HasPrefix(orig.Streams[3].Text, rep.Streams[3].Text) || rep.Streams[3].ID != longID {
		t.Errorf("%d streams cancelled; long stream text %q", cancelled, rep.Streams[3].Text)
	}
}

// stripTimes keeps what a replay must reproduce exactly.
func stripTimes(evs []wire.EventData) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = fmt.Sprintf("%d %s %q %s %s %s", e.Seq, e.Phase, e.Text, e.Reason, e.Message, e.Hint)
	}
	return out
}

// TestReplayErrors sends bad replay bodies: each is refused with a 4xx and
// the contract's JSON error with a hint, and starts nothing.
func TestReplayErrors(t *testing.T) {
	orig := recordDemoRuns(t)[0] // four streams
	srv, _, _ := startFake(t, server.Config{MaxReplayBytes: 256 << 10, MaxStreamsPerRun: 4, MaxStreamEvents: 100})
	body := func(mut func(*wire.Transcript), speed any) []byte {
		raw, _ := json.Marshal(orig)
		var tr wire.Transcript
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		mut(&tr)
		m := map[string]any{"transcript": &tr}
		if speed != nil {
			m["speed"] = speed
		}
		return mustJSON(m)
	}
	same := func(*wire.Transcript) {}
	tests := []struct {
		name    string
		body    []byte
		status  int
		message string
	}{
		{"empty body", nil, 400, "empty request body"},
		{"not JSON", []byte("hello"), 400, "malformed JSON"},
		{"transcript not an object", []byte(`{"transcript": 5}`), 400, "malformed JSON"},
		{"a bare transcript", mustJSON(orig), 400, "unknown field"},
		{"no transcript", []byte(`{"speed": 2}`), 400, "no transcript"},
		{"unknown field", []byte(`{"transcript": {}, "sped": 2}`), 400, `unknown field "sped"`},
		{"speed 0", body(same, 0), 400, "speed 0 out of range"},
		{"negative speed", body(same, -2), 400, "speed -2 out of range"},
		{"speed 100", body(same, 100), 400, "speed 100 out of range"},
		{"speed as text", body(same, "fast"), 400, "malformed JSON"},
		{"speed 1e-300", body(same, 1e-300), 400, "speed 1e-300 out of range"},
		{"speed 0.05", body(same, 0.05), 400, "speed 0.05 out of range"},
		{"speed in capitals", []byte(`{"transcript": {}, "SPEED": 2}`), 400, `unknown field "SPEED"`},
		{"a stream of over a day", body(func(tr *wire.Transcript) {
			st := &tr.Streams[0]
			last := &st.Events[len(st.Events)-1]
			var d wire.EventData
			_ = json.Unmarshal(last.Data, &d)
			d.TMs = 1e300
			last.Data = mustJSON(d)
		}, nil), 400, "longer than"},
		{"no streams", body(func(tr *wire.Transcript) { tr.Streams = nil }, nil), 400, "the transcript is not a valid run: the run has no streams"},
		{"id gap", body(func(tr *wire.Transcript) { tr.Streams[1].Events[2].ID = 9 }, nil), 400, "stream 1 (demo/flood), event 2: id is 9, want 2"},
		{"unknown event type", body(func(tr *wire.Transcript) { tr.Streams[0].Events[0].Event = "tick" }, nil), 400, `stream 0 (demo/echo), event 0: unknown event type "tick"`},
		{"unreadable data", body(func(tr *wire.Transcript) { tr.Streams[0].Events[1].Data = json.RawMessage(`[1]`) }, nil), 400, "stream 0 (demo/echo), event 1: data of the token event is not the contract's JSON"},
		{"no terminal event", body(func(tr *wire.Transcript) {
			st := &tr.Streams[1]
			st.Events = st.Events[:len(st.Events)-1]
		}, nil), 400, "ends without a done or error event"},
		{"five streams", body(func(tr *wire.Transcript) {
			st := tr.Streams[0]
			st.Index = 4
			tr.Streams = append(tr.Streams, st)
		}, nil), 400, "5 streams in one replay (at most 4)"},
		{"too many events", body(func(tr *wire.Transcript) {
			st := &tr.Streams[1]
			end := st.Events[len(st.Events)-1]
			tokens := st.Events[1 : len(st.Events)-1]
			var evs []wire.LoggedEvent
			evs = append(evs, st.Events[0])
			st.Text = ""
			for len(evs) < 120 {
				for _, e := range tokens {
					var d wire.EventData
					_ = json.Unmarshal(e.Data, &d)
					d.Seq = int64(len(evs))
					st.Text += d.Text
					evs = append(evs, wire.LoggedEvent{Event: e.Event, ID: d.Seq, Data: mustJSON(d)})
				}
			}
			var d wire.EventData
			_ = json.Unmarshal(end.Data, &d)
			d.Seq = int64(len(evs))
			evs = append(evs, wire.LoggedEvent{Event: end.Event, ID: d.Seq, Data: mustJSON(d)})
			for i := range evs { // keep t_ms from going back
				var d wire.EventData
				_ = json.Unmarshal(evs[i].Data, &d)
				d.TMs = float64(i)
				evs[i].Data = mustJSON(d)
			}
			st.Events = evs
		}, nil), 400, "stream 1 (demo/flood): 122 events (at most 100)"},
		{"invalid model", body(func(tr *wire.Transcript) { tr.Streams[0].Model = "../etc" }, nil), 400, `stream 0: invalid model name "../etc"`},
		{"too big", body(func(tr *wire.Transcript) { tr.Prompt = strings.Repeat("a", 300<<10) }, nil), 413, "replay body over 262144 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, answer := doJSON(t, http.MethodPost, srv.URL()+"/api/replays", tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, answer)
			}
			var e wire.Error
			if err := json.Unmarshal(answer, &e); err != nil {
				t.Fatalf("answer is not JSON: %q", answer)
			}
			if !strings.Contains(e.Error, tt.message) {
				t.Errorf("error %q does not say %q", e.Error, tt.message)
			}
			if e.Hint == "" {
				t.Errorf("error %q has no hint", e.Error)
			}
		})
	}
	if st := srv.Stats(); st.Runs != 0 {
		t.Errorf("bad replays started %d runs", st.Runs)
	}
	if status, answer := doJSON(t, http.MethodGet, srv.URL()+"/api/replays", nil, nil); status != 405 {
		t.Errorf("GET /api/replays: %d %s", status, answer)
	}
}

// TestReplayLimits: replays count against the streams running at once, and
// the server's Close ends replays that are still playing.
func TestReplayLimits(t *testing.T) {
	orig := recordDemoRuns(t)[0] // four streams
	_, _, cl := startFake(t, server.Config{MaxActiveStreams: 6})
	ctx := context.Background()
	if _, err := cl.StartReplay(ctx, orig, 2); err != nil {
		t.Fatal(err)
	}
	_, err := cl.StartReplay(ctx, orig, 2)
	var apiErr *client.APIError
	if !errorsAs(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.Hint == "" {
		t.Fatalf("second replay over the cap: %v, want 429", err)
	}
	// The first replay never advances (its clock is fake): Close in the
	// cleanup must end it, which goleak checks.
}
