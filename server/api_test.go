package server_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/wire"
	"github.com/tokenloom/tokenloom/server"
)

// TestErrorAnswers sends every kind of bad request and checks the status
// and that the answer is the contract's JSON error with a hint.
func TestErrorAnswers(t *testing.T) {
	srv, cl := start(t, server.Config{})
	base := srv.URL()
	host := strings.TrimPrefix(base, "http://")
	_, port, _ := strings.Cut(host, ":")
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(5, 0)}})

	valid := func(mut func(*wire.RunRequest)) []byte {
		r := wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "demo/hello"}}}
		mut(&r)
		return mustJSON(r)
	}
	many := make([]wire.StreamSpec, 17)
	for i := range many {
		many[i] = wire.StreamSpec{Model: "demo/hello"}
	}
	type errorCase struct {
		name    string
		method  string
		path    string
		body    []byte
		header  map[string]string
		status  int
		message string // part of the error message
	}
	tests := []errorCase{
		{"malformed JSON", "POST", "/api/runs", []byte(`{"prompt":`), nil, 400, "malformed JSON"},
		{"not an object", "POST", "/api/runs", []byte(`[1,2]`), nil, 400, "malformed JSON"},
		{"empty body", "POST", "/api/runs", nil, nil, 400, "empty request body"},
		{"unknown field", "POST", "/api/runs", []byte(`{"prompt":"hi","streams":[{"model":"demo/hello"}],"modle":"x"}`), nil, 400, "unknown field"},
		{"two values", "POST", "/api/runs", []byte(`{"prompt":"hi","streams":[{"model":"demo/hello"}]} {}`), nil, 400, "more than one value"},
		{"invalid UTF-8", "POST", "/api/runs", []byte("{\"prompt\":\"h\xffi\",\"streams\":[{\"model\":\"demo/hello\"}]}"), nil, 400, "UTF-8"},
		{"empty prompt", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Prompt = "" }), nil, 400, "empty prompt"},
		{"blank prompt", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Prompt = " \n\t" }), nil, 400, "empty prompt"},
		{"no streams", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams = nil }), nil, 400, "no streams"},
		{"17 streams", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams = many }), nil, 400, "17 streams"},
		{"unknown mode", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Mode = "parallel" }), nil, 400, "unknown mode"},
		{"prompt too long", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Prompt = strings.Repeat("a", 300<<10) }), nil, 400, "prompt over"},
		{"temperature", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{Temperature: ptr(2.5)} }), nil, 400, "temperature"},
		{"negative temperature", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{Temperature: ptr(-0.1)} }), nil, 400, "temperature"},
		{"negative seed", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{Seed: ptr[int64](-1)} }), nil, 400, "seed"},
		{"num_predict -2", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{NumPredict: ptr(-2)} }), nil, 400, "num_predict"},
		{"absurd num_predict", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{NumPredict: ptr(1 << 30)} }), nil, 400, "num_predict"},
		{"num_ctx 0", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Options = &wire.Options{NumCtx: ptr(0)} }), nil, 400, "num_ctx"},
		{"control char in label", "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Label = "a\x1b[31m" }), nil, 400, "label"},
		{"body over 1 MiB", "POST", "/api/runs", append(append([]byte(`{"prompt":"`), strings.Repeat("a", 1<<20)...), `"}`...), nil, 413, "request body over"},
		{"unknown run", "GET", "/api/runs/r_nope", nil, nil, 404, "unknown run"},
		{"cancel unknown run", "DELETE", "/api/runs/r_nope", nil, nil, 404, "unknown run"},
		{"cancel unknown stream", "DELETE", "/api/streams/s_nope", nil, nil, 404, "unknown stream"},
		{"events without stream", "GET", "/events", nil, nil, 400, "missing stream"},
		{"events of unknown stream", "GET", "/events?stream=s_nope", nil, nil, 404, "unknown stream"},
		{"bad Last-Event-ID", "GET", "/events?stream=" + run.Streams[0].ID, nil, map[string]string{"Last-Event-ID": "x1"}, 400, "Last-Event-ID"},
		{"unknown path", "GET", "/api/nope", nil, nil, 404, "no such endpoint"},
		{"wrong method on runs", "PUT", "/api/runs", nil, nil, 405, "PUT is not allowed"},
		{"wrong method on healthz", "POST", "/healthz", nil, nil, 405, "not allowed"},
		{"wrong method on stream", "GET", "/api/streams/" + run.Streams[0].ID, nil, nil, 405, "not allowed"},
		{"foreign host", "GET", "/healthz", nil, map[string]string{"Host": "evil.example:" + port}, 403, "forbidden host"},
		{"host merely starting with 127.0.0.1", "GET", "/healthz", nil, map[string]string{"Host": "127.0.0.1.evil.example:" + port}, 403, "forbidden host"},
		{"loopback host, other port", "GET", "/healthz", nil, map[string]string{"Host": "localhost:1"}, 403, "forbidden host"},
		{"host without port", "GET", "/healthz", nil, map[string]string{"Host": "localhost"}, 403, "forbidden host"},
		{"foreign origin", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Origin": "http://evil.example"}, 403, "forbidden origin"},
		{"null origin", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Origin": "null"}, 403, "forbidden origin"},
		{"loopback origin, other port", "DELETE", "/api/runs/" + run.ID, nil, map[string]string{"Origin": "http://127.0.0.1:1"}, 403, "forbidden origin"},
		{"cross-site fetch", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
	}
	for _, model := range []string{"../etc/passwd", "/abs", `a\b`, "a b", "a\nb", "a/../b", "x/y/z/w", ".", "name:", ":tag", strings.Repeat("m", 257), ""} {
		tests = append(tests, errorCase{"model " + url.PathEscape(model[:min(len(model), 20)]), "POST", "/api/runs", valid(func(r *wire.RunRequest) { r.Streams[0].Model = model }), nil, 400, "invalid model name"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := doJSON(t, tt.method, base+tt.path, tt.body, tt.header)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
			}
			var e wire.Error
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("answer is not JSON: %q", body)
			}
			if !strings.Contains(e.Error, tt.message) {
				t.Errorf("error %q does not say %q", e.Error, tt.message)
			}
			if e.Hint == "" {
				t.Errorf("error %q has no hint", e.Error)
			}
		})
	}
	if st := srv.Stats(); st.Runs != 1 {
		t.Errorf("bad requests created runs: %d runs held, want 1", st.Runs)
	}
}

// TestAccepted checks the requests the guards must let through.
func TestAccepted(t *testing.T) {
	srv, _ := start(t, server.Config{})
	base := srv.URL()
	_, port, _ := strings.Cut(strings.TrimPrefix(base, "http://"), ":")
	body := mustJSON(wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(1, 0)}})
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		header map[string]string
		status int
	}{
		{"localhost host", "GET", "/healthz", nil, map[string]string{"Host": "localhost:" + port}, 200},
		{"IPv6 loopback host", "GET", "/healthz", nil, map[string]string{"Host": "[::1]:" + port}, 200},
		{"own origin", "POST", "/api/runs", body, map[string]string{"Origin": "http://localhost:" + port}, 201},
		{"no origin (curl)", "POST", "/api/runs", body, nil, 201},
		{"same-origin fetch", "POST", "/api/runs", body, map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"}, 201},
		{"foreign origin may read", "GET", "/api/models", nil, map[string]string{"Origin": "http://evil.example"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := doJSON(t, tt.method, base+tt.path, tt.body, tt.header)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, b)
			}
		})
	}
}

