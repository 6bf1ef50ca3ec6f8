package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// recorder is an Emitter that keeps what it is given.
type recorder struct {
	phases   []string
	tokens   []string
	thinking []string
}

func (r *recorder) Phase(p string)       { r.phases = append(r.phases, p) }
func (r *recorder) Token(text string)    { r.tokens = append(r.tokens, text) }
func (r *recorder) Thinking(text string) { r.thinking = append(r.thinking, text) }
func (r *recorder) Sent()                {}

// fakeOllama answers /api/chat with the handler chat and /api/ps with the
// loaded models. It stands in for Ollama only for faults a real one cannot
// produce on demand; the real one is tested in internal/testkit/e2e.
func fakeOllama(t *testing.T, loaded []string, chat http.HandlerFunc, opts ...SourceOption) *Ollama {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/chat", func(w http.ResponseWriter, r *http.Request) {
		// Read the whole body first: only then does the server notice a
		// client that hangs up, and end r.Context().
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		chat(w, r)
	})
	mux.HandleFunc("/api/ps", func(w http.ResponseWriter, r *http.Request) {
		var ms []map[string]string
		for _, m := range loaded {
			ms = append(ms, map[string]string{"name": m, "model": m})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"models": ms})
	})
	ts := httptest.NewServer(mux)
	o, err := NewOllama(ts.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return o
}

// ndjson writes lines as Ollama's chat stream does, flushing each.
func ndjson(w http.ResponseWriter, lines ...string) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, l := range lines {
		fmt.Fprintln(w, l)
		w.(http.Flusher).Flush()
	}
}

func chunk(content string) string {
	b, _ := json.Marshal(map[string]any{"model": "m", "message": map[string]string{"role": "assistant", "content": content}, "done": false})
	return string(b)
}

const finalChunk = `{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","total_duration":5000000,"load_duration":1000000,"prompt_eval_count":7,"prompt_eval_duration":2000000,"eval_count":3,"eval_duration":1500000}`

func TestOllamaSource(t *testing.T) {
	var gotReq map[string]any
	o := fakeOllama(t, []string{"m:latest"}, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&gotReq)
		ndjson(w, chunk("Hel"), chunk("lo"), chunk(" there"), finalChunk)
	})
	var rec recorder
	opts := wire.Options{Temperature: new(0.5), Seed: new(int64(7)), NumPredict: new(3), NumCtx: new(512)}
	res, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi", System: "be brief", Options: opts}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rec.tokens, "|") != "Hel|lo| there" {
		t.Errorf("tokens %q", rec.tokens)
	}
	if strings.Join(rec.phases, ",") != "prompt,generating" {
		t.Errorf("phases %q (the model is loaded: no loading phase)", rec.phases)
	}
	want := wire.OllamaStats{EvalCount: 3, EvalDurationNs: 1500000, PromptEvalCount: 7, PromptEvalDurationNs: 2000000, LoadDurationNs: 1000000, TotalDurationNs: 5000000}
	if res.Reason != wire.ReasonLength || res.Ollama == nil || *res.Ollama != want {
		t.Errorf("result %+v %+v", res, res.Ollama)
	}
	msgs, _ := json.Marshal(gotReq["messages"])
	if string(msgs) != `[{"content":"be brief","role":"system"},{"content":"hi","role":"user"}]` {
		t.Errorf("messages sent: %s", msgs)
	}
	o2, _ := json.Marshal(gotReq["options"])
	if string(o2) != `{"num_ctx":512,"num_predict":3,"seed":7,"temperature":0.5}` {
		t.Errorf("options sent: %s", o2)
	}
	if gotReq["stream"] != true || gotReq["model"] != "m" {
		t.Errorf("request %v", gotReq)
	}
}

func TestOllamaSourceLoadingPhase(t *testing.T) {
	o := fakeOllama(t, nil, func(w http.ResponseWriter, r *http.Request) {
		ndjson(w, chunk("a"), strings.Replace(finalChunk, "length", "stop", 1))
	})
	var rec recorder
	res, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi"}, &rec)
	if err != nil || res.Reason != wire.ReasonStop {
		t.Fatalf("%v %+v", err, res)
	}
	if strings.Join(rec.phases, ",") != "loading,generating" {
		t.Errorf("phases %q", rec.phases)
	}
}

