package e2e

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
	"github.com/tokenloom/tokenloom/server"
)

// newEndpointStack starts an embedded server whose local Ollama is nowhere
// and whose endpoints are eps, and a client of it, closed at the end of the
// test (before the Ollamas are stopped).
func newEndpointStack(t *testing.T, eps ...endpoints.Endpoint) (*server.Server, *client.Client) {
	t.Helper()
	return newStackWith(t, server.Config{OllamaURL: "http://" + closedPort(t), Endpoints: eps})
}

// modelsOf lists the names of the models of endpoint.
func modelsOf(ms []wire.Model, endpoint string) []string {
	var out []string
	for _, m := range ms {
		if m.Endpoint == endpoint {
			out = append(out, m.Name)
		}
	}
	return out
}

// TestEndpointsTwoOllamas runs one run over two real Ollamas, each an
// endpoint: a model that only the second one has shows which one answered
// each stream. The local Ollama is nowhere: every token comes through an
// endpoint.
func TestEndpointsTwoOllamas(t *testing.T) {
	left, right := ollamatest.Start(t), ollamatest.Start(t)
	const rightOnly = "tokenloom-right"
	right.CreateModel(rightOnly, "FROM "+right.Model()+"\n")
	_, cl := newEndpointStack(t,
		endpoints.Endpoint{Name: "left", Kind: endpoints.KindOllama, URL: left.URL()},
		endpoints.Endpoint{Name: "right", Kind: endpoints.KindOllama, URL: right.URL()})
	ctx := testContext(t)

	created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{
		{Model: left.Model(), Endpoint: "left"},
		{Model: rightOnly, Endpoint: "right"},
		{Model: rightOnly, Endpoint: "left"},
	}})
	checkDone(t, "left", got[0], testmodel.FoxSentence, wire.ReasonStop)
	checkDone(t, "right", got[1], testmodel.FoxSentence, wire.ReasonStop)
	checkWellFormed(t, "left without the model", got[2])
	if l := got[2].last(); l.Type != wire.EventError || !strings.Contains(l.Message, `model "`+rightOnly+`" not found`) {
		t.Errorf("the model only right has, asked of left: %v; want model not found", got[2])
	}
	checkTranscript(t, ctx, cl, created, got)
	tr := finishedTranscript(t, ctx, cl, created.ID)
	for i, want := range []string{"left", "right", "left"} {
		if tr.Streams[i].Endpoint != want || created.Streams[i].Endpoint != want {
			t.Errorf("stream %d: transcript endpoint %q, created %q; want %q", i, tr.Streams[i].Endpoint, created.Streams[i].Endpoint, want)
		}
	}

	ms, err := cl.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l, r := modelsOf(ms.Models, "left"), modelsOf(ms.Models, "right"); !slices.Equal(l, []string{left.Model() + ":latest"}) ||
		!slices.Equal(r, []string{rightOnly + ":latest", right.Model() + ":latest"}) {
		t.Errorf("models of left %v, of right %v", l, r)
	}
	h, err := cl.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Ollama.Reachable || len(h.Endpoints) != 2 || !h.Endpoints[0].Reachable || !h.Endpoints[1].Reachable ||
		h.Endpoints[0].URL != left.URL() || h.Endpoints[1].URL != right.URL() || h.Endpoints[1].Version == "" {
		t.Errorf("health %+v", h)
	}

	// The same through the binary: one endpoint from the file in the
	// config folder, one from a flag.
	config := t.TempDir()
	if err := os.MkdirAll(filepath.Join(config, "tokenloom"), 0o700); err != nil {
		t.Fatal(err)
	}
	file := `{"endpoints":[{"name":"right","kind":"ollama","url":"` + right.URL() + `"}]}`
	if err := os.WriteFile(filepath.Join(config, "tokenloom", endpoints.FileName), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "run.json")
	out, errOut, code := runCLI(t, cliEnv(closedPort(t), "XDG_CONFIG_HOME="+config, "NO_COLOR=1"), "run",
		"-m", left.Model()+"@left", "-m", rightOnly+"@right", "-p", "The", "--endpoint", "left=ollama:"+left.URL(), "--save", saved)
	if code != 0 || !strings.Contains(out, rightOnly+"@right") {
		t.Fatalf("tokenloom run: exit %d\n%s\n%s", code, out, errOut)
	}
	st, err := export.Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"left", "right"} {
		if s := st.Streams[i]; s.Endpoint != want || s.Text != testmodel.FoxSentence {
			t.Errorf("saved stream %d: endpoint %q, text %q; want %q, %q", i, s.Endpoint, s.Text, want, testmodel.FoxSentence)
		}
	}
}

