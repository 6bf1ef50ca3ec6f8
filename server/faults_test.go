package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// silenceLimit is the Ollama silence limit of TestOllamaFaultsInOneRun:
// twenty times the healthy fake's gaps, which a loaded machine stretches
// by milliseconds, and a quarter of the two other streams' length, so that
// the silent faults end before them with a margin of a second and a half.
const silenceLimit = 500 * time.Millisecond

// ollamaFault is a way for Ollama's /api/chat to fail, as the model name of
// a stream of the fake below.
type ollamaFault struct {
	model   string
	chat    func(w http.ResponseWriter, r *http.Request)
	tokens  int    // tokens before the fault
	message string // part of the error event's message
	hint    string // part of its hint
	silent  bool   // Ollama goes silent: the silence limit ends the stream
}

// chatLine is one line of Ollama's chat stream.
func chatLine(content string, done bool) string {
	b, _ := json.Marshal(map[string]any{"model": "m", "message": map[string]string{"role": "assistant", "content": content}, "done": done})
	return string(b)
}

func writeLines(w http.ResponseWriter, lines ...string) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, l := range lines {
		fmt.Fprintln(w, l)
		w.(http.Flusher).Flush()
	}
}

// hangUp closes the connection of a request without ending the response.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// healthyChunks is the length of the healthy fake stream, a chunk every
// healthyGap: it goes on well after every fault has ended its stream.
const (
	healthyChunks = 80
	healthyGap    = 25 * time.Millisecond
)

var ollamaFaults = []ollamaFault{
	{"fault-500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":"llama runner process has terminated: exit status 2"}`)
	}, 0, "Ollama answered 500: llama runner process has terminated", "ollama serve", false},
	{"fault-404", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"model \"fault-404\" not found, try pulling it first"}`)
	}, 0, `model "fault-404" not found`, "ollama pull fault-404", false},
	{"fault-404-not-ollama", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	}, 0, "Ollama answered 404: 404 page not found", "points at Ollama", false},
	{"fault-error-line", func(w http.ResponseWriter, r *http.Request) {
		writeLines(w, chatLine("a", false), `{"error":"an error was encountered while running the model"}`)
	}, 1, "Ollama failed: an error was encountered while running the model", "ollama serve", false},
	{"fault-garbage", func(w http.ResponseWriter, r *http.Request) {
		writeLines(w, chatLine("a", false), chatLine("b", false), "<html><body>Bad Gateway</body></html>")
	}, 2, "Ollama sent a reply Tokenloom cannot read: <html>", "points at Ollama", false},
	{"fault-truncated", func(w http.ResponseWriter, r *http.Request) {
		writeLines(w, chatLine("a", false))
		fmt.Fprint(w, `{"model":"m","message":{"role":"assistant","content":"b`)
		w.(http.Flusher).Flush()
		hangUp(w)
	}, 1, "broke off in the middle of a line", "ollama serve", false},
	{"fault-cut", func(w http.ResponseWriter, r *http.Request) {
		writeLines(w, chatLine("a", false), chatLine("b", false), chatLine("c", false))
		hangUp(w)
	}, 3, "stopped answering before the reply was complete", "ollama serve", false},
	{"fault-stall", func(w http.ResponseWriter, r *http.Request) {
		writeLines(w, chatLine("a", false), chatLine("b", false))
		<-r.Context().Done()
	}, 2, fmt.Sprintf("sent nothing for %v in the middle of the reply", silenceLimit), "ollama serve", true},
	{"fault-silent", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // not even headers
	}, 0, fmt.Sprintf("sent nothing for %v after the request", silenceLimit), "ollama ps", true},
	{"fault-headers-only", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, 0, fmt.Sprintf("sent nothing for %v after the request", silenceLimit), "ollama ps", true},
}

