package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// fakeOpenAI is an OpenAI-compatible server whose reply depends on the
// model asked for; it checks the API key when it has one.
type fakeOpenAI struct {
	*httptest.Server
	key string

	mu    sync.Mutex
	auths []string             // the Authorization headers it got
	gone  map[string]chan bool // model -> closed when a request of it ended on the client's side
}

func newFakeOpenAI(t *testing.T, key string) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{key: key, gone: map[string]chan bool{"hang": make(chan bool)}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		if !f.authorized(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"tiny","object":"model","created":1,"owned_by":"me"},{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","created":1,"owned_by":"me"}]}`)
	})
	mux.HandleFunc("POST /v1/chat/completions", f.chat)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// authorized checks the key; a wrong one is refused with a 401 that repeats
// what it got, as some servers do.
func (f *fakeOpenAI) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get("Authorization")
	f.mu.Lock()
	f.auths = append(f.auths, got)
	f.mu.Unlock()
	if f.key != "" && got != "Bearer "+f.key {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key"}}`, got)
		return false
	}
	return true
}

func chunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + fr + `}]}`
}

const usageChunk = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`

func (f *fakeOpenAI) chat(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string `json:"model"`
	}
	body := new(bytes.Buffer)
	body.ReadFrom(r.Body)
	json.Unmarshal(body.Bytes(), &req)
	if req.Model != "needs-key" && !f.authorized(w, r) {
		return
	}
	sse := func(lines ...string) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, l := range lines {
			fmt.Fprintf(w, "data: %s\n\n", l)
			w.(http.Flusher).Flush()
		}
	}
	status := func(code int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
	switch req.Model {
	case "tiny":
		sse(chunk(`{"role":"assistant","content":""}`, ""),
			chunk(`{"reasoning_content":"Let me think."}`, ""),
			chunk(`{"content":"Hello"}`, ""),
			chunk(`{"content":" world"}`, ""),
			chunk(`{}`, "stop"),
			usageChunk, "[DONE]")
	case "llama-server":
		// llama.cpp's server: its timings in the last chunk, after 300 ms
		// in the queue for a slot.
		time.Sleep(300 * time.Millisecond)
		sse(chunk(`{"content":"Hello"}`, ""), chunk(`{"content":" world"}`, ""),
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"timings":{"prompt_n":5,"prompt_ms":4.5,"predicted_n":2,"predicted_ms":1.25}}`,
			"[DONE]")
	case "reasoner":
		sse(chunk(`{"reasoning":"Hm."}`, ""), chunk(`{"content":"Yes."}`, "length"), "[DONE]")
	case "needs-key":
		// A server that checks no key but reports the one it got.
		status(http.StatusUnauthorized, fmt.Sprintf(`{"error":{"message":"bad key %s"}}`, r.Header.Get("Authorization")))
	case "missing":
		status(http.StatusNotFound, `{"error":{"message":"model \"missing\" not found, try pulling it first","type":"api_error"}}`)
	case "busy":
		status(http.StatusTooManyRequests, `{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}`)
	case "broken":
		status(http.StatusInternalServerError, `{"object":"error","message":"CUDA out of memory","type":"InternalServerError","code":500}`)
	case "cut":
		sse(chunk(`{"content":"Hello"}`, ""))
		fmt.Fprint(w, `data: {"id":"c1","choices":[{"index":0,"delta":{"content":" wor`)
		w.(http.Flusher).Flush()
		hangUp(w)
	case "nodone":
		sse(chunk(`{"content":"Hello"}`, ""), chunk(`{}`, "stop"))
	case "malformed":
		sse(chunk(`{"content":"Hello"}`, ""), `{"choices":[{"index":0,"delta":{"content":"x"}}]`)
	case "failing":
		sse(chunk(`{"content":"Hello"}`, ""), `{"error":{"message":"the engine is overloaded","type":"server_error"}}`)
	case "long":
		var lines []string
		for range 2100 {
			lines = append(lines, chunk(`{"content":"x"}`, ""))
		}
		sse(append(lines, chunk(`{}`, "length"), "[DONE]")...)
	case "stall":
		sse(chunk(`{"content":"Hello"}`, ""))
		<-r.Context().Done()
	case "hang":
		sse(chunk(`{"content":"Hello"}`, ""))
		<-r.Context().Done()
		close(f.gone["hang"])
	default:
		status(http.StatusBadRequest, `{"error":{"message":"unexpected model"}}`)
	}
}

