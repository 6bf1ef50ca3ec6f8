package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// TestWireFrames reads /events as curl would and checks every frame against
// the contract: id = seq from 0, event type, one line of JSON data, exactly
// one terminal event, last; and the frames equal the transcript.
func TestWireFrames(t *testing.T) {
	srv, cl := start(t, server.Config{})
	prompt := "Streams of tokens, one frame each."
	run := startRun(t, cl, wire.RunRequest{Prompt: prompt, Streams: []wire.StreamSpec{echo()}})
	frames := rawEvents(t, srv.URL(), run.Streams[0].ID, -1)

	var text strings.Builder
	for i, f := range frames {
		if len(f.lines) != 3 {
			t.Fatalf("frame %d has %d lines: %q", i, len(f.lines), f.lines)
		}
		if f.id != strconv.Itoa(i) {
			t.Fatalf("frame %d has id %q", i, f.id)
		}
		d := decodeData(t, f)
		if d.Seq != int64(i) {
			t.Fatalf("frame %d has seq %d", i, d.Seq)
		}
		terminal := f.event == wire.EventDone || f.event == wire.EventError
		if terminal != (i == len(frames)-1) {
			t.Fatalf("frame %d of %d is %q", i, len(frames), f.event)
		}
		switch f.event {
		case wire.EventPhase:
			if d.Phase == "" {
				t.Errorf("phase frame without phase: %s", f.data)
			}
		case wire.EventToken:
			text.WriteString(d.Text)
		case wire.EventDone:
			if d.Reason != wire.ReasonStop || d.Stats == nil || d.Stats.Tokens != len(strings.Fields(prompt)) {
				t.Errorf("done frame %s", f.data)
			}
		default:
			t.Fatalf("unexpected event %q", f.event)
		}
		if i > 0 && d.TMs < decodeData(t, frames[i-1]).TMs {
			t.Errorf("t_ms goes back at frame %d", i)
		}
	}
	if text.String() != prompt {
		t.Errorf("text %q, want %q", text.String(), prompt)
	}

	tr, err := cl.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Finished || tr.Mode != wire.ModeAsync || tr.Prompt != prompt || len(tr.Streams) != 1 {
		t.Fatalf("transcript %+v", tr)
	}
	st := tr.Streams[0]
	if st.Text != prompt || len(st.Events) != len(frames) || st.Stats == nil {
		t.Fatalf("transcript stream: text %q, %d events, stats %v", st.Text, len(st.Events), st.Stats)
	}
	for i, e := range st.Events {
		if e.Event != frames[i].event || strconv.FormatInt(e.ID, 10) != frames[i].id || string(e.Data) != frames[i].data {
			t.Errorf("transcript event %d = %s %d %s, wire %s %s %s", i, e.Event, e.ID, e.Data, frames[i].event, frames[i].id, frames[i].data)
		}
	}
}

// TestTokenRoundTrip sends token texts that break naive SSE handling through
// the real server and client and compares them exactly.
func TestTokenRoundTrip(t *testing.T) {
	_, cl := start(t, server.Config{})
	big := " " + strings.Repeat("x", 70<<10) // one token over 64 KiB
	want := []string{":leading-colon", " line\nfeed", " crlf\r\nend", " cr\ronly", " data:fake", " emoji😀🧵", " \"quoted\"<b>&amp;", " tab\there", " nul\x00byte", " \u2028sep", big}
	run := startRun(t, cl, wire.RunRequest{Prompt: strings.Join(want, ""), Streams: []wire.StreamSpec{echo()}})
	got := tokensOf(collect(t, cl, run.Streams[0].ID))
	if len(got) != len(want) {
		t.Fatalf("got %d tokens, want %d: %q", len(got), len(want), got[:min(len(got), 12)])
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, got[i][:min(len(got[i]), 40)], want[i][:min(len(want[i]), 40)])
		}
	}
}

