package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// finishedStream runs one demo/flood stream of n tokens to its end and
// returns its id and its number of events.
func finishedStream(t *testing.T, cl *client.Client, n int) (string, int) {
	t.Helper()
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(n, 0)}})
	evs := collect(t, cl, run.Streams[0].ID)
	return run.Streams[0].ID, len(evs)
}

// eventsAnswer GETs /events of a stream with the Last-Event-ID header set
// to id, and returns the answer's status and body.
func eventsAnswer(t *testing.T, base, streamID, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/events?stream="+streamID, nil)
	req.Header.Set("Last-Event-ID", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestLastEventIDBounds: a Last-Event-ID that no event can have is refused
// before any arithmetic (the largest int64 used to overflow and crash the
// process), on a finished and on a live stream, and the server goes on.
func TestLastEventIDBounds(t *testing.T) {
	srv, cl := start(t, server.Config{MaxStreamEvents: 1000})
	done, _ := finishedStream(t, cl, 3)
	live := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 10)}})
	for _, id := range []string{"9223372036854775807", "9223372036854775806", "1000", "1001", "-1", "+3", "3.0", "0x3", "1e3", "٣", "1 2"} {
		for _, stream := range []string{done, live.Streams[0].ID} {
			status, body := eventsAnswer(t, srv.URL(), stream, id)
			if status != http.StatusBadRequest || !strings.Contains(body, "Last-Event-ID") {
				t.Errorf("Last-Event-ID %q: %d %.200s", id, status, body)
			}
		}
	}
	// The server is still there, and serves the live stream.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := cl.Subscribe(ctx, live.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Type != wire.EventPhase {
		t.Errorf("first event %+v", ev)
	}
}

// TestResumeAfterTheEnd: resuming a finished stream at or after its
// terminal event answers 204, which tells a browser's EventSource to stop
// reconnecting; resuming before it still answers the rest.
func TestResumeAfterTheEnd(t *testing.T) {
	srv, cl := start(t, server.Config{})
	id, n := finishedStream(t, cl, 3) // phase, 3 tokens, done: ids 0..4
	for _, last := range []int{n - 1, n, n + 10, 998} {
		status, body := eventsAnswer(t, srv.URL(), id, strconv.Itoa(last))
		if status != http.StatusNoContent || body != "" {
			t.Errorf("Last-Event-ID %d of %d events: %d %q, want 204", last, n, status, body)
		}
	}
	status, body := eventsAnswer(t, srv.URL(), id, strconv.Itoa(n-2))
	if status != http.StatusOK || !strings.Contains(body, "event: done") || strings.Contains(body, "event: token") {
		t.Errorf("Last-Event-ID %d: %d %q, want the done event alone", n-2, status, body)
	}
}

// rawConn dials the server.
func rawConn(t *testing.T, srv *server.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestBodyTimeout: a request body that trickles in is cut off at
// BodyTimeout with a 408, and its connection closed; SSE responses that
// last longer than it are not.
func TestBodyTimeout(t *testing.T) {
	srv, cl := start(t, server.Config{BodyTimeout: 300 * time.Millisecond})
	host := strings.TrimPrefix(srv.URL(), "http://")
	conn := rawConn(t, srv)
	_ = conn.SetDeadline(time.Now().Add(testenv.Patience))
	body := `{"prompt":"hi","streams":[{"model":"demo/hello"}]}`
	fmt.Fprintf(conn, "POST /api/runs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body[:5])
	// One byte now and then, as a slow attacker would.
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		for i := 5; i < len(body)-1; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a trickling body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "did not arrive") {
		t.Errorf("trickling body: %d %s", resp.StatusCode, b)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("connection after the 408: %v, want it closed", err)
	}
	if st := srv.Stats(); st.Runs != 0 {
		t.Errorf("the cut request started a run: %+v", st)
	}
	// A stream of 2 s outlives the body timeout.
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: wire.DemoHello}}})
	if got := textOf(collect(t, cl, run.Streams[0].ID)); got != "Hello world" {
		t.Errorf("stream over a body timeout: %q", got)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestIdleTimeout: a keep-alive connection left idle is closed by the
// server at IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	srv, _ := start(t, server.Config{IdleTimeout: 200 * time.Millisecond})
	conn := rawConn(t, srv)
	_ = conn.SetDeadline(time.Now().Add(testenv.Patience))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", strings.TrimPrefix(srv.URL(), "http://"))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: %v, want closed by the server", err)
	}
}