func (f *fakeOpenAI) endpoint(name, keyEnv string) endpoints.Endpoint {
	e, err := endpoints.Parse(name + "=openai:" + f.URL + "/v1")
	if err != nil {
		panic(err)
	}
	e.APIKeyEnv = keyEnv
	return e
}

// runOne runs one stream of model on endpoint and returns its events.
func runOne(t *testing.T, cl *client.Client, endpoint, model string) (*wire.RunCreated, []client.Event) {
	t.Helper()
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: model, Endpoint: endpoint}}})
	return run, collect(t, cl, run.Streams[0].ID)
}

func joined(evs []client.Event, typ string) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == typ {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

func phasesOf(evs []client.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Type == wire.EventPhase {
			out = append(out, e.Phase)
		}
	}
	return out
}

func TestOpenAIStream(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "")}})

	run, evs := runOne(t, cl, "vllm", "tiny")
	if got := strings.Join(phasesOf(evs), " "); got != "prompt thinking generating" {
		t.Errorf("phases %q, want prompt thinking generating", got)
	}
	if th, text := joined(evs, wire.EventThinking), textOf(evs); th != "Let me think." || text != "Hello world" {
		t.Errorf("thinking %q and text %q, want %q and %q", th, text, "Let me think.", "Hello world")
	}
	end := evs[len(evs)-1]
	if end.Type != wire.EventDone || end.Reason != wire.ReasonStop {
		t.Fatalf("ended with %s %q %q, want done stop", end.Type, end.Reason, end.Message)
	}
	want := wire.Usage{PromptTokens: 5, CompletionTokens: 3, TotalTokens: 8}
	if end.Stats.Usage == nil || *end.Stats.Usage != want || end.Stats.Ollama != nil {
		t.Errorf("stats usage %+v, ollama %+v; want %+v and no Ollama metrics", end.Stats.Usage, end.Stats.Ollama, want)
	}
	if end.Stats.Tokens != 2 || end.Stats.ThinkingTokens != 1 || end.Stats.TTFTMs <= 0 {
		t.Errorf("stats %+v: want 2 tokens, 1 thinking token and a TTFT", end.Stats)
	}
	if run.Streams[0].Endpoint != "vllm" {
		t.Errorf("the created stream names endpoint %q, want vllm", run.Streams[0].Endpoint)
	}
	tr, err := cl.Run(t.Context(), run.ID)
	if err != nil || tr.Streams[0].Endpoint != "vllm" {
		t.Fatalf("transcript stream endpoint %q (%v), want vllm", tr.Streams[0].Endpoint, err)
	}

	// The upstream's data lines, as sent, each once, [DONE] last.
	up, err := cl.Upstream(t.Context(), run.Streams[0].ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range up.Lines {
		lines = append(lines, l.Data)
	}
	wantLines := []string{chunk(`{"role":"assistant","content":""}`, ""), chunk(`{"reasoning_content":"Let me think."}`, ""),
		chunk(`{"content":"Hello"}`, ""), chunk(`{"content":" world"}`, ""), chunk(`{}`, "stop"), usageChunk, "[DONE]"}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") || up.Next != 7 || !up.Finished || up.Kind != wire.EndpointOpenAI {
		t.Errorf("upstream %+v\nwant lines %q", up, wantLines)
	}
	if up.Lines[2].TMs > evs[3].TMs && evs[3].Type == wire.EventToken {
		t.Errorf("the upstream line of the first token came at %v ms, after the token event at %v ms", up.Lines[2].TMs, evs[3].TMs)
	}
	if up, err := cl.Upstream(t.Context(), run.Streams[0].ID, 4); err != nil || len(up.Lines) != 2 || up.Lines[0].N != 5 {
		t.Errorf("upstream after 4 = %+v, %v; want lines 5 and 6", up, err)
	}

	// reasoning (Ollama's name for it) and finish_reason length.
	_, evs = runOne(t, cl, "vllm", "reasoner")
	if th, text, end := joined(evs, wire.EventThinking), textOf(evs), evs[len(evs)-1]; th != "Hm." || text != "Yes." || end.Reason != wire.ReasonLength {
		t.Errorf("reasoner: thinking %q, text %q, end %s %q; want Hm., Yes., done length", th, text, end.Type, end.Reason)
	}
}