// tapProxy forwards TCP connections to an address and tells when the
// client side of one closes: a tap on loopback between Tokenloom and a
// model server.
type tapProxy struct {
	addr   string
	closed chan struct{} // receives when a client closed its connection
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startTapProxy(t *testing.T, target string) *tapProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tapProxy{addr: ln.Addr().String(), closed: make(chan struct{}, 64), ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Go(func() {
				io.Copy(up, c) // until the client closes
				p.closed <- struct{}{}
				up.Close() // and the server sees it
			})
			p.wg.Go(func() {
				io.Copy(c, up)
				c.Close()
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// TestEndpointOpenAIOllama streams from the real Ollama's OpenAI-compatible
// API (/v1/chat/completions) as an openai endpoint: the exact text, the
// token counts of its usage chunk, its models, the upstream's data lines;
// then a cancel that closes the request to it, seen by a tap on loopback,
// after which Ollama stops generating.
func TestEndpointOpenAIOllama(t *testing.T) {
	o := startLongOllama(t)
	tap := startTapProxy(t, o.Host())
	direct, err := endpoints.Parse("ol=openai:" + o.URL() + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	tapped, err := endpoints.Parse("tapped=openai:http://" + tap.addr + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	_, cl := newEndpointStack(t, direct, tapped)
	ctx := testContext(t)

	// Ollama's /v1 samples at temperature 1 unless told.
	zero := &wire.Options{Temperature: floatp(0)}
	created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{{Model: o.Model(), Endpoint: "ol", Options: zero}}})
	checkDone(t, "openai", got[0], testmodel.FoxSentence, wire.ReasonStop)
	checkTranscript(t, ctx, cl, created, got)
	st := got[0].last().Stats
	// 9 tokens and the end of text, as Ollama's eval_count counts them.
	if st.Usage == nil || st.Usage.CompletionTokens != st.Tokens+1 || st.Usage.PromptTokens <= 0 || st.Ollama != nil || st.TTFTMs <= 0 {
		t.Errorf("stats %+v, usage %+v: want usage of %d completion tokens, no Ollama metrics, a TTFT", st, st.Usage, st.Tokens+1)
	}
	if ph := got[0].phases(); !slices.Equal(ph, []string{wire.PhasePrompt, wire.PhaseGenerating}) {
		t.Errorf("phases %v", ph)
	}
	up, err := cl.Upstream(ctx, created.Streams[0].ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(up.Lines); n < st.Tokens+2 || up.Lines[n-1].Data != "[DONE]" || !strings.Contains(up.Lines[n-2].Data, `"usage":{`) || !up.Finished {
		t.Errorf("upstream %+v: want a line per token, the usage chunk, then [DONE]", up)
	}
	// Cancelled in the middle, through the tap. Through /v1, Ollama caps
	// the generation at 10 × 2048 tokens (the model's context length, not
	// the long model's num_ctx): about 2 s of generation, at the fastest.
	const v1Cap = 10 * 2048
	opts := &wire.Options{Temperature: floatp(0), NumPredict: intp(longCap)}
	created, chans := start(t, ctx, cl, wire.RunRequest{Prompt: "one", Streams: []wire.StreamSpec{{Model: longModel, Endpoint: "tapped", Options: opts}}})
	evs := readTokens(t, ctx, chans[0], 200)
	busy := checkOllamaBusy(t, o)
	// How many lines of the reply the server had when the cancel was asked.
	id := created.Streams[0].ID
	before, err := cl.Upstream(ctx, id, -1)
	if err != nil {
		t.Fatal(err)
	}
	evs, asked, took := cancelMidStream(t, ctx, cl, id, chans[0], evs)
	select {
	case <-tap.closed:
	case <-ctx.Done():
		t.Fatal("the request to the endpoint was not closed")
	}
	// The reply stopped short of its end: the close is the cancel's, not
	// the one that follows a finished reply.
	after, err := cl.Upstream(ctx, id, -1)
	if err != nil {
		t.Fatal(err)
	}
	n := len(evs.tokens())
	t.Logf("cancelled after %d tokens, done %v after the request; the tap saw the request close; %d lines of the reply came after the cancel",
		n, took, after.Next-before.Next)
	if after.Next-before.Next > inFlight || n >= v1Cap {
		t.Fatalf("%d lines of the reply came after the cancel, %d tokens in all: the generation went on", after.Next-before.Next, n)
	}
	checkOllamaIdle(t, o, "the cancel request", asked, busy, leftAtLeast(v1Cap-n-inFlight))

	ms, err := cl.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := modelsOf(ms.Models, "ol"); !slices.Contains(names, o.Model()+":latest") || !ms.Endpoints[0].Reachable {
		t.Errorf("models of ol %v, endpoints %+v", names, ms.Endpoints)
	}
}
