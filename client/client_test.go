package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

func ptr[T any](v T) *T { return &v }

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newServer runs the real server's handler on loopback. It is mounted with
// httptest rather than Start so that a proxy on another port can front it.
func newServer(t *testing.T) (*server.Server, *httptest.Server) {
	return newServerWith(t, server.Config{})
}

// newServerWith is newServer with a config; Ollama points nowhere.
func newServerWith(t *testing.T, cfg server.Config) (*server.Server, *httptest.Server) {
	cfg.OllamaURL = "http://" + closedAddr(t)
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	return srv, ts
}

func newClient(t *testing.T, url string, opts ...client.Option) *client.Client {
	cl, err := client.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func flood(n int, rate float64) wire.StreamSpec {
	return wire.StreamSpec{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: ptr(n), Rate: ptr(rate)}}
}

func drain(ch <-chan client.Event) []client.Event {
	var evs []client.Event
	for ev := range ch {
		evs = append(evs, ev)
	}
	return evs
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:1", "ftp://x", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

func TestRESTCalls(t *testing.T) {
	_, ts := newServer(t)
	cl := newClient(t, ts.URL)
	ctx := context.Background()

	h, err := cl.Health(ctx)
	if err != nil || !h.OK || h.Ollama.Reachable {
		t.Fatalf("health %+v %v", h, err)
	}
	m, err := cl.Models(ctx)
	if err != nil || len(m.Models) != len(server.DemoModelNames()) || m.OllamaError == "" {
		t.Fatalf("models %+v %v", m, err)
	}
	_, err = cl.StartRun(ctx, wire.RunRequest{Prompt: "", Streams: []wire.StreamSpec{flood(1, 0)}})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message != "empty prompt" || apiErr.Hint == "" {
		t.Fatalf("empty prompt: %v", err)
	}
	if !strings.Contains(err.Error(), "empty prompt") {
		t.Errorf("error text %q", err)
	}
	run, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 100)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.CancelRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	evs := subscribeAll(t, cl, run.Streams[0].ID)
	if last := evs[len(evs)-1]; last.Reason != wire.ReasonCancelled {
		t.Errorf("cancelled run ended with %+v", last)
	}
	tr, err := cl.Run(ctx, run.ID)
	if err != nil || tr.ID != run.ID || len(tr.Streams) != 1 {
		t.Fatalf("run %+v %v", tr, err)
	}
	if err := cl.CancelStream(ctx, "s_nope"); !client.IsNotFound(err) {
		t.Errorf("cancel unknown stream: %v", err)
	}
}

func subscribeAll(t *testing.T, cl *client.Client, id string) []client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	ch, err := cl.Subscribe(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(ch)
	if len(evs) == 0 || !evs[len(evs)-1].Terminal() {
		t.Fatalf("no terminal event (%v)", ctx.Err())
	}
	return evs
}