// TestOpenAIClock: the phases of an OpenAI-compatible stream are the
// server's where it sends a clock (llama.cpp's timings: the prompt and
// the generation, back from the last token; the time before, queued), and
// Tokenloom's observation where it sends none.
func TestOpenAIClock(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("llama", "")}})
	_, evs := runOne(t, cl, "llama", "llama-server")
	st := evs[len(evs)-1].Stats
	if st == nil || st.Clock != wire.ClockServer || strings.Join(phaseNames(st.Phases), " ") != "queued prompt generating" {
		t.Fatalf("stats %+v: want the server's clock, queued, prompt, generating", st)
	}
	p := st.Phases
	if math.Abs(p[1].EndMs-p[1].StartMs-4.5) > 0.002 || math.Abs(p[2].EndMs-p[2].StartMs-1.25) > 0.002 || p[2].EndMs != st.LastTokenMs ||
		st.QueuedMs < 300-5.75 || math.Abs(st.BusyMs-5.75) > 0.004 {
		t.Errorf("phases %+v, busy %.3f, queued %.3f: want 4.5 ms of prompt and 1.25 of generation to the last token, the rest of the 300 ms before the first byte queued", p, st.BusyMs, st.QueuedMs)
	}
	_, evs = runOne(t, cl, "llama", "tiny") // no timings
	if st := evs[len(evs)-1].Stats; st.Clock != wire.ClockObserved || strings.Join(phaseNames(st.Phases), " ") != "prompt thinking generating" {
		t.Errorf("stats %+v: want Tokenloom's observation", st)
	}
}

func TestOpenAIFaults(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	// The stall limit is the one under test, not a guess at the machine's
	// speed: the fake sends nothing more, ever.
	_, cl := start(t, server.Config{StallTimeout: 200 * time.Millisecond, Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "")}})
	for _, tc := range []struct {
		model, text, message, hint string
	}{
		{"needs-key", "", `refused the API key (401 Unauthorized): bad key`, "add key=env:VARIABLE"},
		{"missing", "", `model "missing" not found at endpoint "vllm"`, "GET /api/models"},
		{"busy", "", `is limiting requests (429 Too Many Requests): Rate limit reached`, "fewer streams"},
		{"broken", "", `failed (500 Internal Server Error): CUDA out of memory`, "server's log"},
		{"cut", "Hello", `broke off in the middle of an event: data: {"id":"c1","choices":[{"index":0,"delta":{"content":" wor`, "stopped or crashed"},
		{"nodone", "Hello", `closed the stream before its end (no data: [DONE])`, "stopped or crashed"},
		{"malformed", "Hello", `sent a chunk Tokenloom cannot read: {"choices":[{"index":0,"delta":{"content":"x"}}]`, "/v1"},
		{"failing", "Hello", `failed in the middle of the reply: the engine is overloaded`, "server's log"},
		{"stall", "Hello", `sent nothing for 200ms in the middle of the reply`, "stuck"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			_, evs := runOne(t, cl, "vllm", tc.model)
			end := evs[len(evs)-1]
			if end.Type != wire.EventError || !strings.Contains(end.Message, tc.message) || !strings.Contains(end.Hint, tc.hint) {
				t.Errorf("ended with %s %q (hint %q)\nwant an error with %q, hint with %q", end.Type, end.Message, end.Hint, tc.message, tc.hint)
			}
			if !strings.Contains(end.Message, `endpoint "vllm" (`+fake.URL+`/v1)`) {
				t.Errorf("the message %q does not name the endpoint and its URL", end.Message)
			}
			if got := textOf(evs); got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
		})
	}
}

// TestOpenAIWrongPlace: a URL that is not an OpenAI API, and one where
// nothing listens.
func TestOpenAIWrongPlace(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	notAPI, _ := endpoints.Parse("web=openai:" + fake.URL + "/api")
	down, _ := endpoints.Parse("down=openai:" + closedURL(t) + "/v1")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{notAPI, down}})
	for _, tc := range []struct{ endpoint, message, hint string }{
		{"web", `answered 404 Not Found: no OpenAI API there`, "/v1"},
		{"down", `is not reachable`, "URL is right"},
	} {
		_, evs := runOne(t, cl, tc.endpoint, "tiny")
		if end := evs[len(evs)-1]; end.Type != wire.EventError || !strings.Contains(end.Message, tc.message) || !strings.Contains(end.Hint, tc.hint) {
			t.Errorf("%s: ended with %s %q (hint %q); want %q, hint with %q", tc.endpoint, end.Type, end.Message, end.Hint, tc.message, tc.hint)
		}
	}
}

