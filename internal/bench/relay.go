package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/embedded"
)

// follow subscribes to every stream of a run and returns each stream's
// events up to its terminal one. A stream that ends in an error fails.
func follow(ctx context.Context, cl *client.Client, created *client.RunCreated) ([][]client.Event, error) {
	out := make([][]client.Event, len(created.Streams))
	errs := make([]error, len(created.Streams))
	var wg sync.WaitGroup
	for i, st := range created.Streams {
		events, err := cl.Subscribe(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			for ev := range events {
				out[i] = append(out[i], ev)
				if ev.Type == client.EventError {
					errs[i] = fmt.Errorf("stream %d (%s): %s", i, st.Model, ev.Message)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

// relayRound streams streams × tokens demo/flood tokens, as fast as the
// source makes them, through the embedded server to one client per stream,
// and returns the tokens received per second from the run's start to the
// last token.
func relayRound(ctx context.Context, e *embedded.Server, streams, tokens int) (float64, error) {
	zero := 0.0
	req := client.RunRequest{Prompt: "bench"}
	for range streams {
		req.Streams = append(req.Streams, client.StreamSpec{Model: client.DemoFlood,
			Options: &client.Options{NumPredict: &tokens, Rate: &zero}})
	}
	start := time.Now()
	created, err := e.Client.StartRun(ctx, req)
	if err != nil {
		return 0, err
	}
	got, err := follow(ctx, e.Client, created)
	if err != nil {
		return 0, err
	}
	var n int
	var last time.Time
	for i, evs := range got {
		count := 0
		for _, ev := range evs {
			if ev.Type == client.EventToken {
				count++
				if ev.Received.After(last) {
					last = ev.Received
				}
			}
		}
		if count != tokens {
			return 0, fmt.Errorf("stream %d: %d tokens received, %d sent", i, count, tokens)
		}
		n += count
	}
	return float64(n) / last.Sub(start).Seconds(), nil
}

// tapLine is one line of Ollama's NDJSON reply and when the tap read it.
type tapLine struct {
	at   time.Time
	line []byte
}

// tap is a reverse proxy in front of Ollama that notes when each line of a
// /api/chat reply comes off the wire: the moment a program reading Ollama's
// NDJSON directly would have it.
type tap struct {
	srv *http.Server
	tr  *http.Transport
	url string

	mu    sync.Mutex
	lines []tapLine
}

func startTap(upstream *url.URL) (*tap, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tap{url: "http://" + l.Addr().String(), tr: &http.Transport{Proxy: nil}}
	proxy := &httputil.ReverseProxy{
		Transport:     t.tr,
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		FlushInterval: -1, // pass every write on at once
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.URL.Path == "/api/chat" {
				resp.Body = &lineReader{rc: resp.Body, t: t}
			}
			return nil
		},
	}
	// The request (a small JSON body) is read whole before it is passed
	// on. Streamed, its body was still being copied to Ollama when the
	// reply's headers went back, and net/http may end a request's body
	// then: the transport failed the copy and closed the connection under
	// the reply ("use of closed network connection", a broken round).
	buffered := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	})
	t.srv = &http.Server{Handler: buffered, ReadHeaderTimeout: 10 * time.Second}
	go t.srv.Serve(l) //nolint:errcheck // ends with Close
	return t, nil
}

func (t *tap) close() {
	t.srv.Close()
	t.tr.CloseIdleConnections()
}

// take returns the lines noted so far and forgets them.
func (t *tap) take() []tapLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	t.lines = nil
	return lines
}

// lineReader notes the time of every complete line read through it.
type lineReader struct {
	rc      io.ReadCloser
	t       *tap
	partial []byte
}

func (r *lineReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	now := time.Now()
	data := p[:n]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			r.partial = append(r.partial, data...)
			break
		}
		line := append(r.partial, data[:i]...)
		r.partial = nil
		r.t.mu.Lock()
		r.t.lines = append(r.t.lines, tapLine{at: now, line: line})
		r.t.mu.Unlock()
		data = data[i+1:]
	}
	return n, err
}

func (r *lineReader) Close() error { return r.rc.Close() }

// overheadRound streams tokens tokens of model through the tap and the
// embedded server and returns, per token, how much later the client had it
// than the tap.
func overheadRound(ctx context.Context, e *embedded.Server, t *tap, model string, tokens int) ([]time.Duration, error) {
	temp := 0.0
	t.take()
	created, err := e.Client.StartRun(ctx, client.RunRequest{Prompt: "one", Streams: []client.StreamSpec{
		{Model: model, Options: &client.Options{NumPredict: &tokens, Temperature: &temp}}}})
	if err != nil {
		return nil, err
	}
	got, err := follow(ctx, e.Client, created)
	if err != nil {
		return nil, err
	}
	var chunks []tapLine
	for _, l := range t.take() {
		var resp api.ChatResponse
		if err := json.Unmarshal(l.line, &resp); err != nil {
			return nil, fmt.Errorf("tap: unreadable line from Ollama %q: %w", l.line, err)
		}
		if resp.Message.Content != "" {
			chunks = append(chunks, tapLine{at: l.at, line: []byte(resp.Message.Content)})
		}
	}
	var out []time.Duration
	for _, ev := range got[0] {
		if ev.Type != client.EventToken {
			continue
		}
		i := len(out)
		if i >= len(chunks) {
			return nil, fmt.Errorf("token %d %q reached the client but not through the tap", i, ev.Text)
		}
		if string(chunks[i].line) != ev.Text {
			return nil, fmt.Errorf("token %d: %q at the client, %q from Ollama", i, ev.Text, chunks[i].line)
		}
		out = append(out, ev.Received.Sub(chunks[i].at))
	}
	if len(out) != len(chunks) {
		return nil, fmt.Errorf("%d tokens from Ollama, %d at the client", len(chunks), len(out))
	}
	return out, nil
}

// ollamaHasModel says whether the Ollama at base serves model; note says
// why not.
func ollamaHasModel(ctx context.Context, base *url.URL, model string) (ok bool, note string) {
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	list, err := api.NewClient(base, hc).List(ctx)
	if err != nil {
		return false, fmt.Sprintf("no Ollama at %s (%v)", base, err)
	}
	names := make([]string, 0, len(list.Models))
	for _, m := range list.Models {
		names = append(names, m.Name)
		if m.Name == model || m.Name == model+":latest" {
			return true, ""
		}
	}
	return false, fmt.Sprintf("the Ollama at %s has no model %q (it has %d: %v)", base, model, len(names), names)
}