func TestOllamaSourceFaults(t *testing.T) {
	tests := []struct {
		name    string
		chat    http.HandlerFunc
		message string
		hint    string
		tokens  int
	}{
		{"unknown model", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"model \"m\" not found, try pulling it first"}`)
		}, `model "m" not found`, "run: ollama pull m", 0},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"llama runner process has terminated"}`)
		}, "Ollama answered 500: llama runner process has terminated", "ollama serve", 0},
		{"error line mid-stream", func(w http.ResponseWriter, r *http.Request) {
			ndjson(w, chunk("a"), `{"error":"an error was encountered while running the model"}`)
		}, "Ollama failed: an error was encountered while running the model", "ollama serve", 1},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			ndjson(w, chunk("a"), "<html>Bad Gateway</html>")
		}, "Ollama sent a reply Tokenloom cannot read: <html>Bad Gateway</html>", "Ollama URL", 1},
		{"a line of the wrong shape", func(w http.ResponseWriter, r *http.Request) {
			ndjson(w, chunk("a"), `{"message":"b"}`)
		}, "Ollama sent a reply Tokenloom cannot read", "Ollama URL", 1},
		{"truncated line", func(w http.ResponseWriter, r *http.Request) {
			ndjson(w, chunk("a"), `{"message":{"content":"b"`)
		}, "Ollama's reply broke off in the middle of a line", "ollama serve", 1},
		{"404 of another server", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "404 page not found", http.StatusNotFound)
		}, "Ollama answered 404: 404 page not found", "Ollama URL", 0},
		{"stalls mid-stream", func(w http.ResponseWriter, r *http.Request) {
			ndjson(w, chunk("a"), chunk("b"))
			<-r.Context().Done()
		}, "sent nothing for 200ms in the middle of the reply", "ollama serve", 2},
		{"never sends headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, "sent nothing for 200ms after the request", "ollama ps", 0},
		{"sends headers only", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, "sent nothing for 200ms after the request", "ollama ps", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fakeOllama(t, []string{"m"}, tt.chat, WithSilenceLimits(200*time.Millisecond, 200*time.Millisecond))
			var rec recorder
			_, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi"}, &rec)
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a SourceError", err, err)
			}
			if !strings.Contains(se.Message, tt.message) || !strings.Contains(se.Hint, tt.hint) {
				t.Errorf("message %q hint %q, want %q and %q", se.Message, se.Hint, tt.message, tt.hint)
			}
			if len(rec.tokens) != tt.tokens {
				t.Errorf("%d tokens before the fault, want %d", len(rec.tokens), tt.tokens)
			}
		})
	}
}

// TestOllamaSilenceLimits: the silence limits measure each silence, not the
// whole reply, and the one before the first byte is not the one between
// bytes, so that a slow model load is not taken for a stall. The fake's
// sleeps never end early, so a reply is at least as long as they add up to;
// each silence a limit must let pass is a sixteenth of the limit or less,
// which leaves a loaded machine room to be late.
func TestOllamaSilenceLimits(t *testing.T) {
	final := strings.Replace(finalChunk, "length", "stop", 1)
	tests := []struct {
		name         string
		start, stall time.Duration
		chat         http.HandlerFunc
	}{
		{"gaps under the stall limit, longer together", 5 * time.Second, 800 * time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			for range 20 {
				ndjson(w, chunk("x"))
				time.Sleep(50 * time.Millisecond)
			}
			ndjson(w, final)
		}},
		{"a first byte later than the stall limit", 5 * time.Second, 200 * time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(800 * time.Millisecond) // loading the model
			ndjson(w, chunk("x"), final)
		}},
		{"no limits", -1, -1, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			ndjson(w, chunk("x"))
			time.Sleep(300 * time.Millisecond)
			ndjson(w, final)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fakeOllama(t, []string{"m"}, tt.chat, WithSilenceLimits(tt.start, tt.stall))
			var rec recorder
			res, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi"}, &rec)
			if err != nil || res.Reason != wire.ReasonStop {
				t.Fatalf("error %v, result %+v: want a clean end", err, res)
			}
		})
	}
	if o, _ := NewOllama("127.0.0.1:1"); o.startTimeout != DefaultStartTimeout || o.stallTimeout != DefaultStallTimeout {
		t.Errorf("default limits %v, %v", o.startTimeout, o.stallTimeout)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute:        "10 minutes",
		time.Minute:             "1 minute",
		90 * time.Second:        "90 s",
		30 * time.Second:        "30 s",
		250 * time.Millisecond:  "250ms",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOllamaSourceUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	o, err := NewOllama(addr) // no scheme: taken as http://
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var rec recorder
	_, err = o.Generate(context.Background(), Request{Model: "m", Prompt: "hi"}, &rec)
	var se *SourceError
	if !errors.As(err, &se) || se.Message != "Ollama is not reachable at http://"+addr || !strings.Contains(se.Hint, "ollama serve") {
		t.Fatalf("error %v", err)
	}
	if _, err := o.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "not reachable") {
		t.Errorf("models: %v", err)
	}
}

