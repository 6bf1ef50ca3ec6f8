package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// follow subscribes to every stream of a run and returns each stream's
// events up to its terminal one. A stream that ends in an error fails.
func follow(ctx context.Context, cl *client.Client, created *wire.RunCreated) ([][]client.Event, error) {
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
				if ev.Type == wire.EventError {
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

// tokensPerSecond checks that every stream received tokens tokens and
// returns the tokens received per second from start to the last of them.
func tokensPerSecond(start time.Time, streams [][]client.Event, tokens int) (float64, error) {
	var n int
	var last time.Time
	for i, evs := range streams {
		count := 0
		for _, ev := range evs {
			if ev.Type == wire.EventToken {
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

// relayRound streams streams × tokens demo/flood tokens, as fast as the
// source makes them, through the embedded server to one client per stream,
// and returns the tokens received per second from the run's start to the
// last token.
func relayRound(ctx context.Context, e *embedded.Server, streams, tokens int) (float64, error) {
	zero := 0.0
	req := wire.RunRequest{Prompt: "bench"}
	for range streams {
		req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoFlood,
			Options: &wire.Options{NumPredict: &tokens, Rate: &zero}})
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
	return tokensPerSecond(start, got, tokens)
}

// tapLine is one line of a tapped reply and when the tap passed it on: as
// soon as it came off the wire, or, paced, at its release.
type tapLine struct {
	at   time.Time
	line []byte
}

// tapReply is one tapped reply: the key of its request (tap.keyOf) and its
// lines.
type tapReply struct {
	key   string
	lines []tapLine
}

// tap is a reverse proxy that notes when each line of the replies it taps
// passes through it. In front of Ollama it taps /api/chat: the moment a
// program reading Ollama's NDJSON directly would have a line. In front of
// the embedded server (the browser part) it taps /events: the moment the
// browser's connection gets an SSE line. Armed with a pacing, it holds the
// lines of the next replies and releases them at a human rate.
type tap struct {
	handler http.Handler
	tr      *http.Transport
	// keyOf says whether the reply to r (whose body is body) is tapped,
	// and under which key.
	keyOf func(r *http.Request, body []byte) (key string, ok bool)
	// srv, if not nil, serves handler alone (startTap); url is its address.
	srv *loopbackServer
	url string

	mu      sync.Mutex
	replies []*tapReply
	pacing  *pacing // of the next replies; nil: lines pass at once
}

// tapKey is the context key of a tapped request's key.
type tapKey struct{}

// newTap makes a tap in front of upstream; keyOf chooses the replies it
// notes.
func newTap(upstream *url.URL, keyOf func(r *http.Request, body []byte) (string, bool)) *tap {
	t := &tap{tr: &http.Transport{Proxy: nil}, keyOf: keyOf}
	proxy := &httputil.ReverseProxy{
		Transport:     t.tr,
		ErrorLog:      quietLog,
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		FlushInterval: -1, // pass every write on at once
		ModifyResponse: func(resp *http.Response) error {
			ctx := resp.Request.Context()
			if key, ok := ctx.Value(tapKey{}).(string); ok {
				resp.Body = t.newLineReader(ctx, resp.Body, key)
			}
			return nil
		},
	}
	// The request (a small JSON body) is read whole before it is passed
	// on. Streamed, its body was still being copied to Ollama when the
	// reply's headers went back, and net/http may end a request's body
	// then: the transport failed the copy and closed the connection under
	// the reply ("use of closed network connection", a broken round).
	t.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if key, ok := t.keyOf(r, body); ok {
			r = r.WithContext(context.WithValue(r.Context(), tapKey{}, key))
		}
		proxy.ServeHTTP(w, r)
	})
	return t
}

// startTap serves a tap of Ollama's /api/chat replies on loopback, keyed
// by the seed of each request.
func startTap(upstream *url.URL) (*tap, error) {
	t := newTap(upstream, chatKey)
	srv, err := serveLoopback(t.handler, nil)
	if err != nil {
		return nil, err
	}
	t.srv, t.url = srv, srv.url
	return t, nil
}

// chatKey taps the replies of /api/chat, keyed by the request's seed
// option ("" without one): overheadRound gives stream i the seed i.
func chatKey(r *http.Request, body []byte) (string, bool) {
	if r.URL.Path != "/api/chat" {
		return "", false
	}
	var req struct {
		Options struct {
			Seed *int64 `json:"seed"`
		} `json:"options"`
	}
	if json.Unmarshal(body, &req) != nil || req.Options.Seed == nil {
		return "", true
	}
	return strconv.FormatInt(*req.Options.Seed, 10), true
}

func (t *tap) close() {
	if t.srv != nil {
		t.srv.close()
	}
	t.tr.CloseIdleConnections()
}

// pace arms the tap: the replies that start from now on are held and
// released by p (nil: they pass at once).
func (t *tap) pace(p *pacing) {
	t.mu.Lock()
	t.pacing = p
	t.mu.Unlock()
}

// take returns the replies noted so far and forgets them.
func (t *tap) take() []*tapReply {
	t.mu.Lock()
	defer t.mu.Unlock()
	replies := t.replies
	t.replies = nil
	return replies
}

func (t *tap) note(reply *tapReply, l tapLine) {
	t.mu.Lock()
	reply.lines = append(reply.lines, l)
	t.mu.Unlock()
}

// newLineReader taps a reply's body: every complete line read through it
// is noted under key. ctx ends the wait of a paced reply.
func (t *tap) newLineReader(ctx context.Context, rc io.ReadCloser, key string) *lineReader {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &lineReader{ctx: ctx, rc: rc, t: t, reply: &tapReply{key: key}, pace: t.pacing}
	t.replies = append(t.replies, r.reply)
	if r.pace != nil {
		r.index = r.pace.join()
	}
	return r
}

// lineReader notes the time of every complete line read through it. Paced,
// it first reads the whole reply, then hands on one line a Read at the
// line's time.
type lineReader struct {
	ctx     context.Context
	rc      io.ReadCloser
	t       *tap
	reply   *tapReply
	partial []byte

	pace    *pacing
	index   int      // the reply's place in its pacing
	held    [][]byte // paced: the reply's lines, each with its newline
	loaded  bool     // paced: held has the whole reply
	readErr error    // paced: what ended the reply (nil at its clean end)
	next    int      // paced: the line to release next
	out     []byte   // paced: what is left of the released line
}

func (r *lineReader) Read(p []byte) (int, error) {
	if r.pace != nil {
		return r.readPaced(p)
	}
	n, err := r.rc.Read(p)
	now := time.Now()
	for _, line := range r.lines(p[:n]) {
		r.t.note(r.reply, tapLine{at: now, line: line})
	}
	return n, err
}

// lines returns the lines that data completes, without their newlines,
// and keeps the rest for the next call.
func (r *lineReader) lines(data []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			r.partial = append(r.partial, data...)
			return out
		}
		out = append(out, append(r.partial, data[:i]...))
		r.partial = nil
		data = data[i+1:]
	}
}

func (r *lineReader) readPaced(p []byte) (int, error) {
	if !r.loaded {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	if len(r.out) == 0 {
		if r.next == len(r.held) {
			if r.readErr != nil {
				return 0, r.readErr
			}
			return 0, io.EOF
		}
		if err := r.pace.wait(r.ctx, r.pace.due(r.index, r.next)); err != nil {
			return 0, err
		}
		line := r.held[r.next]
		r.next++
		r.t.note(r.reply, tapLine{at: r.pace.clock.Now(), line: bytes.TrimSuffix(line, []byte("\n"))})
		r.out = line
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// load reads the whole reply into held, then waits for the pacing's
// start: the moment every reply of the pacing is read whole.
func (r *lineReader) load() error {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.rc.Read(buf)
		for _, line := range r.lines(buf[:n]) {
			r.held = append(r.held, append(line, '\n'))
		}
		if err != nil {
			if len(r.partial) > 0 {
				r.held = append(r.held, r.partial)
				r.partial = nil
			}
			if !errors.Is(err, io.EOF) {
				r.readErr = err
			}
			break
		}
	}
	r.loaded = true
	r.pace.loaded()
	select {
	case <-r.pace.started:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

func (r *lineReader) Close() error { return r.rc.Close() }

// pacing holds the lines of a number of replies and releases them at a
// human rate: once every reply is read whole (so that the model's own
// work is over before the first line leaves), line k of reply i is due at
// start + (k + i/replies) / rate; the replies are spread evenly over each
// interval rather than released together.
type pacing struct {
	clock   server.Clock
	rate    float64 // lines per second of each reply
	replies int

	mu      sync.Mutex
	joined  int
	read    int
	start   time.Time
	started chan struct{} // closed at start
}

// newPacing paces replies replies at rate lines per second each on clock.
func newPacing(clock server.Clock, replies int, rate float64) *pacing {
	return &pacing{clock: clock, rate: rate, replies: replies, started: make(chan struct{})}
}

// join returns the place of a new reply.
func (p *pacing) join() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.joined++
	return p.joined - 1
}

// loaded notes that a reply is read whole; the last one starts the clock.
func (p *pacing) loaded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read++
	if p.read == p.replies {
		p.start = p.clock.Now()
		close(p.started)
	}
}

// due is the time of line k of reply i. It is called after the start.
func (p *pacing) due(i, k int) time.Time {
	at := (float64(k) + float64(i)/float64(p.replies)) / p.rate
	return p.start.Add(time.Duration(at * float64(time.Second)))
}

// wait waits until at (at once if it is past) or until ctx ends.
func (p *pacing) wait(ctx context.Context, at time.Time) error {
	t := p.clock.NewTimer(at.Sub(p.clock.Now()))
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tokenTiming is when one token passed the tap and when the client had it.
type tokenTiming struct {
	tap, client time.Time
}

// overheadRound streams streams streams of tokens tokens of model at once
// through the tap and the embedded server (stream i with the seed i, by
// which the tap's replies are told apart) and returns, per token, when the
// tap passed its line on and when the client had it.
func overheadRound(ctx context.Context, e *embedded.Server, t *tap, model string, streams, tokens int) ([]tokenTiming, error) {
	temp := 0.0
	t.take()
	req := wire.RunRequest{Prompt: "one"}
	for i := range streams {
		seed := int64(i)
		req.Streams = append(req.Streams, wire.StreamSpec{Model: model,
			Options: &wire.Options{NumPredict: &tokens, Temperature: &temp, Seed: &seed}})
	}
	created, err := e.Client.StartRun(ctx, req)
	if err != nil {
		return nil, err
	}
	got, err := follow(ctx, e.Client, created)
	if err != nil {
		return nil, err
	}
	replies := map[string]*tapReply{}
	for _, r := range t.take() {
		replies[r.key] = r
	}
	var out []tokenTiming
	for i, events := range got {
		reply, ok := replies[strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("stream %d: no reply from Ollama through the tap", i)
		}
		timings, err := pairTokens(reply.lines, events)
		if err != nil {
			return nil, fmt.Errorf("stream %d: %w", i, err)
		}
		out = append(out, timings...)
	}
	return out, nil
}

// pairTokens pairs the tokens a client received with the lines of Ollama's
// reply that carried them.
func pairTokens(lines []tapLine, events []client.Event) ([]tokenTiming, error) {
	var chunks []tapLine
	for _, l := range lines {
		var resp api.ChatResponse
		if err := json.Unmarshal(l.line, &resp); err != nil {
			return nil, fmt.Errorf("tap: unreadable line from Ollama %q: %w", l.line, err)
		}
		if resp.Message.Content != "" {
			chunks = append(chunks, tapLine{at: l.at, line: []byte(resp.Message.Content)})
		}
	}
	var out []tokenTiming
	for _, ev := range events {
		if ev.Type != wire.EventToken {
			continue
		}
		i := len(out)
		if i >= len(chunks) {
			return nil, fmt.Errorf("token %d %q reached the client but not through the tap", i, ev.Text)
		}
		if string(chunks[i].line) != ev.Text {
			return nil, fmt.Errorf("token %d: %q at the client, %q from Ollama", i, ev.Text, chunks[i].line)
		}
		out = append(out, tokenTiming{tap: chunks[i].at, client: ev.Received})
	}
	if len(out) != len(chunks) {
		return nil, fmt.Errorf("%d tokens from Ollama, %d at the client", len(chunks), len(out))
	}
	return out, nil
}

// overheads returns each token's overhead: from the tap to the client.
func overheads(timings []tokenTiming) []time.Duration {
	out := make([]time.Duration, len(timings))
	for i, tt := range timings {
		out[i] = tt.client.Sub(tt.tap)
	}
	return out
}

// quietLog is the error log of the bench's servers and proxies. Their
// complaints (a browser that resets a connection it never used, a reply
// cut when a part stops) are no figure's business: what breaks a
// measurement surfaces in it.
var quietLog = log.New(io.Discard, "", 0)

// loopbackServer is an HTTP server on a free loopback port.
type loopbackServer struct {
	srv  *http.Server
	url  string
	done chan struct{}
}

// serveLoopback serves h on a free port of 127.0.0.1: over TLS (and so
// HTTP/2) when tlsConfig is set.
func serveLoopback(h http.Handler, tlsConfig *tls.Config) (*loopbackServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &loopbackServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig, ErrorLog: quietLog},
		url: "http://" + l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if tlsConfig != nil {
			s.srv.ServeTLS(l, "", "") //nolint:errcheck // ends with close
		} else {
			s.srv.Serve(l) //nolint:errcheck // ends with close
		}
	}()
	if tlsConfig != nil {
		s.url = "https://" + l.Addr().String()
	}
	return s, nil
}

func (s *loopbackServer) close() {
	s.srv.Close()
	<-s.done
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
