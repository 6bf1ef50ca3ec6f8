package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// newStack starts an embedded server whose Ollama is ollamaURL (empty:
// OLLAMA_HOST) on a free loopback port, and a client of it. Both are closed
// when the test ends, before the Ollama of the test is stopped (cleanups
// run last-registered first).
func newStack(t *testing.T, ollamaURL string) (*server.Server, *client.Client) {
	t.Helper()
	return newStackWith(t, server.Config{OllamaURL: ollamaURL})
}

// newStackWith is newStack with the server's whole configuration.
func newStackWith(t *testing.T, cfg server.Config) (*server.Server, *client.Client) {
	t.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(""); err != nil {
		srv.Close()
		t.Fatalf("server Start: %v", err)
	}
	cl, err := client.New(srv.URL())
	if err != nil {
		srv.Close()
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() {
		cl.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("server Close: %v", err)
		}
	})
	return srv, cl
}

// testContext is a context bounded by testenv.Patience and the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	t.Cleanup(cancel)
	return ctx
}

func intp(n int) *int { return &n }

func floatp(f float64) *float64 { return &f }

// counting asks for n tokens of the counting chain, with options of num_ctx
// when numCtx > 0.
func counting(n, numCtx int) *wire.Options {
	o := &wire.Options{NumPredict: intp(n)}
	if numCtx > 0 {
		o.NumCtx = intp(numCtx)
	}
	return o
}

// start starts a run and subscribes to each of its streams.
func start(t *testing.T, ctx context.Context, cl *client.Client, req wire.RunRequest) (*wire.RunCreated, []<-chan client.Event) {
	t.Helper()
	created, err := cl.StartRun(ctx, req)
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	if len(created.Streams) != len(req.Streams) {
		t.Fatalf("StartRun made %d streams, want %d", len(created.Streams), len(req.Streams))
	}
	chans := make([]<-chan client.Event, len(created.Streams))
	for i, s := range created.Streams {
		ch, err := cl.Subscribe(ctx, s.ID)
		if err != nil {
			t.Fatalf("Subscribe(%s): %v", s.ID, err)
		}
		chans[i] = ch
	}
	return created, chans
}