// TestResumeFromEveryPosition asks for the events after each id of a
// finished stream before its last and expects exactly the rest, once each
// (after the last, the answer is 204: TestResumeAfterTheEnd).
func TestResumeFromEveryPosition(t *testing.T) {
	srv, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "one two three four five six seven", Streams: []wire.StreamSpec{echo()}})
	all := collect(t, cl, run.Streams[0].ID)
	last := all[len(all)-1].Seq
	for after := int64(-1); after < last; after++ {
		frames := rawEvents(t, srv.URL(), run.Streams[0].ID, after)
		if int64(len(frames)) != last-after {
			t.Fatalf("after %d: %d frames, want %d", after, len(frames), last-after)
		}
		for i, f := range frames {
			if want := strconv.FormatInt(after+1+int64(i), 10); f.id != want {
				t.Fatalf("after %d: frame %d has id %s, want %s", after, i, f.id, want)
			}
			if f.data != string(all[after+1+int64(i)].Raw) {
				t.Fatalf("after %d: frame %d differs from the first reading", after, i)
			}
		}
	}
}

// TestResumeLive resumes a stream that is still generating.
func TestResumeLive(t *testing.T) {
	srv, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(300, 1000)}})
	id := run.Streams[0].ID

	// Read the first few frames, then drop the connection.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/events?stream="+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 600)
	n, _ := resp.Body.Read(buf)
	cancel()
	resp.Body.Close()
	lastID := int64(-1)
	for line := range strings.SplitSeq(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			lastID, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if lastID < 0 {
		t.Fatalf("no complete frame in %q", buf[:n])
	}
	rest := rawEvents(t, srv.URL(), id, lastID)
	all := collect(t, cl, id)
	if int64(len(rest)) != int64(len(all))-lastID-1 {
		t.Fatalf("resumed after %d: %d frames, want %d", lastID, len(rest), int64(len(all))-lastID-1)
	}
	if rest[0].id != strconv.FormatInt(lastID+1, 10) {
		t.Errorf("resume starts at %s", rest[0].id)
	}
}

// transcriptOf waits for a run's streams and returns its transcript.
func transcriptOf(t *testing.T, cl *client.Client, run *wire.RunCreated) *wire.Transcript {
	t.Helper()
	for _, s := range run.Streams {
		collect(t, cl, s.ID)
	}
	tr, err := cl.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Finished {
		t.Fatalf("run %s not finished after all its streams ended", run.ID)
	}
	return tr
}

type span struct {
	firstToken, end float64
	firstPhase      string
}

func spanOf(t *testing.T, st wire.StreamTranscript) span {
	t.Helper()
	var s span
	s.firstToken = -1
	for i, e := range st.Events {
		var d wire.EventData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			s.firstPhase = d.Phase
		}
		if e.Event == wire.EventToken && s.firstToken < 0 {
			s.firstToken = d.TMs
		}
		s.end = d.TMs
	}
	return s
}

// TestSyncAndAsync: in sync mode the second stream waits and starts after
// the first one's terminal event; in async mode both overlap.
func TestSyncAndAsync(t *testing.T) {
	_, cl := start(t, server.Config{})
	// The streams' pace per mode: in async mode they must overlap, which
	// they do unless one starts a whole stream (a second) after another.
	rates := map[string]float64{wire.ModeSync: 200, wire.ModeAsync: 40}
	for _, mode := range []string{wire.ModeSync, wire.ModeAsync} {
		t.Run(mode, func(t *testing.T) {
			r := rates[mode]
			run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Mode: mode, Streams: []wire.StreamSpec{flood(40, r), flood(40, r), flood(10, r)}})
			tr := transcriptOf(t, cl, run)
			a, b, c := spanOf(t, tr.Streams[0]), spanOf(t, tr.Streams[1]), spanOf(t, tr.Streams[2])
			switch mode {
			case wire.ModeSync:
				if b.firstPhase != wire.PhaseWaiting || c.firstPhase != wire.PhaseWaiting {
					t.Errorf("later streams start with phases %q, %q; want waiting", b.firstPhase, c.firstPhase)
				}
				if !(b.firstToken > a.end && c.firstToken > b.end) {
					t.Errorf("sync streams overlap: first tokens %.1f, %.1f after ends %.1f, %.1f", b.firstToken, c.firstToken, a.end, b.end)
				}
			case wire.ModeAsync:
				if b.firstPhase == wire.PhaseWaiting {
					t.Errorf("async stream waits")
				}
				if !(b.firstToken < a.end && a.firstToken < b.end) {
					t.Errorf("async streams do not overlap: %+v %+v", a, b)
				}
			}
			for i, st := range tr.Streams {
				if st.Stats == nil || st.Stats.Tokens != []int{40, 40, 10}[i] {
					t.Errorf("stream %d stats %+v", i, st.Stats)
				}
			}
		})
	}
}