// faultyOllama is a fake Ollama whose /api/chat fails as the request's
// model says (see ollamaFaults), or streams healthyChunks tokens for the
// model "healthy". It reports on closed the model of every chat request
// whose connection Tokenloom closed while the fake was still answering.
func faultyOllama(t *testing.T) (url string, closed <-chan string) {
	t.Helper()
	byModel := map[string]ollamaFault{}
	for _, f := range ollamaFaults {
		byModel[f.model] = f
	}
	closedCh := make(chan string, 2*len(ollamaFaults))
	mux := http.NewServeMux()
	mux.HandleFunc("/api/chat", func(w http.ResponseWriter, r *http.Request) {
		// Read the whole body first: only then does the server notice a
		// client that hangs up, and end r.Context().
		var req struct{ Model string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &req)
		if f, ok := byModel[req.Model]; ok {
			f.chat(w, r)
			if r.Context().Err() != nil {
				closedCh <- req.Model
			}
			return
		}
		for i := range healthyChunks {
			writeLines(w, chatLine(fmt.Sprint(" ", i), false))
			select {
			case <-r.Context().Done():
				return
			case <-time.After(healthyGap):
			}
		}
		writeLines(w, `{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":80}`)
	})
	mux.HandleFunc("/api/ps", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"models":[]}`)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL, closedCh
}

// TestOllamaFaultsInOneRun runs one stream per Ollama fault beside a
// healthy Ollama stream and a demo stream, all in one run, through the
// whole server and client: each faulty stream ends with an error event
// that says what happened, with a hint; the request of a silent Ollama is
// closed (which stops a real Ollama generating); and the two other streams
// go on to their normal end after every fault.
func TestOllamaFaultsInOneRun(t *testing.T) {
	ollama, closed := faultyOllama(t)
	srv, cl := start(t, server.Config{OllamaURL: ollama, StartTimeout: silenceLimit, StallTimeout: silenceLimit})
	streams := []wire.StreamSpec{{Model: "healthy"}, flood(100, 50)}
	for _, f := range ollamaFaults {
		streams = append(streams, wire.StreamSpec{Model: f.model})
	}
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: streams})
	got := make([][]client.Event, len(streams))
	var wg sync.WaitGroup
	for i, s := range run.Streams {
		wg.Go(func() { got[i] = collect(t, cl, s.ID) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	healthy, demo := got[0], got[1]
	if l := healthy[len(healthy)-1]; l.Type != wire.EventDone || l.Reason != wire.ReasonStop || len(tokensOf(healthy)) != healthyChunks {
		t.Errorf("the healthy Ollama stream ended with %+v after %d tokens", l, len(tokensOf(healthy)))
	}
	if l := demo[len(demo)-1]; l.Type != wire.EventDone || l.Reason != wire.ReasonStop || len(tokensOf(demo)) != 100 {
		t.Errorf("the demo stream ended with %+v after %d tokens", l, len(tokensOf(demo)))
	}
	othersEnd := min(healthy[len(healthy)-1].TMs, demo[len(demo)-1].TMs)
	for i, f := range ollamaFaults {
		t.Run(f.model, func(t *testing.T) {
			evs := got[i+2]
			for j, ev := range evs {
				if ev.Seq != int64(j) || ev.Terminal() != (j == len(evs)-1) {
					t.Fatalf("event %d: %+v", j, ev)
				}
			}
			l := evs[len(evs)-1]
			if l.Type != wire.EventError || l.Local || !strings.Contains(l.Message, f.message) || !strings.Contains(l.Hint, f.hint) {
				t.Errorf("ended with %s %q (hint %q), want an error saying %q with a hint about %q", l.Type, l.Message, l.Hint, f.message, f.hint)
			}
			if n := len(tokensOf(evs)); n != f.tokens {
				t.Errorf("%d tokens before the fault, want %d", n, f.tokens)
			}
			if l.TMs >= othersEnd {
				t.Errorf("the fault ended its stream at %.0f ms, not before the other streams ended at %.0f ms", l.TMs, othersEnd)
			}
			t.Logf("error at %.0f ms: %q (hint %q)", l.TMs, l.Message, l.Hint)
		})
	}
	// Tokenloom closed the requests Ollama left silent.
	want := map[string]bool{}
	for _, f := range ollamaFaults {
		if f.silent {
			want[f.model] = true
		}
	}
	timeout := time.After(testenv.Patience)
	for len(want) > 0 {
		select {
		case m := <-closed:
			delete(want, m)
		case <-timeout:
			t.Fatalf("the requests of %v were not closed", want)
		}
	}
	// The silence limit measured: not early. Nor much later: the error came
	// before the other streams ended (checked above), which a loaded machine
	// delays as much as it delays the limit's timer.
	for i, f := range ollamaFaults {
		if !f.silent {
			continue
		}
		evs := got[i+2]
		l := evs[len(evs)-1]
		since := 0.0
		if n := len(evs); n > 1 {
			since = evs[n-2].TMs
		}
		// The limit counts from the last byte read, which comes a little
		// before the last event is stamped: allow 50 ms of that.
		if quiet := l.TMs - since; quiet < float64(silenceLimit.Milliseconds())-50 {
			t.Errorf("%s: error %.0f ms after the last event, want at least %v", f.model, quiet, silenceLimit)
		}
	}
	t.Logf("%d Ollama faults in one run, each ended its own stream with an error; the healthy Ollama stream and the demo stream ended at %.0f and %.0f ms",
		len(ollamaFaults), healthy[len(healthy)-1].TMs, demo[len(demo)-1].TMs)

	// The server goes on.
	again := startRun(t, cl, wire.RunRequest{Prompt: "still here", Streams: []wire.StreamSpec{echo(), {Model: "healthy"}}})
	for _, s := range again.Streams {
		if evs := collect(t, cl, s.ID); evs[len(evs)-1].Type != wire.EventDone {
			t.Errorf("a run after the faults: %+v", evs[len(evs)-1])
		}
	}
	// The server counts a stream as ended a moment after it logged the
	// terminal event that collect returned on.
	testenv.Eventually(t, "every stream counted as ended", func() bool { return srv.Stats().ActiveStreams == 0 })
}