// TestConnectionCap: beyond MaxConns open connections a request gets a 503
// that says why, and its connection is closed; once connections close, new
// ones are served again.
func TestConnectionCap(t *testing.T) {
	const maxConns = 4
	srv, _ := start(t, server.Config{MaxConns: maxConns})
	host := strings.TrimPrefix(srv.URL(), "http://")
	get := func(conn net.Conn) (*http.Response, string) {
		t.Helper()
		_ = conn.SetDeadline(time.Now().Add(testenv.Patience))
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	var held []net.Conn
	for range maxConns {
		conn := rawConn(t, srv)
		if resp, body := get(conn); resp.StatusCode != http.StatusOK {
			t.Fatalf("connection within the cap: %d %s", resp.StatusCode, body)
		}
		held = append(held, conn)
	}
	resp, body := get(rawConn(t, srv))
	var e wire.Error
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil ||
		!strings.Contains(e.Error, "too many connections") || e.Hint == "" || !resp.Close {
		t.Errorf("connection over the cap: %d close %v %s", resp.StatusCode, resp.Close, body)
	}
	held[0].Close()
	// The server notices the close when it reads from the connection: try
	// until a new connection is served.
	testenv.Eventually(t, "a new connection served after one closed", func() bool {
		resp, _ := get(rawConn(t, srv))
		return resp.StatusCode == http.StatusOK
	})
}

// TestLogBudget: the logs of all streams share MaxLogBytes. Finished runs
// are dropped, oldest first, to make room for a live stream; a live stream
// that would take the server over it ends with an error saying so, and the
// server goes on.
func TestLogBudget(t *testing.T) {
	const budget = 4 << 20
	srv, cl := start(t, server.Config{MaxLogBytes: budget})
	old, _ := finishedStream(t, cl, 20000)
	if st := srv.Stats(); st.LogBytes < budget/4 || st.LogBytes > budget {
		t.Fatalf("after a run of 20,000 tokens: %+v", st)
	}
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1_000_000, 0), flood(1_000_000, 0)}})
	for _, s := range run.Streams {
		evs := collect(t, cl, s.ID)
		last := evs[len(evs)-1]
		if last.Type != wire.EventError || !strings.Contains(last.Message, "memory") || last.Hint == "" {
			t.Errorf("stream over the budget ended %+v", last)
		}
	}
	// Beyond the budget by at most the two streams' terminal events.
	if st := srv.Stats(); st.LogBytes > budget+2<<10 {
		t.Errorf("logs hold %d bytes, budget %d", st.LogBytes, budget)
	}
	if _, err := cl.Run(t.Context(), run.Streams[0].ID); err == nil {
		t.Errorf("stream id as a run")
	}
	if status, _ := eventsAnswer(t, srv.URL(), old, "0"); status != http.StatusNotFound {
		t.Errorf("the finished run was not dropped to make room: %d", status)
	}
	// The run that hit the limit is kept, and a new run gets room by
	// dropping it.
	if _, err := cl.Run(t.Context(), run.ID); err != nil {
		t.Errorf("transcript of the run that hit the limit: %v", err)
	}
	// Only a finished run can be dropped, and the server counts the run
	// finished a moment after its last terminal event.
	testenv.Eventually(t, "the run that hit the limit counted as finished", func() bool { return srv.Stats().ActiveStreams == 0 })
	if _, n := finishedStream(t, cl, 20000); n != 20002 {
		t.Errorf("a run after the limit: %d events", n)
	}
}

// TestTranscriptStreamed: GET /api/runs/{id} writes the transcript as it
// goes instead of building it whole: reading a large one allocates a
// fraction of its size.
func TestTranscriptStreamed(t *testing.T) {
	_, cl := start(t, server.Config{})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 0)}})
	collect(t, cl, run.Streams[0].ID)
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	read := func() int64 {
		resp, err := hc.Get(cl.BaseURL() + "/api/runs/" + run.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("transcript: %d %v", resp.StatusCode, err)
		}
		return n
	}
	read() // warm up pools and connections
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	size := read()
	runtime.ReadMemStats(&after)
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("transcript of %d bytes: %d bytes allocated while serving it", size, allocated)
	if allocated > size/4 {
		t.Errorf("serving a transcript of %d bytes allocated %d", size, allocated)
	}
	// It is still the transcript.
	tr, err := cl.Run(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Finished || len(tr.Streams) != 1 || len(tr.Streams[0].Events) != 100002 || tr.Streams[0].Stats.Tokens != 100000 {
		t.Errorf("transcript: finished %v, %d streams", tr.Finished, len(tr.Streams))
	}
	if _, err := wire.CheckTranscript(tr); err != nil {
		t.Errorf("streamed transcript: %v", err)
	}
}