// runMs is a run time in the transcript's milliseconds, which have
// microsecond precision.
func runMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tokenTimesIn are the run times of the token events of a stream's
// transcript.
func tokenTimesIn(t *testing.T, st wire.StreamTranscript) []float64 {
	t.Helper()
	var at []float64
	for i, d := range decodeAll(t, st) {
		if st.Events[i].Event == wire.EventToken {
			at = append(at, d.TMs)
		}
	}
	return at
}

// spread is the run times of n tokens spread evenly over total from
// start, as the demo scripts place them.
func spread(start, total time.Duration, n int) []float64 {
	var at []float64
	for i := range n {
		at = append(at, runMs(start+total*time.Duration(i+1)/time.Duration(n)))
	}
	return at
}

// TestDemoTimings runs the classic example on a fake clock: hello (2 s)
// and hamlet (3 s) take exactly the sum in sync mode, hamlet waiting for
// hello's end, and exactly the longer one in async mode.
func TestDemoTimings(t *testing.T) {
	srv, clock, cl := startFake(t, server.Config{})
	for _, tt := range []struct {
		mode         string
		hamletStart  time.Duration
		wall         float64
		hamletPhases []wire.PhaseSpan
	}{
		{wire.ModeSync, 2 * time.Second, 5000, []wire.PhaseSpan{{Phase: wire.PhaseWaiting, StartMs: 0, EndMs: 2000}, {Phase: wire.PhaseGenerating, StartMs: 2000, EndMs: 5000}}},
		{wire.ModeAsync, 0, 3000, []wire.PhaseSpan{{Phase: wire.PhaseGenerating, StartMs: 0, EndMs: 3000}}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Mode: tt.mode, Streams: []wire.StreamSpec{{Model: wire.DemoHello}, {Model: wire.DemoHamlet}}})
			playOut(t, srv, clock)
			tr := transcriptOf(t, cl, run)
			hello, hamlet := tr.Streams[0], tr.Streams[1]
			if hello.Text != "Hello world" || hamlet.Text != "To be, or not to be, that is the question." {
				t.Errorf("texts %q, %q", hello.Text, hamlet.Text)
			}
			if got, want := tokenTimesIn(t, hello), spread(0, 2*time.Second, 2); !slices.Equal(got, want) {
				t.Errorf("hello's tokens at %v ms, want %v", got, want)
			}
			if got, want := tokenTimesIn(t, hamlet), spread(tt.hamletStart, 3*time.Second, 13); !slices.Equal(got, want) {
				t.Errorf("hamlet's tokens at %v ms, want %v", got, want)
			}
			if tr.WallMs != tt.wall || hello.Stats.DurationMs != 2000 || hamlet.Stats.DurationMs != 3000 || hamlet.Stats.StartMs != runMs(tt.hamletStart) {
				t.Errorf("wall time %v ms, durations %v and %v ms, hamlet from %v ms; want %v, 2000, 3000, from %v",
					tr.WallMs, hello.Stats.DurationMs, hamlet.Stats.DurationMs, hamlet.Stats.StartMs, tt.wall, runMs(tt.hamletStart))
			}
			if !slices.Equal(hamlet.Stats.Phases, tt.hamletPhases) || hamlet.Stats.Clock != wire.ClockServer {
				t.Errorf("hamlet's phases %+v (%s), want %+v", hamlet.Stats.Phases, hamlet.Stats.Clock, tt.hamletPhases)
			}
		})
	}
}

// TestDemoTasks plays the lesson's two tasks side by side on a fake clock:
// task 1's three steps end at exactly 2/3, 4/3 and 2 s, task 2's two at 1.5
// and 3 s, and the run takes the longer task, 3 s, not the sum.
func TestDemoTasks(t *testing.T) {
	srv, clock, cl := startFake(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "go", Streams: []wire.StreamSpec{{Model: wire.DemoTask1}, {Model: wire.DemoTask2}}})
	playOut(t, srv, clock)
	tr := transcriptOf(t, cl, run)
	for i, want := range []struct {
		text  string
		steps []float64
	}{
		{"task 1: step 1/3 done · step 2/3 done · step 3/3 done: task 1 finished", []float64{666.666, 1333.333, 2000}},
		{"task 2: step 1/2 done · step 2/2 done: task 2 finished", []float64{1500, 3000}},
	} {
		st := tr.Streams[i]
		if got := tokenTimesIn(t, st); st.Text != want.text || !slices.Equal(got, want.steps) {
			t.Errorf("task %d: %q, steps at %v ms, want %v", i+1, st.Text, got, want.steps)
		}
	}
	if tr.WallMs != 3000 {
		t.Errorf("side by side the tasks took %v ms, want 3000", tr.WallMs)
	}
}

