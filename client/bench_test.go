package client

// The benchmarks are in package client, not client_test, to reach
// decodeEvent; the helpers of client_test.go (package client_test, and for
// *testing.T only) are out of reach, so benchServer below starts the server
// the way their newServer does.

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// benchEvent encodes d the way the server does and wraps it in the
// *sse.Event r3labs hands to the subscription.
func benchEvent(b *testing.B, typ string, d wire.EventData) *sse.Event {
	b.Helper()
	data, err := wire.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	return &sse.Event{ID: []byte(strconv.FormatInt(d.Seq, 10)), Event: []byte(typ), Data: data}
}

// BenchmarkDecodeEvent measures decodeEvent, which the subscription runs on
// every event it reads: a token of 5 bytes of text, and the done event of an
// Ollama stream with its stats. SetBytes is the event's data line.
func BenchmarkDecodeEvent(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  *sse.Event
		want func(Event) bool
	}{
		{
			name: "token",
			msg:  benchEvent(b, wire.EventToken, wire.EventData{Seq: 4242, Text: " amet", TMs: 1234.567}),
			want: func(ev Event) bool { return ev.Type == wire.EventToken && ev.Seq == 4242 && ev.Text == " amet" },
		},
		{
			name: "done",
			msg: benchEvent(b, wire.EventDone, wire.EventData{
				Seq: 513, TMs: 9876.543, Reason: wire.ReasonStop,
				Stats: &wire.Stats{
					Tokens: 512, TTFTMs: 812.406, DurationMs: 9870.112, TokensPerS: 56.5,
					StartMs: 6.431, EndMs: 9876.543,
					Ollama: &wire.OllamaStats{
						EvalCount: 512, EvalDurationNs: 9_057_706_000,
						PromptEvalCount: 26, PromptEvalDurationNs: 112_580_000,
						LoadDurationNs: 690_004_000, TotalDurationNs: 9_861_330_000,
					},
				},
			}),
			want: func(ev Event) bool {
				return ev.Type == wire.EventDone && ev.Seq == 513 && ev.Reason == wire.ReasonStop &&
					ev.Stats != nil && ev.Stats.Tokens == 512 && ev.Stats.Ollama != nil && ev.Stats.Ollama.EvalCount == 512
			},
		},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ev, err := decodeEvent("s_bench", bc.msg)
			if err != nil || !bc.want(ev) {
				b.Fatalf("decode %q: %+v, %v", bc.msg.Data, ev, err)
			}
			seq := ev.Seq
			b.SetBytes(int64(len(bc.msg.Data)))
			b.ReportAllocs()
			for b.Loop() {
				ev, err := decodeEvent("s_bench", bc.msg)
				if err != nil || ev.Seq != seq {
					b.Fatalf("decode: seq %d, %v", ev.Seq, err)
				}
			}
		})
	}
}

// benchServer runs the real server's handler on loopback, as newServer of
// client_test.go does (Ollama pointing nowhere), and returns a client of
// it; all is closed at the end of the benchmark.
func benchServer(b *testing.B) *Client {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	nowhere := "http://" + ln.Addr().String()
	ln.Close()
	srv, err := server.New(server.Config{OllamaURL: nowhere})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	cl, err := New(ts.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// benchFloodTokens is the most tokens one benchmark flood asks for, well
// below the server's MaxStreamEvents (250,000 by default).
const benchFloodTokens = 50_000

// BenchmarkSubscribe measures a subscription end to end: the real server
// streams a demo/flood of b.N tokens (as floods of at most
// benchFloodTokens, one after another), read through Subscribe. events/s
// counts every event received (tokens and each flood's phase and done
// events) over the wall time.
func BenchmarkSubscribe(b *testing.B) {
	cl := benchServer(b)
	b.ReportAllocs()
	b.ResetTimer()
	began := time.Now()
	var received int64
	for left := b.N; left > 0; {
		n := min(left, benchFloodTokens)
		left -= n
		got, err := benchSubscribeFlood(cl, n)
		received += int64(got)
		if err != nil {
			b.Fatalf("flood of %d tokens: %v", n, err)
		}
	}
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(received)/elapsed.Seconds(), "events/s")
}

// benchSubscribeFlood starts a flood of n tokens, reads it through
// Subscribe and returns the number of events received. It fails unless the
// events are exactly the flood's: seq 0, 1, 2... without gaps or repeats,
// one phase event, n tokens, then a done event with reason stop, then the
// channel closes.
func benchSubscribeFlood(cl *Client, n int) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	rate := 0.0
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "bench", Streams: []wire.StreamSpec{{
		Model: wire.DemoFlood, Options: &wire.Options{NumPredict: &n, Rate: &rate},
	}}})
	if err != nil {
		return 0, err
	}
	if len(run.Streams) != 1 {
		return 0, fmt.Errorf("run %s has %d streams, want 1", run.ID, len(run.Streams))
	}
	ch, err := cl.Subscribe(ctx, run.Streams[0].ID)
	if err != nil {
		return 0, err
	}
	var (
		count, tokens, phases int
		last                  Event
		bad                   error
	)
	for ev := range ch { // read to the close even after a failure: nothing may leak
		if bad != nil {
			continue
		}
		switch {
		case last.Terminal():
			bad = fmt.Errorf("%s event %d after the terminal event: %s", ev.Type, ev.Seq, ev.Raw)
		case ev.Seq != int64(count):
			bad = fmt.Errorf("event %d has seq %d (lost or duplicated events)", count, ev.Seq)
		case ev.Type == wire.EventPhase:
			phases++
		case ev.Type == wire.EventToken:
			tokens++
		case ev.Type == wire.EventDone && ev.Reason == wire.ReasonStop:
		default:
			bad = fmt.Errorf("unexpected %s event %d (local %v): %s %s", ev.Type, ev.Seq, ev.Local, ev.Message, ev.Raw)
		}
		count++
		last = ev
	}
	switch {
	case bad != nil:
		return count, bad
	case !last.Terminal() || tokens != n || phases != 1 || count != n+2:
		return count, fmt.Errorf("channel closed after %d events: %d tokens (want %d), %d phase events, last a %s event %d: %s (ctx: %v)", count, tokens, n, phases, last.Type, last.Seq, last.Raw, ctx.Err())
	}
	return count, nil
}