func TestSubscribeErrors(t *testing.T) {
	_, ts := newServer(t)
	cl := newClient(t, ts.URL)
	if _, err := cl.Subscribe(context.Background(), "s_nope"); !client.IsNotFound(err) {
		t.Errorf("unknown stream: %v", err)
	}
	down := newClient(t, "http://"+closedAddr(t))
	if _, err := down.Subscribe(context.Background(), "s_x"); err == nil {
		t.Errorf("unreachable server: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cl.Subscribe(ctx, "s_x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestCancelSubscription ends a subscription mid-stream: the channel closes
// promptly and (checked by TestMain) no goroutine is left. Promptly: the
// stream would run for 200 s; the channel must close without its terminal
// event while the stream still runs.
func TestCancelSubscription(t *testing.T) {
	srv, ts := newServer(t)
	cl := newClient(t, ts.URL)
	run, err := cl.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 500)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := cl.Subscribe(ctx, run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		<-ch
	}
	cancel()
	checkClosedByCancel(t, srv, drain(ch), 1)
}

// checkClosedByCancel checks that a subscription whose events were evs
// closed because its context was cancelled, before the end of its stream:
// without its terminal event, and with the server's streams (running
// of them at the cancel) still running after the close.
func checkClosedByCancel[E interface{ Terminal() bool }](t *testing.T, srv *server.Server, evs []E, running int) {
	t.Helper()
	for _, ev := range evs {
		if ev.Terminal() {
			t.Fatalf("the channel delivered a terminal event after the cancel: it closed at the stream's end, not at the cancel")
		}
	}
	if n := srv.Stats().ActiveStreams; n != running {
		t.Errorf("%d streams still running after the channel closed, want %d: it did not close before the stream's end", n, running)
	}
}

// cutProxy forwards TCP connections to target and cuts each one after a
// random number of bytes from the server, drawn from its own seeded
// generator.
type cutProxy struct {
	ln      net.Listener
	target  string
	minCut  int
	maxCut  int
	conns   atomic.Int64 // connections forwarded
	cuts    atomic.Int64 // connections cut before the server ended them
	wg      sync.WaitGroup
	mu      sync.Mutex
	rng     *rand.Rand
	live    map[net.Conn]net.Conn // client side -> server side, once dialled
	first   []int                 // budgets of the first connections, before the random ones
	refuse  atomic.Bool
	closing chan struct{}
}

func newCutProxy(t *testing.T, target string, minCut, maxCut int, seed uint64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, minCut: minCut, maxCut: maxCut,
		rng: rand.New(rand.NewPCG(seed, 2)), live: map[net.Conn]net.Conn{}, closing: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) close() {
	select {
	case <-p.closing:
	default:
		close(p.closing)
		p.ln.Close()
		p.cutAll()
	}
	p.wg.Wait()
}

// cutAll cuts every connection open now.
func (p *cutProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, up := range p.live {
		c.Close()
		if up != nil {
			up.Close()
		}
		delete(p.live, c)
	}
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		// Under mu, so that cutAll after refuse.Store(true) leaves
		// nothing open.
		p.mu.Lock()
		if p.refuse.Load() {
			p.mu.Unlock()
			c.Close()
			continue
		}
		budget := p.minCut + p.rng.IntN(p.maxCut-p.minCut+1)
		if len(p.first) > 0 {
			budget, p.first = p.first[0], p.first[1:]
		}
		p.live[c] = nil
		p.mu.Unlock()
		p.conns.Add(1)
		p.wg.Add(1)
		go p.pipe(c, budget)
	}
}

func (p *cutProxy) pipe(c net.Conn, budget int) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.live, c)
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	p.mu.Lock()
	if _, ok := p.live[c]; !ok { // cut while dialling
		p.mu.Unlock()
		return
	}
	p.live[c] = up
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(up, c)
		up.Close() // the client is gone: so is the answer's reader
	}()
	if _, err := io.CopyN(c, up, int64(budget)); err == nil {
		p.cuts.Add(1) // the budget ran out before the server's answer did
	}
}