// TestCancelOneStream cancels one stream of an async run; the other goes on
// to its end. The cancelled stream would run for 200 s; the other runs
// 2.5 s, and must end after the cancelled one: the cancel takes effect
// before it, and does not end it.
func TestCancelOneStream(t *testing.T) {
	const otherTokens = 1000
	_, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 500), flood(otherTokens, 400)}})
	ctx := t.Context()
	long, err := cl.Subscribe(ctx, run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	short, err := cl.Subscribe(ctx, run.Streams[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	var end client.Event
	for ev := range long {
		if ev.Type == wire.EventToken {
			if tokens++; tokens == 20 {
				if err := cl.CancelStream(ctx, run.Streams[0].ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		end = ev
	}
	if end.Type != wire.EventDone || end.Reason != wire.ReasonCancelled {
		t.Fatalf("cancelled stream ended with %+v", end)
	}
	if tokens < 20 {
		t.Errorf("cancelled stream sent %d tokens", tokens)
	}
	var shortEvs []client.Event
	for ev := range short {
		shortEvs = append(shortEvs, ev)
	}
	last := shortEvs[len(shortEvs)-1]
	t.Logf("cancelled after %d tokens at %.1f ms; the other stream ended at %.1f ms", tokens, end.TMs, last.TMs)
	if last.Reason != wire.ReasonStop || len(tokensOf(shortEvs)) != otherTokens {
		t.Errorf("other stream ended with %+v after %d tokens", last, len(tokensOf(shortEvs)))
	}
	if last.TMs <= end.TMs {
		t.Errorf("other stream ended at %.1f ms, before the cancel at %.1f ms", last.TMs, end.TMs)
	}
	// Cancelling again, or a finished stream, changes nothing.
	if err := cl.CancelStream(ctx, run.Streams[0].ID); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	if err := cl.CancelRun(ctx, run.ID); err != nil {
		t.Errorf("cancel finished run: %v", err)
	}
}

// TestCancelWaitingStream cancels a sync stream before its turn: it ends at
// once, and the next stream still waits for the one running.
func TestCancelWaitingStream(t *testing.T) {
	_, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Mode: wire.ModeSync, Streams: []wire.StreamSpec{flood(60, 200), flood(10, 200), flood(10, 200)}})
	if err := cl.CancelStream(context.Background(), run.Streams[1].ID); err != nil {
		t.Fatal(err)
	}
	tr := transcriptOf(t, cl, run)
	first, third := spanOf(t, tr.Streams[0]), spanOf(t, tr.Streams[2])
	if tr.Streams[1].Stats.Tokens != 0 || !strings.Contains(string(tr.Streams[1].Events[len(tr.Streams[1].Events)-1].Data), `"cancelled"`) {
		t.Errorf("cancelled waiting stream: %+v", tr.Streams[1])
	}
	if third.firstToken < first.end {
		t.Errorf("third stream started at %.1f before the first ended at %.1f", third.firstToken, first.end)
	}
}

// TestSlowSubscriber: a subscriber that reads nothing for 10 s, on a stream
// sending far more than its connection can hold, slows neither the source
// nor another subscriber of the same stream; once it reads, it catches up
// from the log with every event, byte for byte, even after its run has been
// evicted from the store meanwhile. A new subscriber after the eviction
// gets a 404, not a partial stream.
func TestSlowSubscriber(t *testing.T) {
	testenv.Long(t, "takes 11 s")
	// 3,000 tokens of 4 KiB at 300 a second: 12 MiB over 10 s, several times
	// what r3labs's queues (1,088 events) and the sockets of a reader with a
	// 16 KiB receive buffer can hold.
	const tokens, tokenSize, rate = 3000, 4 << 10, 300.0
	const quiet = 10 * time.Second
	word := strings.Repeat("x", tokenSize-1)
	prompt := strings.TrimPrefix(strings.Repeat(" "+word, tokens), " ")
	srv, cl := start(t, server.Config{MaxPromptBytes: 16 << 20, MaxBodyBytes: 16 << 20, RunTTL: 300 * time.Millisecond})
	// Stream 0 gets the slow subscriber; stream 1, paced alike, is the
	// control that nobody holds up.
	run := startRun(t, cl, wire.RunRequest{Prompt: prompt, Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(rate)}}, flood(tokens, rate)}})
	began := time.Now()
	slowID := run.Streams[0].ID

	slowConn := &countingConn{}
	slowHTTP := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
		slowConn.Conn = c
		return slowConn, nil
	}}}
	defer slowHTTP.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/events?stream="+slowID, nil)
	resp, err := slowHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	headerBytes := slowConn.read.Load()

	// Two fast subscribers, one per stream, read everything as it comes.
	fast := make([][]client.Event, 2)
	var wg sync.WaitGroup
	for i, s := range run.Streams {
		wg.Go(func() { fast[i] = collect(t, cl, s.ID) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slowEnd, controlEnd := fast[0][len(fast[0])-1], fast[1][len(fast[1])-1]
	if slowEnd.Type != wire.EventDone || slowEnd.Reason != wire.ReasonStop || len(tokensOf(fast[0])) != tokens ||
		controlEnd.Type != wire.EventDone || len(tokensOf(fast[1])) != tokens {
		t.Fatalf("streams ended with %+v after %d tokens, %+v after %d", slowEnd, len(tokensOf(fast[0])), controlEnd, len(tokensOf(fast[1])))
	}
	// Both streams ran to their ends while the slow subscriber read
	// nothing: neither the source nor the other subscriber waited for it.
	// How close they kept to the control is measured against how far the
	// control itself strayed from its schedule, which a loaded machine
	// stretches (and no less than a second): a held-up stream would stall
	// for the whole of the slow subscriber's silence.
	//
	// The source: every token of the held-up stream was stamped when the
	// control's token of the same rank was, both on the same schedule.
	a, b := tokenTimes(fast[0]), tokenTimes(fast[1])
	worst, controlLate := 0.0, 0.0
	for i := range a {
		worst = max(worst, math.Abs(a[i]-b[i]))
		controlLate = max(controlLate, b[i]-float64(i+1)/rate*1000)
	}
	scheduled := float64(tokens) / rate * 1000
	t.Logf("source: last token at %.0f ms (scheduled %.0f ms), the control's at %.0f ms, at most %.0f ms behind its schedule; largest gap between tokens of the same rank %.1f ms",
		a[len(a)-1], scheduled, b[len(b)-1], controlLate, worst)
	if worst > max(1000, controlLate) {
		t.Errorf("the stream with a slow subscriber was held up: %.0f ms apart from the control, which was at most %.0f ms behind its schedule", worst, controlLate)
	}
	// The other subscriber of the same stream finished when the control's
	// did, as late as the control's got its end after the schedule.
	lag := slowEnd.Received.Sub(controlEnd.Received)
	controlEndLate := controlEnd.Received.Sub(began.Add(time.Duration(scheduled) * time.Millisecond))
	t.Logf("the fast subscriber of the held-up stream got its end %v after the control's, which got it %v after the schedule",
		lag.Round(time.Millisecond), controlEndLate.Round(time.Millisecond))
	if lag.Abs() > max(time.Second, controlEndLate) {
		t.Errorf("the fast subscriber of the stream with a slow one finished %v apart from the control's, which finished %v after its schedule", lag, controlEndLate)
	}

	// The slow subscriber has read nothing so far beyond the headers; it
	// waits out its 10 s, and until the run is evicted.
	time.Sleep(time.Until(began.Add(quiet)))
	if n := slowConn.read.Load(); n != headerBytes {
		t.Fatalf("the slow subscriber's connection read %d bytes past the headers", n-headerBytes)
	}
	testenv.Eventually(t, "the run's eviction", func() bool { return srv.Stats().Runs == 0 })
	quietFor := time.Since(began)
	// A receive window of 16 KiB would make the catching up crawl.
	_ = slowConn.Conn.(*net.TCPConn).SetReadBuffer(8 << 20)
	frames := readFrames(t, resp.Body)
	caughtUp := time.Since(began) - quietFor
	if len(frames) != len(fast[0]) {
		t.Fatalf("the slow subscriber got %d frames, the fast one %d events", len(frames), len(fast[0]))
	}
	for i, f := range frames {
		if f.id != strconv.Itoa(i) || f.event != fast[0][i].Type || f.data != string(fast[0][i].Raw) {
			t.Fatalf("the slow subscriber's frame %d (%s %s) differs from the fast one's", i, f.id, f.event)
		}
	}
	t.Logf("the slow subscriber read nothing for %v (%d bytes of headers), then caught up after the run's eviction in %v: %d frames, %.1f MiB, equal to the fast subscriber's",
		quietFor.Round(time.Millisecond), headerBytes, caughtUp.Round(time.Millisecond), len(frames), float64(slowConn.read.Load())/(1<<20))
	if n := slowConn.read.Load(); n < tokens*tokenSize {
		t.Errorf("the slow subscriber read %d bytes, want more than %d", n, tokens*tokenSize)
	}

	status, body := doJSON(t, http.MethodGet, srv.URL()+"/events?stream="+slowID, nil, nil)
	if status != http.StatusNotFound || !strings.Contains(string(body), "unknown stream") {
		t.Errorf("a new subscriber after the eviction: %d %s, want 404 unknown stream", status, body)
	}
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func tokenTimes(evs []client.Event) []float64 {
	var out []float64
	for _, e := range evs {
		if e.Type == wire.EventToken {
			out = append(out, e.TMs)
		}
	}
	return out
}

// TestConcurrentStreamLimit refuses runs beyond the active stream cap.
func TestConcurrentStreamLimit(t *testing.T) {
	_, cl := start(t, server.Config{MaxActiveStreams: 3})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1000, 100), flood(1000, 100)}})
	_, err := cl.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1, 0), flood(1, 0)}})
	var apiErr *client.APIError
	if !errorsAs(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
		t.Fatalf("over the cap: %v, want 429", err)
	}
	if err := cl.CancelRun(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
	transcriptOf(t, cl, run)
	startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1, 0), flood(1, 0)}})
}