// TestOpenAIUpstreamBounded: a stream keeps its newest
// wire.MaxUpstreamLines upstream lines, and says how many it dropped.
func TestOpenAIUpstreamBounded(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "")}})
	run, evs := runOne(t, cl, "vllm", "long")
	if n := len(tokensOf(evs)); n != 2100 {
		t.Fatalf("%d tokens, want 2100", n)
	}
	up, err := cl.Upstream(t.Context(), run.Streams[0].ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	const sent = 2102 // 2100 tokens, the finish, [DONE]
	if len(up.Lines) != wire.MaxUpstreamLines || up.Next != sent || up.Dropped != sent-wire.MaxUpstreamLines ||
		up.Lines[0].N != sent-wire.MaxUpstreamLines || up.Lines[len(up.Lines)-1].Data != "[DONE]" {
		t.Errorf("upstream: %d lines from %d, next %d, dropped %d; want the newest %d of %d",
			len(up.Lines), up.Lines[0].N, up.Next, up.Dropped, wire.MaxUpstreamLines, sent)
	}
	for i, l := range up.Lines {
		if l.N != up.Lines[0].N+int64(i) {
			t.Fatalf("line %d has n %d: not in order", i, l.N)
		}
	}
}

// TestOpenAICancelClosesUpstream cancels a stream whose endpoint is in the
// middle of its reply: the endpoint sees its request end.
func TestOpenAICancelClosesUpstream(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "")}})
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "hang", Endpoint: "vllm"}}})
	ch, err := cl.Subscribe(t.Context(), run.Streams[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []client.Event
	for ev := range ch {
		evs = append(evs, ev)
		if ev.Type == wire.EventToken {
			if err := cl.CancelStream(t.Context(), run.Streams[0].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if end := evs[len(evs)-1]; end.Type != wire.EventDone || end.Reason != wire.ReasonCancelled {
		t.Fatalf("ended with %s %q %q, want done cancelled", end.Type, end.Reason, end.Message)
	}
	select {
	case <-fake.gone["hang"]:
	case <-t.Context().Done():
		t.Fatal("the endpoint's request was not closed")
	}
}

func TestEndpointsInModelsAndHealth(t *testing.T) {
	fake := newFakeOpenAI(t, "")
	down := closedURL(t)
	eps := []endpoints.Endpoint{fake.endpoint("vllm", ""), {Name: "gpu", Kind: endpoints.KindOllama, URL: down}}
	_, cl := start(t, server.Config{Endpoints: eps})

	ms, err := cl.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ofVLLM []string
	for _, m := range ms.Models {
		if m.Endpoint == "vllm" {
			if m.Source != wire.SourceOpenAI {
				t.Errorf("model %s of vllm has source %q", m.Name, m.Source)
			}
			ofVLLM = append(ofVLLM, m.Name)
		}
	}
	if got := strings.Join(ofVLLM, ","); got != "meta-llama/Llama-3.1-8B-Instruct,tiny" {
		t.Errorf("models of vllm: %s", got)
	}
	check := func(what string, got []wire.EndpointStatus) {
		t.Helper()
		if len(got) != 2 || got[0].Name != "vllm" || !got[0].Reachable || got[0].Kind != "openai" || got[0].URL != fake.URL+"/v1" ||
			got[1].Name != "gpu" || got[1].Reachable || !strings.Contains(got[1].Error, `Ollama endpoint "gpu" is not reachable at `+down) || !strings.Contains(got[1].Hint, "endpoint's URL") {
			t.Errorf("%s endpoints: %+v", what, got)
		}
	}
	check("models", ms.Endpoints)
	h, err := cl.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	check("health", h.Endpoints)

	// A stream that names no endpoint, or one that is not configured.
	_, err = cl.StartRun(t.Context(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "tiny", Endpoint: "lab"}}})
	var apiErr *client.APIError
	if !errorsAs(err, &apiErr) || apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, `unknown endpoint "lab"`) ||
		!strings.Contains(apiErr.Hint, "vllm, gpu") {
		t.Errorf("a run on an unknown endpoint: %v, want a 400 naming the known ones", err)
	}
	// Names an Ollama would refuse are an OpenAI-compatible server's ids.
	if _, err := cl.StartRun(t.Context(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "ft:gpt-4o:org::x1", Endpoint: "vllm"}}}); err != nil {
		t.Errorf("a fine-tuned model's id refused: %v", err)
	}
	if _, err := cl.StartRun(t.Context(), wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "a b", Endpoint: "vllm"}}}); err == nil {
		t.Error("a model id with a space was taken")
	}
}

