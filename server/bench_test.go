package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// benchFloodTokens is the most tokens one benchmark flood asks for: b.N
// tokens are split into floods of at most this many, well below the
// server's MaxStreamEvents (250,000 by default), so that no stream is
// stopped for being too long.
const benchFloodTokens = 50_000

// benchChunkTimeout bounds one flood and its subscribers: a guard against a
// hung benchmark, no guess at the machine's speed.
const benchChunkTimeout = testenv.Patience

// BenchmarkFanOut measures the server's fan-out: one demo/flood stream (rate
// 0, as fast as possible) read by S subscribers at once over plain HTTP
// (GET /events?stream=ID), each counting SSE frames and checking their ids,
// without package client, so that the figures are the server's. b.N is the
// number of token events each subscriber receives; b.N tokens are asked for
// as floods of at most benchFloodTokens, one after another. events/s counts
// every event delivered (tokens and each flood's phase and done events) to
// every subscriber, divided by the wall time. The subscribers connect just
// after POST /api/runs answers, so most of a fast flood is already in the
// stream's log when they read it.
func BenchmarkFanOut(b *testing.B) {
	for _, subs := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) { benchFanOut(b, subs) })
	}
}

func benchFanOut(b *testing.B, subs int) {
	srv, cl := start(b, server.Config{})
	// A transport of its own that keeps one idle connection per
	// subscriber, so that floods after the first reuse the connections.
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: subs, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections) // runs before start's srv.Close
	hc := &http.Client{Transport: tr}

	b.ReportAllocs()
	b.ResetTimer()
	began := time.Now()
	var delivered int64
	for left := b.N; left > 0; {
		n := min(left, benchFloodTokens)
		left -= n
		run := startRun(b, cl, wire.RunRequest{Prompt: "bench", Streams: []wire.StreamSpec{flood(n, 0)}})
		if len(run.Streams) != 1 {
			b.Fatalf("run %s has %d streams, want 1", run.ID, len(run.Streams))
		}
		eventsURL := srv.URL() + "/events?" + url.Values{"stream": {run.Streams[0].ID}}.Encode()

		ctx, cancel := context.WithTimeout(context.Background(), benchChunkTimeout)
		counts := make([]int, subs)
		errs := make([]error, subs)
		var wg sync.WaitGroup
		for i := range subs {
			wg.Go(func() { counts[i], errs[i] = benchReadFlood(ctx, hc, eventsURL, n) })
		}
		wg.Wait() // every subscriber has finished, even when one failed
		cancel()
		if err := errors.Join(errs...); err != nil {
			b.Fatalf("flood of %d tokens to %d subscribers: %v", n, subs, err)
		}
		for _, c := range counts {
			delivered += int64(c)
		}
	}
	elapsed := time.Since(began)
	b.StopTimer()
	if want := int64(subs) * (int64(b.N) + 2*int64((b.N+benchFloodTokens-1)/benchFloodTokens)); delivered != want {
		b.Fatalf("delivered %d events, want %d", delivered, want)
	}
	b.ReportMetric(float64(delivered)/elapsed.Seconds(), "events/s")
}

// benchReadFlood reads GET /events of a flood of tokens tokens to its end
// and returns the number of events (SSE frames) received. It fails unless
// the frames are exactly the flood's: ids 0, 1, 2... without gaps or
// repeats, a phase event, tokens tokens, then the done event, then the end
// of the response.
func benchReadFlood(ctx context.Context, hc *http.Client, eventsURL string, tokens int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, eventsURL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return 0, fmt.Errorf("GET /events: %d (%s) %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	br := bufio.NewReaderSize(resp.Body, 32<<10)
	var (
		frames, tokensSeen, phases int
		done                       bool
		// the frame being read
		lines int
		id    int64 = -1
		typ   []byte
		data  []byte
	)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) == 0 && lines == 0 {
				break // the server ended the response after a whole frame
			}
			return frames, fmt.Errorf("after %d frames: %w (partial line %q)", frames, err, line)
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		if len(line) > 0 {
			lines++
			name, value, _ := bytes.Cut(line, []byte(": "))
			switch string(name) {
			case "id":
				if id, err = benchParseSeq(value); err != nil {
					return frames, fmt.Errorf("frame %d: id %q: %v", frames, value, err)
				}
			case "event":
				typ = append(typ[:0], value...)
			case "data":
				data = append(data[:0], value...)
			default:
				return frames, fmt.Errorf("frame %d: unexpected SSE line %q", frames, line)
			}
			continue
		}
		if lines == 0 {
			continue // a blank line between frames is allowed by SSE, not a frame
		}
		// A blank line ends the frame.
		if done {
			return frames, fmt.Errorf("frame %q after the done event", data)
		}
		if id != int64(frames) {
			return frames, fmt.Errorf("frame %d has id %d (lost or duplicated events)", frames, id)
		}
		switch string(typ) {
		case "phase":
			phases++
		case "token":
			tokensSeen++
		case "done":
			done = true
		case "error":
			return frames, fmt.Errorf("error event %d: %s", id, data)
		default:
			return frames, fmt.Errorf("frame %d: unknown event type %q", frames, typ)
		}
		frames++
		lines, id, typ, data = 0, -1, typ[:0], data[:0]
	}
	if !done || tokensSeen != tokens || phases != 1 || frames != tokens+2 {
		return frames, fmt.Errorf("response ended after %d frames: %d tokens (want %d), %d phase events, done %v", frames, tokensSeen, tokens, phases, done)
	}
	return frames, nil
}

// benchParseSeq parses an SSE id: decimal digits, no sign. Unlike strconv
// it takes the bytes as they are, without a conversion to string.
func benchParseSeq(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 18 {
		return 0, errors.New("not a sequence number")
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("not a sequence number")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
