package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// chatTap is an HTTP proxy on loopback in front of a model server. It
// keeps the body of every chat request it forwards and the last chunk of
// every reply of Ollama's /api/chat as Ollama sent it: what went over the
// wire, read without Tokenloom.
type chatTap struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	finals []ollamaFinal
}

// ollamaFinal is the clock of Ollama's last chunk, in nanoseconds.
type ollamaFinal struct {
	Total      int64 `json:"total_duration"`
	Load       int64 `json:"load_duration"`
	PromptEval int64 `json:"prompt_eval_duration"`
	Eval       int64 `json:"eval_duration"`
	Done       bool  `json:"done"`
}

// queuedMs is what the request waited for a free slot, by Ollama's clock.
func (f ollamaFinal) queuedMs() float64 {
	return float64(f.Total-f.Load-f.PromptEval-f.Eval) / 1e6
}

func startChatTap(t *testing.T, target string) *chatTap {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tap := &chatTap{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.FlushInterval = -1 // every line as it comes: the replies stream
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path == "/api/chat" {
			r.Body = tap.lastChunks(r.Body)
		}
		return nil
	}
	// The request's body is read whole before it is sent on: Go's server
	// ends a request's body once the response has begun, and the proxy's
	// transport, still reading the body for its end, would then close the
	// connection to the server under the reply.
	tap.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost {
			tap.mu.Lock()
			tap.bodies = append(tap.bodies, body)
			tap.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(tap.Close)
	return tap
}

// lastChunks passes body on and keeps the last chunk of the reply in it.
func (tap *chatTap) lastChunks(body io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var f ollamaFinal
			if json.Unmarshal(sc.Bytes(), &f) == nil && f.Done {
				tap.mu.Lock()
				tap.finals = append(tap.finals, f)
				tap.mu.Unlock()
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return struct {
		io.Reader
		io.Closer
	}{io.TeeReader(body, pw), closers{body, pw}}
}

type closers []io.Closer

func (cs closers) Close() error {
	for _, c := range cs {
		_ = c.Close()
	}
	return nil
}

// sentChat is what the tap saw of one chat request, of either API.
type sentChat struct {
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Options struct {
		NumPredict int `json:"num_predict"`
	} `json:"options"` // Ollama's
	MaxTokens int `json:"max_tokens"` // OpenAI's
}

// take returns the chat requests seen since the last take, by the number
// of tokens they asked for.
func (tap *chatTap) take(t *testing.T) map[int]sentChat {
	t.Helper()
	tap.mu.Lock()
	defer tap.mu.Unlock()
	out := map[int]sentChat{}
	for _, b := range tap.bodies {
		var c sentChat
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("chat request %s: %v", b, err)
		}
		n := max(c.Options.NumPredict, c.MaxTokens)
		if _, dup := out[n]; dup {
			t.Fatalf("two chat requests asked for %d tokens", n)
		}
		out[n] = c
	}
	tap.bodies = nil
	return out
}

// takeFinals returns the last chunks of the replies seen since the last
// takeFinals.
func (tap *chatTap) takeFinals() []ollamaFinal {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	out := tap.finals
	tap.finals = nil
	return out
}
