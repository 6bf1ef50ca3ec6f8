package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

// closedURL is a loopback URL where nothing listens.
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// start runs a server on a random loopback port with Ollama pointing
// nowhere (unless cfg says otherwise) and a client of it; both are closed
// at the end of the test.
func start(t testing.TB, cfg server.Config) (*server.Server, *client.Client) {
	t.Helper()
	if cfg.OllamaURL == "" {
		cfg.OllamaURL = closedURL(t)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		cl.Close()
	})
	return srv, cl
}

func ptr[T any](v T) *T { return &v }

// flood asks for a demo/flood stream of n tokens at rate tokens/s.
func flood(n int, rate float64) wire.StreamSpec {
	return wire.StreamSpec{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: ptr(n), Rate: ptr(rate)}}
}

// echo asks for demo/echo at full speed.
func echo() wire.StreamSpec {
	return wire.StreamSpec{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(0.0)}}
}

func startRun(t testing.TB, cl *client.Client, req wire.RunRequest) *wire.RunCreated {
	t.Helper()
	run, err := cl.StartRun(t.Context(), req)
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	return run
}

// collect subscribes to a stream and returns all its events. It waits for
// the stream's end for up to testenv.Patience.
func collect(t testing.TB, cl *client.Client, streamID string) []client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	ch, err := cl.Subscribe(ctx, streamID)
	if err != nil {
		t.Fatalf("subscribe %s: %v", streamID, err)
	}
	var evs []client.Event
	for ev := range ch {
		evs = append(evs, ev)
	}
	if len(evs) == 0 || !evs[len(evs)-1].Terminal() {
		t.Fatalf("stream %s: no terminal event (ctx: %v)", streamID, ctx.Err())
	}
	return evs
}

func textOf(evs []client.Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == wire.EventToken {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

func tokensOf(evs []client.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Type == wire.EventToken {
			out = append(out, e.Text)
		}
	}
	return out
}

// frame is one raw SSE frame as read from the wire.
type frame struct {
	id, event, data string
	lines           []string
}

// readFrames reads raw SSE frames until the response ends.
func readFrames(t testing.TB, body io.Reader) []frame {
	t.Helper()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var frames []frame
	var cur frame
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(cur.lines) > 0 {
				frames = append(frames, cur)
			}
			cur = frame{}
			continue
		}
		cur.lines = append(cur.lines, line)
		name, value, _ := strings.Cut(line, ": ")
		switch name {
		case "id":
			cur.id = value
		case "event":
			cur.event = value
		case "data":
			if cur.data != "" {
				t.Fatalf("frame with two data lines: %q", cur.lines)
			}
			cur.data = value
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read frames: %v", err)
	}
	return frames
}

// rawEvents GETs /events with an optional Last-Event-ID and returns the
// frames of the whole response.
func rawEvents(t testing.TB, base, streamID string, lastID int64) []frame {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/events?stream="+streamID, nil)
	if lastID >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastID, 10))
	}
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /events: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	return readFrames(t, resp.Body)
}

// decodeData decodes a frame's data line.
func decodeData(t testing.TB, f frame) wire.EventData {
	t.Helper()
	var d wire.EventData
	dec := json.NewDecoder(strings.NewReader(f.data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("frame %v: data is not the contract's JSON: %v", f.lines, err)
	}
	return d
}

// doJSON sends a request and returns status and body.
func doJSON(t testing.TB, method, url string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	status, _, b := doRequest(t, method, url, body, header)
	return status, b
}

// doRequest sends a request with the given headers ("Host" sets the Host;
// "Transfer-Encoding: chunked" sends the body without a length) and returns
// the answer's status, headers and body. Redirects are not followed.
func doRequest(t testing.TB, method, url string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if header["Transfer-Encoding"] == "chunked" {
		rd = io.MultiReader(rd) // of unknown length
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		switch k {
		case "Host":
			req.Host = v
		case "Transfer-Encoding":
		default:
			req.Header.Set(k, v)
		}
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return b
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