// drainAll reads every channel until it closes and returns the events of
// each. It fails the test if ctx ends first.
func drainAll(t *testing.T, ctx context.Context, chans []<-chan client.Event) []events {
	t.Helper()
	out := make([]events, len(chans))
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Go(func() {
			for ev := range ch {
				out[i] = append(out[i], ev)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("streams did not end within %v: %v", testenv.Patience, ctx.Err())
	}
	return out
}

// runAll starts a run and returns the events of each stream once all have
// ended.
func runAll(t *testing.T, ctx context.Context, cl *client.Client, req wire.RunRequest) (*wire.RunCreated, []events) {
	t.Helper()
	created, chans := start(t, ctx, cl, req)
	return created, drainAll(t, ctx, chans)
}

// events are the events of one stream as the client delivered them.
type events []client.Event

// text joins the token texts: the answer.
func (evs events) text() string { return evs.joined(wire.EventToken) }

// thinking joins the thinking texts: the reasoning.
func (evs events) thinking() string { return evs.joined(wire.EventThinking) }

// joined joins the texts of the events of type typ.
func (evs events) joined(typ string) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Type == typ {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

// tokens returns the token events.
func (evs events) tokens() events {
	var out events
	for _, ev := range evs {
		if ev.Type == wire.EventToken {
			out = append(out, ev)
		}
	}
	return out
}

// outcome is the stream of events as the run's figures take it.
func (evs events) outcome(model string) figures.Outcome {
	l := evs.last()
	return figures.Outcome{Stats: l.Stats, End: figures.EndOf(l.Type, l.Reason), Model: model}
}

// phases lists the phases in order.
func (evs events) phases() []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == wire.EventPhase {
			out = append(out, ev.Phase)
		}
	}
	return out
}

// last is the last event; the zero Event if there is none.
func (evs events) last() client.Event {
	if len(evs) == 0 {
		return client.Event{}
	}
	return evs[len(evs)-1]
}

// String summarises the events for failure messages: the count, the text
// (shortened) and the last event.
func (evs events) String() string {
	text := evs.text()
	if len(text) > 120 {
		text = text[:60] + " … " + text[len(text)-60:]
	}
	l := evs.last()
	return fmt.Sprintf("%d events, phases %v, text %q, last %s reason=%q message=%q hint=%q local=%v",
		len(evs), evs.phases(), text, l.Type, l.Reason, l.Message, l.Hint, l.Local)
}

// checkWellFormed checks what holds for every stream: seqs 0, 1, 2, ...
// without gap, t_ms never going back, exactly one terminal event and it is
// the last, sent by the server (not made up by the client).
func checkWellFormed(t *testing.T, name string, evs events) {
	t.Helper()
	if len(evs) == 0 {
		t.Errorf("%s: no events", name)
		return
	}
	prev := -1.0
	for i, ev := range evs {
		if ev.Seq != int64(i) {
			t.Errorf("%s: event %d has seq %d", name, i, ev.Seq)
			return
		}
		if ev.TMs < prev {
			t.Errorf("%s: event %d (%s) at t_ms %v, before the previous one at %v", name, i, ev.Type, ev.TMs, prev)
		}
		prev = ev.TMs
		if ev.Terminal() != (i == len(evs)-1) {
			t.Errorf("%s: event %d of %d is %s: want exactly one terminal event, the last", name, i, len(evs), ev.Type)
		}
	}
	if l := evs.last(); l.Local {
		t.Errorf("%s: the stream ended with the client's own error %q, not with the server's terminal event", name, l.Message)
	}
}

// checkDone checks that a stream ended with done for reason and text want,
// its stats counting its token events.
func checkDone(t *testing.T, name string, evs events, want, reason string) {
	t.Helper()
	checkWellFormed(t, name, evs)
	l := evs.last()
	if l.Type != wire.EventDone || l.Reason != reason || evs.text() != want {
		t.Errorf("%s: got %v\nwant text %q, done %q", name, evs, want, reason)
		return
	}
	if l.Stats == nil {
		t.Errorf("%s: done without stats", name)
		return
	}
	if n := len(evs.tokens()); l.Stats.Tokens != n {
		t.Errorf("%s: stats.tokens = %d, but %d token events arrived", name, l.Stats.Tokens, n)
	}
}

// checkTranscript checks that the transcript of a finished run holds
// exactly the events that the subscriptions delivered, byte for byte, and
// the same texts and stats.
func checkTranscript(t *testing.T, ctx context.Context, cl *client.Client, created *wire.RunCreated, got []events) {
	t.Helper()
	tr := finishedTranscript(t, ctx, cl, created.ID)
	if len(tr.Streams) != len(got) {
		t.Fatalf("transcript has %d streams, want %d", len(tr.Streams), len(got))
	}
	for i, st := range tr.Streams {
		evs := got[i]
		if st.ID != created.Streams[i].ID || st.Index != i {
			t.Errorf("transcript stream %d is %s (index %d), want %s", i, st.ID, st.Index, created.Streams[i].ID)
		}
		if st.Text != evs.text() {
			t.Errorf("stream %d: transcript text %q, subscription text %q", i, st.Text, evs.text())
		}
		if len(st.Events) != len(evs) {
			t.Errorf("stream %d: transcript has %d events, the subscription %d", i, len(st.Events), len(evs))
			continue
		}
		for j, le := range st.Events {
			ev := evs[j]
			if le.Event != ev.Type || le.ID != ev.Seq || !bytes.Equal(le.Data, ev.Raw) {
				t.Errorf("stream %d event %d: transcript %s %d %s, subscription %s %d %s",
					i, j, le.Event, le.ID, le.Data, ev.Type, ev.Seq, ev.Raw)
				break
			}
		}
		if l := evs.last(); l.Type == wire.EventDone && !jsonEqual(st.Stats, l.Stats) {
			t.Errorf("stream %d: transcript stats %+v, done stats %+v", i, st.Stats, l.Stats)
		}
	}
}

// finishedTranscript fetches a run's transcript once the server marks it
// finished. The server logs a stream's terminal event (which subscribers
// may see at once) a moment before it counts the stream as ended, so the
// first read right after the last terminal event may still say unfinished;
// no event tells when it flips, hence the polling.
func finishedTranscript(t *testing.T, ctx context.Context, cl *client.Client, runID string) *wire.Transcript {
	t.Helper()
	var tr *wire.Transcript
	polls := 0
	testenv.Eventually(t, "the transcript of "+runID+" marked finished after every stream ended", func() bool {
		polls++
		var err error
		if tr, err = cl.Run(ctx, runID); err != nil {
			t.Fatalf("Run(%s): %v", runID, err)
		}
		return tr.Finished
	})
	if polls > 1 {
		t.Logf("transcript of %s marked finished after %d reads", runID, polls)
	}
	return tr
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// closedPort returns a loopback address where nothing listens: a port that
// was free a moment ago.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// modelNames lists the names of models.
func modelNames(ms []wire.Model) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// hasModel reports whether name is among ms with the given source.
func hasModel(ms []wire.Model, name, source string) bool {
	return slices.ContainsFunc(ms, func(m wire.Model) bool { return m.Name == name && m.Source == source })
}

// parallel4 gives the test Ollama four slots per model, as Ollama had by
// default before 0.10, for tests of streams generated side by side.
const parallel4 = "OLLAMA_NUM_PARALLEL=4"