// TestResumeThroughCuts follows 8 concurrent streams, 100 times over,
// through a proxy that cuts every connection at a random byte (mid-frame,
// mid-JSON, mid-character): each stream's events must equal the server's
// transcript byte for byte, every seq once and in order, the text exactly.
// The streams are paced so that most cuts fall while they are still being
// generated, and one stream a round echoes text with multi-byte characters,
// line breaks and a leading colon.
func TestResumeThroughCuts(t *testing.T) {
	rounds := 100
	if testing.Short() {
		rounds = 10
	}
	const streams = 8
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	_, ts := newServer(t)
	proxy := newCutProxy(t, strings.TrimPrefix(ts.URL, "http://"), 200, 4000, seed)
	direct := newClient(t, ts.URL)
	cl := newClient(t, proxy.url(), client.WithReconnect(time.Millisecond, 10*time.Millisecond, testenv.Patience))
	const tricky = "Ünïcödé 😀🧵 :colon\nline\r\nbreaks \"quotes\" <b>&amp; data: id: event: tab\tend"

	began := time.Now()
	tokens, events := 0, 0
	for round := range rounds {
		specs := []wire.StreamSpec{{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(2000.0)}}}
		for len(specs) < streams {
			specs = append(specs, flood(50+rng.IntN(250), []float64{0, 2000, 5000, 10000}[rng.IntN(4)]))
		}
		run, err := direct.StartRun(context.Background(), wire.RunRequest{Prompt: strings.Repeat(tricky+" ", 1+rng.IntN(4)), Streams: specs})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		got := make([][]client.Event, len(run.Streams))
		for i, s := range run.Streams {
			wg.Go(func() { got[i] = subscribeAll(t, cl, s.ID) })
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		tr, err := direct.Run(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, evs := range got {
			want := tr.Streams[i]
			if len(evs) != len(want.Events) {
				t.Fatalf("round %d stream %d: %d events, the transcript has %d", round, i, len(evs), len(want.Events))
			}
			var text strings.Builder
			for j, ev := range evs {
				if ev.Seq != int64(j) || ev.Local {
					t.Fatalf("round %d stream %d: event %d has seq %d (local %v: %q)", round, i, j, ev.Seq, ev.Local, ev.Message)
				}
				if ev.Type != want.Events[j].Event || string(ev.Raw) != string(want.Events[j].Data) {
					t.Fatalf("round %d stream %d: event %d is %s %s, the transcript's %s %s", round, i, j, ev.Type, ev.Raw, want.Events[j].Event, want.Events[j].Data)
				}
				if ev.Type == wire.EventToken {
					text.WriteString(ev.Text)
					tokens++
				}
			}
			events += len(evs)
			if last := evs[len(evs)-1]; last.Type != wire.EventDone || last.Reason != wire.ReasonStop {
				t.Fatalf("round %d stream %d ended with %+v", round, i, last)
			}
			if text.String() != want.Text {
				t.Fatalf("round %d stream %d: text differs from the transcript's", round, i)
			}
		}
	}
	cuts := proxy.cuts.Load()
	t.Logf("%d rounds × %d streams in %v: %d tokens (%d events) compared with the transcripts, all equal; %d connections, %d cut mid-answer, every one resumed",
		rounds, streams, time.Since(began).Round(time.Millisecond), tokens, events, proxy.conns.Load(), cuts)
	if cuts < int64(rounds*streams) {
		t.Errorf("only %d cuts in %d streams: the proxy did not cut enough", cuts, rounds*streams)
	}
}

// TestResumeAfterEviction: a subscriber cut off until its run was evicted
// from the server's store cannot resume; it gets an error event right after
// the last event it received, never a silent gap.
func TestResumeAfterEviction(t *testing.T) {
	srv, ts := newServerWith(t, server.Config{RunTTL: 200 * time.Millisecond})
	proxy := newCutProxy(t, strings.TrimPrefix(ts.URL, "http://"), 1<<30, 1<<30, 1)
	direct := newClient(t, ts.URL)
	cl := newClient(t, proxy.url(), client.WithReconnect(5*time.Millisecond, 20*time.Millisecond, testenv.Patience))
	run, err := direct.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(300, 1000)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ch, err := cl.Subscribe(ctx, run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []client.Event
	for len(evs) < 20 {
		evs = append(evs, <-ch)
	}
	proxy.refuse.Store(true)
	proxy.cutAll()
	testenv.Eventually(t, "the run's eviction", func() bool {
		_, err := direct.Run(ctx, run.ID)
		return client.IsNotFound(err) && srv.Stats().Runs == 0
	})
	proxy.refuse.Store(false)
	evs = append(evs, drain(ch)...)
	for i, ev := range evs {
		if ev.Seq != int64(i) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	last := evs[len(evs)-1]
	if !last.Local || last.Type != wire.EventError || !strings.Contains(last.Message, "no longer available") || !strings.Contains(last.Message, "unknown stream") {
		t.Fatalf("after eviction the subscription ended with %+v", last)
	}
	t.Logf("cut off after %d events; after the eviction: %q", len(evs)-1, last.Message)
}

// TestFirstConnectionCut: a subscription whose first connections are cut in
// the middle of the answer's headers is tried again, and then gets every
// event.
func TestFirstConnectionCut(t *testing.T) {
	_, ts := newServer(t)
	proxy := newCutProxy(t, strings.TrimPrefix(ts.URL, "http://"), 1<<30, 1<<30, 1)
	proxy.mu.Lock()
	proxy.first = []int{0, 20, 90}
	proxy.mu.Unlock()
	direct := newClient(t, ts.URL)
	cl := newClient(t, proxy.url(), client.WithReconnect(time.Millisecond, 10*time.Millisecond, testenv.Patience))
	run, err := direct.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	evs := subscribeAll(t, cl, run.Streams[0].ID)
	if last := evs[len(evs)-1]; last.Reason != wire.ReasonStop || len(evs) != 102 {
		t.Errorf("%d events, last %+v", len(evs), last)
	}
	if n := proxy.conns.Load(); n != 4 {
		t.Errorf("%d connections, want 3 cut and 1 whole", n)
	}
}

// TestGiveUp: when the server stays out of reach, the subscription ends
// with a local error event instead of retrying forever.
func TestGiveUp(t *testing.T) {
	_, ts := newServer(t)
	proxy := newCutProxy(t, strings.TrimPrefix(ts.URL, "http://"), 400, 400, 1)
	direct := newClient(t, ts.URL)
	cl := newClient(t, proxy.url(), client.WithReconnect(5*time.Millisecond, 20*time.Millisecond, 300*time.Millisecond))
	run, err := direct.StartRun(context.Background(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1000, 100)}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cl.Subscribe(context.Background(), run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	proxy.refuse.Store(true)
	began := time.Now()
	evs := drain(ch)
	last := evs[len(evs)-1]
	if !last.Local || last.Type != wire.EventError || !strings.Contains(last.Message, "lost the connection") || last.Seq != evs[len(evs)-2].Seq+1 {
		t.Fatalf("last event %+v", last)
	}
	// Without the give-up the drain above would never end. That it ends
	// about 300 ms after the last contact is checked against 5 s: each try
	// is a refused loopback connection and a sleep of at most 20 ms, which
	// a loaded machine delays by milliseconds, not by seconds.
	took := time.Since(began)
	t.Logf("gave up %v after the proxy began refusing", took)
	if took > 5*time.Second {
		t.Errorf("gave up after %v, want about 300 ms", took)
	}
	if err := direct.CancelRun(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
}

// fakeSSE is a hand-written SSE server for answers the real server never
// gives: duplicates, gaps, garbage.
func fakeSSE(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, attempt int)) string {
	var attempts atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		handler(w, r, int(attempts.Add(1)))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func frame(w io.Writer, seq int, typ, data string) {
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, typ, data)
	w.(http.Flusher).Flush()
}

func TestDuplicatesAndGaps(t *testing.T) {
	var lastIDs []string
	url := fakeSSE(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		switch attempt {
		case 1:
			frame(w, 0, "phase", `{"seq":0,"phase":"generating","t_ms":1}`)
			frame(w, 1, "token", `{"seq":1,"text":"a","t_ms":2}`)
			frame(w, 1, "token", `{"seq":1,"text":"a","t_ms":2}`)
			frame(w, 3, "token", `{"seq":3,"text":"c","t_ms":4}`) // 2 is missing
			frame(w, 4, "token", `{"seq":4,"text":"d","t_ms":5}`)
		default:
			frame(w, 1, "token", `{"seq":1,"text":"a","t_ms":2}`) // replayed once more
			frame(w, 2, "token", `{"seq":2,"text":"b","t_ms":3}`)
			frame(w, 3, "done", `{"seq":3,"reason":"stop","t_ms":4,"stats":{"tokens":2}}`)
		}
	})
	cl := newClient(t, url, client.WithReconnect(time.Millisecond, time.Millisecond, testenv.Patience))
	ch, err := cl.Subscribe(context.Background(), "s_x")
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	var text string
	for _, ev := range drain(ch) {
		seqs = append(seqs, ev.Seq)
		text += ev.Text
	}
	if fmt.Sprint(seqs) != "[0 1 2 3]" || text != "ab" {
		t.Errorf("seqs %v text %q", seqs, text)
	}
	if len(lastIDs) != 2 || lastIDs[0] != "" || lastIDs[1] != "1" {
		t.Errorf("Last-Event-ID sent: %q", lastIDs)
	}
}

// TestPartialFramesInARow: connections cut in the middle of a frame, several
// times in a row without progress, leave a different partial frame each
// time; the subscription resumes every time and gets the whole stream.
func TestPartialFramesInARow(t *testing.T) {
	const whole = "id: 0\nevent: token\ndata: {\"seq\":0,\"text\":\"a\",\"t_ms\":1}\n\n"
	url := fakeSSE(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
		if attempt <= 5 {
			// The frame cut after 30, 35, 40, … bytes: the end of the
			// connection hands it over unfinished.
			fmt.Fprint(w, whole[:25+5*attempt]+"\n\n")
			return
		}
		frame(w, 0, "token", `{"seq":0,"text":"a","t_ms":1}`)
		frame(w, 1, "done", `{"seq":1,"reason":"stop","t_ms":2}`)
	})
	cl := newClient(t, url, client.WithReconnect(time.Millisecond, time.Millisecond, testenv.Patience))
	ch, err := cl.Subscribe(context.Background(), "s_x")
	if err != nil {
		t.Fatal(err)
	}
	evs := drain(ch)
	if len(evs) != 2 || evs[1].Type != wire.EventDone || evs[1].Local {
		t.Errorf("events %+v", evs)
	}
}

func TestUnreadableEvents(t *testing.T) {
	for _, tt := range []struct{ name, typ, data, want string }{
		{"bad JSON", "token", `{"seq":0,"text":`, "unreadable token event"},
		{"unknown type", "tick", `{"seq":0}`, "unknown event type"},
		{"id and seq differ", "token", `{"seq":5,"text":"a"}`, "does not match"},
		{"token without text", "token", `{"seq":0,"t_ms":1}`, "without text"},
		{"done without reason", "done", `{"seq":0,"t_ms":1}`, "without a known reason"},
		{"null data", "phase", `null`, "without its phase"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeSSE(t, func(w http.ResponseWriter, r *http.Request, attempt int) {
				frame(w, 0, tt.typ, tt.data)
				<-r.Context().Done()
			})
			cl := newClient(t, url)
			ch, err := cl.Subscribe(context.Background(), "s_x")
			if err != nil {
				t.Fatal(err)
			}
			evs := drain(ch)
			if len(evs) != 1 || !evs[0].Local || evs[0].Type != wire.EventError || !strings.Contains(evs[0].Message, tt.want) {
				t.Errorf("events %+v", evs)
			}
		})
	}
}

func TestNotAnSSEServer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>hello</html>")
	}))
	defer ts.Close()
	cl := newClient(t, ts.URL)
	_, err := cl.Subscribe(context.Background(), "s_x")
	if err == nil || !strings.Contains(err.Error(), "does not answer like a Tokenloom server") {
		t.Errorf("error %v", err)
	}
}