func TestHealthAndModelsWithoutOllama(t *testing.T) {
	ollama := closedURL(t)
	srv, _ := start(t, server.Config{OllamaURL: ollama, Version: "1.2.3"})

	status, body := doJSON(t, "GET", srv.URL()+"/healthz", nil, nil)
	var h wire.Health
	if err := json.Unmarshal(body, &h); err != nil || status != 200 {
		t.Fatalf("healthz: %d %s", status, body)
	}
	if !h.OK || h.Version != "1.2.3" || h.Ollama.Reachable || h.Ollama.URL != ollama {
		t.Errorf("healthz = %+v", h)
	}
	if !strings.Contains(h.Ollama.Error, "not reachable at "+ollama) || !strings.Contains(h.Ollama.Hint, "ollama serve") {
		t.Errorf("healthz Ollama error %q hint %q", h.Ollama.Error, h.Ollama.Hint)
	}

	status, body = doJSON(t, "GET", srv.URL()+"/api/models", nil, nil)
	var m wire.Models
	if err := json.Unmarshal(body, &m); err != nil || status != 200 {
		t.Fatalf("models: %d %s", status, body)
	}
	var names []string
	for _, mod := range m.Models {
		if mod.Source != "demo" {
			t.Errorf("model %+v without Ollama", mod)
		}
		names = append(names, mod.Name)
	}
	if strings.Join(names, ",") != strings.Join(server.DemoModelNames(), ",") {
		t.Errorf("models %v, want the demo sources %v", names, server.DemoModelNames())
	}
	if !strings.Contains(m.OllamaError, "Ollama is not reachable at "+ollama) {
		t.Errorf("ollama_error %q", m.OllamaError)
	}
}

func TestValidModelName(t *testing.T) {
	for _, ok := range []string{"llama3.2", "llama3.2:latest", "qwen2.5:0.5b", "library/llama3.2:1b", "registry.local/ns/model:tag", "demo/hello", "hf.co/user/repo:Q4_K_M"} {
		if !server.ValidModelName(ok) {
			t.Errorf("ValidModelName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "../x", "a/../b", "./a", "/a", "a/", "a b", "a\tb", `a\b`, "a:b:c", "a/b/c/d", "é", strings.Repeat("a", 257)} {
		if server.ValidModelName(bad) {
			t.Errorf("ValidModelName(%q) = true", bad)
		}
	}
}