// TestOpenAIEnvironmentKeyNotSent: a key in OPENAI_API_KEY, meant for
// OpenAI, never reaches an endpoint that names no key.
func TestOpenAIEnvironmentKeyNotSent(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-meant-for-openai")
	t.Setenv("OPENAI_BASE_URL", closedURL(t)+"/v1")
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "")}})
	if _, evs := runOne(t, cl, "vllm", "tiny"); textOf(evs) != "Hello world" {
		t.Fatalf("the stream failed: %v", evs[len(evs)-1])
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, a := range fake.auths {
		if a != "" {
			t.Errorf("the endpoint got Authorization %q", a)
		}
	}
}

// TestAPIKeyNeverShown follows an endpoint's key through everything
// Tokenloom writes: the key is sent, and appears in no log line, event,
// transcript, export, model list, health answer or upstream line, even when
// the server repeats it.
func TestAPIKeyNeverShown(t *testing.T) {
	const key = "sk-tokenloom-test-7f3a9c2e1b"
	t.Setenv("TOKENLOOM_TEST_OPENAI_KEY", key)
	fake := newFakeOpenAI(t, key)
	// A second endpoint with the same key that answers 401 repeating it,
	// and one that repeats what it got on a model it does not check.
	wrong := newFakeOpenAI(t, "sk-other")
	var logs testenv.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, cl := start(t, server.Config{Logger: logger, Endpoints: []endpoints.Endpoint{
		fake.endpoint("vllm", "TOKENLOOM_TEST_OPENAI_KEY"), wrong.endpoint("wrong", "TOKENLOOM_TEST_OPENAI_KEY")}})

	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{
		{Model: "tiny", Endpoint: "vllm"}, {Model: "needs-key", Endpoint: "vllm"}, {Model: "tiny", Endpoint: "wrong"}}})
	var seen []string
	for i, st := range run.Streams {
		evs := collect(t, cl, st.ID)
		for _, ev := range evs {
			seen = append(seen, string(ev.Raw))
		}
		end := evs[len(evs)-1]
		switch {
		case i == 0 && textOf(evs) != "Hello world":
			t.Fatalf("the stream with the key failed: %s %q", end.Type, end.Message)
		case i > 0 && (end.Type != wire.EventError || !strings.Contains(end.Message, "[redacted]")):
			t.Errorf("stream %d ended with %s %q: want an error with the key redacted", i, end.Type, end.Message)
		}
		up, err := cl.Upstream(t.Context(), st.ID, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(up)
		seen = append(seen, string(b))
	}
	fake.mu.Lock()
	sent := strings.Join(fake.auths, " ")
	fake.mu.Unlock()
	if !strings.Contains(sent, "Bearer "+key) {
		t.Fatalf("the endpoint never got the key (it got %q): the test proves nothing", sent)
	}

	tr, err := cl.Run(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"run.json", "run.md"} {
		p := filepath.Join(dir, name)
		if err := export.Save(p, tr); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, string(b))
	}
	ms, err := cl.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h, err := cl.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{tr, ms, h} {
		b, _ := json.Marshal(v)
		seen = append(seen, string(b))
	}
	if h.Endpoints[1].Reachable || !strings.Contains(h.Endpoints[1].Error, "[redacted]") {
		t.Errorf("health of the endpoint that refuses the key: %+v", h.Endpoints[1])
	}
	seen = append(seen, logs.String())
	if !strings.Contains(logs.String(), "stream failed") {
		t.Errorf("the log has no failed stream: the test proves nothing for logs:\n%s", logs.String())
	}
	for _, s := range seen {
		if strings.Contains(s, key) {
			t.Errorf("the key appears in: %.400s", s)
		}
	}
}

// TestEndpointKeyVariableUnset: an endpoint whose key variable is not set
// says so, in its streams and its status, and names the variable.
func TestEndpointKeyVariableUnset(t *testing.T) {
	t.Setenv("TOKENLOOM_TEST_UNSET_KEY", "")
	fake := newFakeOpenAI(t, "")
	_, cl := start(t, server.Config{Endpoints: []endpoints.Endpoint{fake.endpoint("vllm", "TOKENLOOM_TEST_UNSET_KEY")}})
	_, evs := runOne(t, cl, "vllm", "tiny")
	if end := evs[len(evs)-1]; end.Type != wire.EventError || !strings.Contains(end.Message, "TOKENLOOM_TEST_UNSET_KEY") {
		t.Errorf("ended with %s %q, want an error naming the variable", end.Type, end.Message)
	}
	h, err := cl.Health(t.Context())
	if err != nil || len(h.Endpoints) != 1 || h.Endpoints[0].Reachable || !strings.Contains(h.Endpoints[0].Error, "TOKENLOOM_TEST_UNSET_KEY") {
		t.Errorf("health %+v (%v)", h, err)
	}
}