// TestStreamEventCap stops a stream that outgrows its log with an error.
func TestStreamEventCap(t *testing.T) {
	_, cl := start(t, server.Config{MaxStreamEvents: 50})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1000, 0)}})
	evs := collect(t, cl, run.Streams[0].ID)
	last := evs[len(evs)-1]
	if len(evs) != 50 || last.Type != wire.EventError || !strings.Contains(last.Message, "exceeded 50 events") {
		t.Errorf("%d events, last %+v", len(evs), last)
	}
}

// TestMemoryBounded runs 1,000 short runs and checks the store stays within
// its cap, dropping the oldest runs first.
func TestMemoryBounded(t *testing.T) {
	const capBytes = 256 << 10
	srv, cl := start(t, server.Config{MaxStoreBytes: capBytes})
	var first, last string
	for i := range 1000 {
		run := startRun(t, cl, wire.RunRequest{Prompt: fmt.Sprint("run ", i), Streams: []wire.StreamSpec{flood(20, 0), echo()}})
		for _, s := range run.Streams {
			collect(t, cl, s.ID)
		}
		if i == 0 {
			first = run.ID
		}
		last = run.ID
	}
	// The server counts a stream as ended a moment after it logged the
	// terminal event that collect returned on.
	testenv.Eventually(t, "the last streams counted as ended", func() bool { return srv.Stats().ActiveStreams == 0 })
	st := srv.Stats()
	t.Logf("after 1000 runs: %+v", st)
	if st.FinishedBytes > capBytes || st.FinishedBytes < capBytes/2 {
		t.Errorf("store holds %d bytes, cap %d", st.FinishedBytes, capBytes)
	}
	if st.Runs >= 1000 || st.Runs == 0 || st.ActiveStreams != 0 {
		t.Errorf("store holds %d runs, %d active streams", st.Runs, st.ActiveStreams)
	}
	if _, err := cl.Run(context.Background(), first); !client.IsNotFound(err) {
		t.Errorf("oldest run still there: %v", err)
	}
	if _, err := cl.Run(context.Background(), last); err != nil {
		t.Errorf("newest run gone: %v", err)
	}
}