// TestOllamaSourceCancel cancels a generation that Ollama keeps streaming:
// Generate returns at once and the request's connection is closed, which is
// what makes Ollama stop generating.
func TestOllamaSourceCancel(t *testing.T) {
	closed := make(chan struct{})
	o := fakeOllama(t, []string{"m"}, func(w http.ResponseWriter, r *http.Request) {
		defer close(closed)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Millisecond):
				ndjson(w, chunk("x"))
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	rec := &cancelAfter{n: 5, cancel: cancel}
	done := make(chan error, 1)
	go func() {
		_, err := o.Generate(ctx, Request{Model: "m", Prompt: "hi"}, rec)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(testenv.Patience):
		t.Fatal("Generate did not return after cancel")
	}
	select {
	case <-closed:
	case <-time.After(testenv.Patience):
		t.Fatal("the request to Ollama stayed open after cancel")
	}
}

type cancelAfter struct {
	recorder
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Token(text string) {
	c.recorder.Token(text)
	if len(c.tokens) == c.n {
		c.cancel()
	}
}

func TestParseOllamaURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:11434":         "http://127.0.0.1:11434",
		"http://localhost:11434/": "http://localhost:11434/",
		" https://host:1 ":        "https://host:1",
	} {
		u, err := parseOllamaURL(in)
		if err != nil || u.String() != want {
			t.Errorf("parseOllamaURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://"} {
		if _, err := parseOllamaURL(bad); err == nil {
			t.Errorf("parseOllamaURL(%q) accepted", bad)
		}
	}
}

// thinkChunk is a chunk as Ollama's API docs show a thinking model's:
// the reasoning in message.thinking, the answer in message.content, either
// or both set.
func thinkChunk(thinking, content string) string {
	b, _ := json.Marshal(map[string]any{"model": "m", "created_at": "2025-09-01T00:00:00Z",
		"message": map[string]string{"role": "assistant", "content": content, "thinking": thinking}, "done": false})
	return string(b)
}

// TestOllamaThinking: thinking chunks become thinking events and content
// chunks tokens, a chunk with both gives both in that order; Ollama 0.12
// and later think by default, so they come without asking (no think sent);
// the think option is sent as Ollama takes it.
func TestOllamaThinking(t *testing.T) {
	final := strings.Replace(finalChunk, "length", "stop", 1)
	for _, tt := range []struct {
		name  string
		think *wire.Think
		sent  any // the request's think, nil: absent
	}{
		{"by default", nil, nil},
		{"on", new(wire.ThinkOn), true},
		{"off", new(wire.ThinkOff), false},
		{"a level", new(wire.ThinkHigh), "high"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var gotReq map[string]any
			o := fakeOllama(t, []string{"m"}, func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewDecoder(r.Body).Decode(&gotReq)
				ndjson(w, thinkChunk("The user", ""), thinkChunk(" greets.", ""), thinkChunk(" Reply.", "Hi"), thinkChunk("", " there"), final)
			})
			var rec recorder
			res, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi", Options: wire.Options{Think: tt.think}}, &rec)
			if err != nil || res.Reason != wire.ReasonStop {
				t.Fatalf("%v %+v", err, res)
			}
			if got := strings.Join(rec.thinking, "|"); got != "The user| greets.| Reply." {
				t.Errorf("thinking %q", got)
			}
			if got := strings.Join(rec.tokens, "|"); got != "Hi| there" {
				t.Errorf("tokens %q", got)
			}
			if got := strings.Join(rec.phases, ","); got != "prompt,thinking,generating" {
				t.Errorf("phases %q", got)
			}
			if got, ok := gotReq["think"]; tt.sent == nil && ok || tt.sent != nil && got != tt.sent {
				t.Errorf("think sent: %v (present %v), want %v", got, ok, tt.sent)
			}
		})
	}
}

// TestOllamaQueued: while Ollama answers another stream of the same model
// and this one has had no byte, it is queued; streams that Ollama serves
// side by side are not.
func TestOllamaQueued(t *testing.T) {
	final := strings.Replace(finalChunk, "length", "stop", 1)
	run := func(t *testing.T, chat http.HandlerFunc) [2]recorder {
		o := fakeOllama(t, []string{"m"}, chat)
		var recs [2]recorder
		var wg sync.WaitGroup
		for i := range recs {
			wg.Go(func() {
				if _, err := o.Generate(context.Background(), Request{Model: "m", Prompt: "hi"}, &recs[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return recs
	}
	t.Run("one slot", func(t *testing.T) {
		var slot sync.Mutex
		recs := run(t, func(w http.ResponseWriter, r *http.Request) {
			slot.Lock() // one request at a time, as Ollama with one slot
			defer slot.Unlock()
			// Long enough after its first byte for the other to count as
			// queued.
			ndjson(w, chunk("a"))
			time.Sleep(3 * queuedAfter)
			ndjson(w, chunk("b"), final)
		})
		var queued int
		for _, rec := range recs {
			switch got := strings.Join(rec.phases, ","); got {
			case "prompt,queued,generating":
				queued++
			case "prompt,generating":
			default:
				t.Errorf("phases %q", got)
			}
		}
		if queued != 1 {
			t.Errorf("%d streams queued, want the one that waited", queued)
		}
	})
	t.Run("side by side", func(t *testing.T) {
		arrived := make(chan struct{}, 2)
		both := make(chan struct{})
		var once sync.Once
		recs := run(t, func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			if len(arrived) == 2 {
				once.Do(func() { close(both) })
			}
			<-both // both requests are in before either gets a byte
			ndjson(w, chunk("a"))
			time.Sleep(3 * queuedAfter)
			ndjson(w, chunk("b"), final)
		})
		for _, rec := range recs {
			if got := strings.Join(rec.phases, ","); got != "prompt,generating" {
				t.Errorf("phases %q, want no queued", got)
			}
		}
	})
}