// TestRunTTL evicts finished runs after their TTL.
func TestRunTTL(t *testing.T) {
	srv, cl := start(t, server.Config{RunTTL: 100 * time.Millisecond})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(3, 0)}})
	collect(t, cl, run.Streams[0].ID)
	testenv.Eventually(t, "the run's eviction", func() bool { return srv.Stats().Runs == 0 })
	if _, err := cl.Run(context.Background(), run.ID); !client.IsNotFound(err) {
		t.Errorf("evicted run: %v", err)
	}
}

// closeBound bounds Server.Close in these tests. Close promises to return
// within about a second (it gives subscribers half a second to read their
// terminal events); the bound is thrice that, generous for a loaded
// machine, and still fails a Close that waits for its streams (100 s here)
// or for a subscriber that does not read.
const closeBound = 3 * time.Second

// TestShutdownWithSubscribers closes the server while streams run and
// subscribers are attached (one of them not reading): Close returns within
// about a second, subscribers get a cancelled end, and no goroutine is left.
func TestShutdownWithSubscribers(t *testing.T) {
	before := goleak.IgnoreCurrent()
	srv, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Mode: wire.ModeSync, Streams: []wire.StreamSpec{flood(100000, 1000), flood(10, 0)}})
	ctx := t.Context()
	chans := subscribeAll(t, ctx, cl, run)
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/events?stream="+run.Streams[0].ID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-chans[0] // the stream is running

	began := time.Now()
	if err := srv.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	took := time.Since(began)
	t.Logf("close took %v", took)
	if took > closeBound {
		t.Errorf("close took %v, want within about a second (bound %v)", took, closeBound)
	}
	checkCancelled(t, chans)
	resp.Body.Close()
	cl.Close()
	http.DefaultClient.CloseIdleConnections()
	testenv.VerifyNoLeaks(t, before)
}

// TestShutdownCancelsWaitingStreams: the streams of sync runs that wait for
// their turn when the server closes end cancelled, never run. The server's
// cancellation reaches the streams one by one; a waiting stream must not
// start in the gap after the stream before it has ended.
func TestShutdownCancelsWaitingStreams(t *testing.T) {
	before := goleak.IgnoreCurrent()
	srv, cl := start(t, server.Config{MaxActiveStreams: 200})
	// The first streams would run for hours: only Close ends them. They
	// are paced slowly, for they need only be running when the server
	// closes: forty floods at full pace would take the machine from the
	// rest of the test, and fill the log budget.
	ctx := t.Context()
	const runs = 40
	var firsts, waiting []<-chan client.Event
	for range runs {
		run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Mode: wire.ModeSync,
			Streams: []wire.StreamSpec{flood(100000, 10), flood(10, 0), flood(10, 0)}})
		chans := subscribeAll(t, ctx, cl, run)
		firsts = append(firsts, chans[0])
		waiting = append(waiting, chans[1:]...)
	}
	for _, ch := range firsts {
		<-ch // every first stream is running
	}
	if err := srv.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	checkCancelled(t, append(firsts, waiting...))
	cl.Close()
	testenv.VerifyNoLeaks(t, before)
}

// TestCancelStreams: CancelStreams ends every stream at once, cancelled,
// while the server still serves, and refuses new runs; Close comes after.
func TestCancelStreams(t *testing.T) {
	srv, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 1000), flood(100000, 1000)}})
	ctx := t.Context()
	chans := subscribeAll(t, ctx, cl, run)
	for _, ch := range chans {
		<-ch // running
	}
	srv.CancelStreams()
	checkCancelled(t, chans)
	_, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(10, 0)}})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Errorf("a run after CancelStreams: %v, want 503", err)
	}
	// The server still answers until Close.
	if _, err := cl.Run(ctx, run.ID); err != nil {
		t.Errorf("transcript after CancelStreams: %v", err)
	}
}

// subscribeAll follows every stream of run.
func subscribeAll(t *testing.T, ctx context.Context, cl *client.Client, run *wire.RunCreated) []<-chan client.Event {
	t.Helper()
	var chans []<-chan client.Event
	for _, s := range run.Streams {
		ch, err := cl.Subscribe(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	return chans
}

// checkCancelled reads each subscription to its end, which must be a
// cancelled done.
func checkCancelled(t *testing.T, chans []<-chan client.Event) {
	t.Helper()
	for i, ch := range chans {
		var last client.Event
		for ev := range ch {
			last = ev
		}
		if last.Type != wire.EventDone || last.Reason != wire.ReasonCancelled {
			t.Errorf("stream %d ended %s/%s", i, last.Type, last.Reason)
		}
	}
}
