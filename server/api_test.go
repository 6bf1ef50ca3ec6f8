package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// TestErrorAnswers is the table of hostile and malformed requests: foreign
// hosts (DNS rebinding) and origins, oversized bodies, thousands of streams,
// text that is not UTF-8, absurd options, model names with path separators
// or control characters, unknown ids, unclean paths and wrong methods. Each
// must be answered with the contract's JSON error, with a hint, and nothing
// else may happen: no run is created, no stream starts, and the run that is
// going on is not touched.
func TestErrorAnswers(t *testing.T) {
	srv, cl := start(t, server.Config{})
	base := srv.URL()
	host := strings.TrimPrefix(base, "http://")
	_, port, _ := strings.Cut(host, ":")
	// A run going on all along, the target of the ids below.
	victim := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{flood(100000, 20)}})
	victimStream := victim.Streams[0].ID
	before := srv.Stats()

	valid := func(mut func(*wire.RunRequest)) []byte {
		r := wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{{Model: "demo/hello"}}}
		mut(&r)
		return mustJSON(r)
	}
	withStreams := func(n int) []byte {
		return valid(func(r *wire.RunRequest) { r.Streams = slices.Repeat([]wire.StreamSpec{{Model: "demo/hello"}}, n) })
	}
	// raw makes a body around a JSON fragment that json.Marshal could not
	// write (invalid UTF-8, numbers out of range).
	raw := func(prompt, streams string) []byte {
		return []byte(`{"prompt":"` + prompt + `","streams":` + streams + `}`)
	}
	options := func(opts string) []byte { return raw("hi", `[{"model":"demo/hello","options":`+opts+`}]`) }
	big := func(n int) []byte {
		return append(append([]byte(`{"prompt":"`), bytes.Repeat([]byte("a"), n)...), `","streams":[{"model":"demo/hello"}]}`...)
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
	post := func(name string, body []byte, status int, message string) errorCase {
		return errorCase{name, "POST", "/api/runs", body, nil, status, message}
	}
	tests := []errorCase{
		post("malformed JSON", []byte(`{"prompt":`), 400, "malformed JSON"),
		post("not an object", []byte(`[1,2]`), 400, "malformed JSON"),
		post("null", []byte(`null`), 400, "empty prompt"),
		post("empty body", nil, 400, "empty request body"),
		post("unknown field", []byte(`{"prompt":"hi","streams":[{"model":"demo/hello"}],"modle":"x"}`), 400, "unknown field"),
		post("field name in capitals", []byte(`{"PROMPT":"hi","streams":[{"model":"demo/hello"}]}`), 400, `unknown field "PROMPT"`),
		post("nested field name in capitals", []byte(`{"prompt":"hi","streams":[{"Model":"demo/hello"}]}`), 400, `unknown field "Model"`),
		post("field name with a long s", []byte(`{"prompt":"hi","streams":[{"model":"demo/hello","options":{"\u017feed":1}}]}`), 400, "unknown field"),
		post("two values", []byte(`{"prompt":"hi","streams":[{"model":"demo/hello"}]} {}`), 400, "more than one value"),
		post("empty prompt", valid(func(r *wire.RunRequest) { r.Prompt = "" }), 400, "empty prompt"),
		post("blank prompt", valid(func(r *wire.RunRequest) { r.Prompt = " \n\t\u00a0" }), 400, "empty prompt"),
		post("NUL prompt", valid(func(r *wire.RunRequest) { r.Prompt = "\x00" }), 400, "empty prompt"),
		post("prompt of control characters", valid(func(r *wire.RunRequest) { r.Prompt = "\x00\x01\u200b\ufeff " }), 400, "empty prompt"),
		post("no streams", valid(func(r *wire.RunRequest) { r.Streams = nil }), 400, "no streams"),
		post("17 streams", withStreams(17), 400, "17 streams"),
		post("5,000 streams", withStreams(5000), 400, "5000 streams"),
		post("500,000 streams", withStreams(500000), 413, "request body over"),
		post("unknown mode", valid(func(r *wire.RunRequest) { r.Mode = "parallel" }), 400, "unknown mode"),
		post("prompt too long", valid(func(r *wire.RunRequest) { r.Prompt = strings.Repeat("a", 300<<10) }), 400, "prompt over"),
		post("system prompt too long", valid(func(r *wire.RunRequest) { r.System = strings.Repeat("a", 300<<10) }), 400, "system prompt over"),
		post("body over 8 MiB", big(8<<20), 413, "request body over"),
		post("10 MB body", big(10_000_000), 413, "request body over"),
		{"10 MB body without a length", "POST", "/api/runs", big(10_000_000), map[string]string{"Transfer-Encoding": "chunked"}, 413, "request body over"},

		// Text that is not UTF-8, raw or escaped.
		post("invalid byte in the prompt", raw("h\xffi", `[{"model":"demo/hello"}]`), 400, "UTF-8"),
		post("overlong NUL in the prompt", raw("a\xc0\x80b", `[{"model":"demo/hello"}]`), 400, "UTF-8"),
		post("encoded surrogate in the prompt", raw("a\xed\xa0\x80b", `[{"model":"demo/hello"}]`), 400, "UTF-8"),
		post("cut character in the prompt", raw("a\xe2\x82", `[{"model":"demo/hello"}]`), 400, "UTF-8"),
		post("Latin-1 prompt", raw("caf\xe9", `[{"model":"demo/hello"}]`), 400, "UTF-8"),
		post("escaped lone surrogate", raw(`a\ud800b`, `[{"model":"demo/hello"}]`), 400, "surrogate"),
		post("escaped surrogates reversed", raw(`\udc00\ud800`, `[{"model":"demo/hello"}]`), 400, "surrogate"),
		post("invalid byte in the system prompt", []byte("{\"prompt\":\"hi\",\"system\":\"\xff\",\"streams\":[{\"model\":\"demo/hello\"}]}"), 400, "UTF-8"),
		post("invalid byte in a label", raw("hi", "[{\"model\":\"demo/hello\",\"label\":\"\xfe\"}]"), 400, "UTF-8"),
		post("invalid byte in an earlier answer", raw("hi", "[{\"model\":\"demo/hello\",\"history\":[{\"prompt\":\"a\",\"answer\":\"\xfe\"}]}]"), 400, "UTF-8"),

		// Conversations.
		post("history turn without a prompt", valid(func(r *wire.RunRequest) {
			r.Streams[0].History = []wire.Turn{{Prompt: "a", Answer: "b"}, {Prompt: " \n", Answer: "c"}}
		}), 400, "stream 0: history turn 2 has an empty prompt"),
		post("conversation over 1 MiB", valid(func(r *wire.RunRequest) {
			r.Streams[0].History = slices.Repeat([]wire.Turn{{Prompt: "a", Answer: strings.Repeat("b", 200<<10)}}, 6)
		}), 400, "conversation over 1048576 bytes"),
		post("history of the wrong type", raw("hi", `[{"model":"demo/hello","history":"earlier"}]`), 400, "malformed JSON"),

		// Options out of range, absurd or of the wrong type.
		post("temperature 2.5", options(`{"temperature":2.5}`), 400, "temperature"),
		post("negative temperature", options(`{"temperature":-0.1}`), 400, "temperature"),
		post("temperature 1e308", options(`{"temperature":1e308}`), 400, "temperature"),
		post("temperature 1e309", options(`{"temperature":1e309}`), 400, "malformed JSON"),
		post("temperature as text", options(`{"temperature":"0.5"}`), 400, "malformed JSON"),
		post("negative seed", options(`{"seed":-1}`), 400, "seed"),
		post("seed beyond int64", options(`{"seed":9223372036854775808}`), 400, "malformed JSON"),
		post("num_predict -2", options(`{"num_predict":-2}`), 400, "num_predict"),
		post("absurd num_predict", options(`{"num_predict":1073741824}`), 400, "num_predict"),
		post("num_predict 1e20", options(`{"num_predict":1e20}`), 400, "malformed JSON"),
		post("fractional num_predict", options(`{"num_predict":1.5}`), 400, "malformed JSON"),
		post("num_ctx 0", options(`{"num_ctx":0}`), 400, "num_ctx"),
		post("negative num_ctx", options(`{"num_ctx":-4096}`), 400, "num_ctx"),
		post("absurd num_ctx", options(`{"num_ctx":1099511627776}`), 400, "num_ctx"),
		post("negative rate", options(`{"rate":-1}`), 400, "rate"),
		post("think maybe", options(`{"think":"maybe"}`), 400, "think"),
		post("think 1", options(`{"think":1}`), 400, "think"),
		post("rate 1e-300", options(`{"rate":1e-300}`), 400, "rate"),
		post("rate 0.01", options(`{"rate":0.01}`), 400, "rate"),
		post("absurd rate", options(`{"rate":1e12}`), 400, "rate"),
		post("options as text", options(`"fast"`), 400, "malformed JSON"),
		post("unknown option", options(`{"top_k":5}`), 400, "unknown field"),
		post("control characters in a label", valid(func(r *wire.RunRequest) { r.Streams[0].Label = "a\x1b[31m" }), 400, "label"),
		post("label too long", valid(func(r *wire.RunRequest) { r.Streams[0].Label = strings.Repeat("l", 129) }), 400, "label"),

		// Unknown ids, unclean paths.
		{"unknown run", "GET", "/api/runs/r_nope", nil, nil, 404, "unknown run"},
		{"cancel unknown run", "DELETE", "/api/runs/r_nope", nil, nil, 404, "unknown run"},
		{"cancel unknown stream", "DELETE", "/api/streams/s_nope", nil, nil, 404, "unknown stream"},
		{"a stream id as a run id", "DELETE", "/api/runs/" + victimStream, nil, nil, 404, "unknown run"},
		{"a run id as a stream id", "DELETE", "/api/streams/" + victim.ID, nil, nil, 404, "unknown stream"},
		{"escaped path in an id", "DELETE", "/api/runs/..%2F..%2Fhealthz", nil, nil, 404, "unknown run"},
		{"empty run id", "DELETE", "/api/runs/", nil, nil, 404, "no such endpoint"},
		{"dot-dot path", "DELETE", "/api/runs/../runs/" + victim.ID, nil, nil, 404, "no such endpoint"},
		{"dot path", "GET", "/api/runs/./" + victim.ID, nil, nil, 404, "no such endpoint"},
		{"double slash", "POST", "//api/runs", valid(func(*wire.RunRequest) {}), nil, 404, "no such endpoint"},
		{"events without stream", "GET", "/events", nil, nil, 400, "missing stream"},
		{"events of unknown stream", "GET", "/events?stream=s_nope", nil, nil, 404, "unknown stream"},
		{"events of a stream id with a NUL", "GET", "/events?stream=" + victimStream + "%00", nil, nil, 404, "unknown stream"},
		{"events of a run id", "GET", "/events?stream=" + victim.ID, nil, nil, 404, "unknown stream"},
		{"bad Last-Event-ID", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "x1"}, 400, "Last-Event-ID"},
		{"negative Last-Event-ID", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "-5"}, 400, "Last-Event-ID"},
		{"Last-Event-ID beyond int64", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "99999999999999999999"}, 400, "Last-Event-ID"},
		{"Last-Event-ID -1", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "-1"}, 400, "Last-Event-ID"},
		{"Last-Event-ID +3", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "+3"}, 400, "Last-Event-ID"},
		{"Last-Event-ID the largest int64", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Last-Event-ID": "9223372036854775807"}, 400, "Last-Event-ID"},
		{"Content-Type text/html", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Content-Type": "text/html"}, 415, "Content-Type"},
		{"Content-Type multipart", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415, "Content-Type"},
		{"JSON in another charset", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Content-Type": "application/json; charset=latin1"}, 415, "Content-Type"},
		{"unknown path", "GET", "/api/nope", nil, nil, 404, "no such endpoint"},
		{"path to a file", "GET", "/etc/passwd", nil, nil, 404, "no such endpoint"},

		// Wrong methods.
		{"PUT runs", "PUT", "/api/runs", valid(func(*wire.RunRequest) {}), nil, 405, "PUT is not allowed"},
		{"POST healthz", "POST", "/healthz", nil, nil, 405, "not allowed"},
		{"GET a stream", "GET", "/api/streams/" + victimStream, nil, nil, 405, "not allowed"},
		{"PATCH a run", "PATCH", "/api/runs/" + victim.ID, []byte(`{}`), nil, 405, "not allowed"},
		{"POST a run", "POST", "/api/runs/" + victim.ID, valid(func(*wire.RunRequest) {}), nil, 405, "not allowed"},
		{"DELETE events", "DELETE", "/events?stream=" + victimStream, nil, nil, 405, "not allowed"},
		{"preflight", "OPTIONS", "/api/runs", nil, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, 405, "not allowed"},
		{"TRACE", "TRACE", "/healthz", nil, nil, 405, "not allowed"},

		// Foreign hosts: DNS rebinding.
		{"host without port", "GET", "/healthz", nil, map[string]string{"Host": "localhost"}, 403, "forbidden host"},
		{"loopback host, other port", "GET", "/healthz", nil, map[string]string{"Host": "localhost:1"}, 403, "forbidden host"},
		{"foreign host starts a run", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Host": "evil.example:" + port}, 403, "forbidden host"},
		{"foreign host cancels", "DELETE", "/api/runs/" + victim.ID, nil, map[string]string{"Host": "evil.example:" + port}, 403, "forbidden host"},
		{"foreign host reads a transcript", "GET", "/api/runs/" + victim.ID, nil, map[string]string{"Host": "evil.example:" + port}, 403, "forbidden host"},
		{"foreign host follows a stream", "GET", "/events?stream=" + victimStream, nil, map[string]string{"Host": "evil.example:" + port}, 403, "forbidden host"},

		// Foreign origins on state-changing requests.
		{"foreign origin starts a run", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Origin": "http://evil.example"}, 403, "forbidden origin"},
		{"null origin", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Origin": "null"}, 403, "forbidden origin"},
		{"loopback origin, other port, cancels", "DELETE", "/api/runs/" + victim.ID, nil, map[string]string{"Origin": "http://127.0.0.1:1"}, 403, "forbidden origin"},
		{"foreign origin cancels a stream", "DELETE", "/api/streams/" + victimStream, nil, map[string]string{"Origin": "http://evil.example"}, 403, "forbidden origin"},
		{"cross-site fetch", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"cross-site in capitals", "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Sec-Fetch-Site": "Cross-Site"}, 403, "cross-site"},
		{"cross-site cancel", "DELETE", "/api/runs/" + victim.ID, nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
	}
	for _, h := range []string{
		"evil.example:" + port, "127.0.0.1.evil.example:" + port, "127.0.0.1." + port + ".evil.example:" + port,
		"127.0.0.1:" + port + ".evil.example", "127.0.0.1@evil.example:" + port, "localhost.evil.example:" + port,
		"localhost.:" + port, "127.0.0.2:" + port, "0.0.0.0:" + port, "127.1:" + port, "2130706433:" + port,
		"[::ffff:127.0.0.1]:" + port, "[::]:" + port, "evil.example",
	} {
		tests = append(tests, errorCase{"host " + h, "GET", "/healthz", nil, map[string]string{"Host": h}, 403, "forbidden host"})
	}
	for _, o := range []string{
		"http://127.0.0.1.evil.example:" + port, "http://localhost." + "evil.example:" + port, "https://127.0.0.1:" + port,
		"http://127.0.0.1:" + port + "/path", "http://user@127.0.0.1:" + port, "http://[::1]:1", "file://", "chrome-extension://abcdef",
		"http://127.0.0.1:" + port + ".evil.example",
	} {
		tests = append(tests, errorCase{"origin " + o, "POST", "/api/runs", valid(func(*wire.RunRequest) {}), map[string]string{"Origin": o}, 403, "forbidden origin"})
	}
	for _, model := range []string{
		"../etc/passwd", "demo/../../etc/passwd", "/abs", "/", `a\b`, `..\..\windows`, `C:\model`, "a b", "a\nb",
		"demo/hello\r\nX-Injected: 1", "a\x00b", "a\x7f", "a/../b", "a/./b", "a//b", "~/x", "x/y/z/w", ".", "..",
		"name:", ":tag", "a:b:c", "llama3.2%2f..%2fx", "\u202emodel", "ｍodel", "demo/", strings.Repeat("m", 257), "",
	} {
		tests = append(tests, post("model "+strconv.Quote(model[:min(len(model), 20)]), valid(func(r *wire.RunRequest) { r.Streams[0].Model = model }), 400, "invalid model name"))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := doRequest(t, tt.method, base+tt.path, tt.body, tt.header)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", status, tt.status, body)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if acao := header.Get("Access-Control-Allow-Origin"); acao != "" {
				t.Errorf("Access-Control-Allow-Origin %q", acao)
			}
			var e wire.Error
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("answer is not the contract's JSON error: %q", body)
			}
			if !strings.Contains(e.Error, tt.message) {
				t.Errorf("error %q does not say %q", e.Error, tt.message)
			}
			if e.Hint == "" {
				t.Errorf("error %q has no hint", e.Error)
			}
			if after := srv.Stats(); after.Runs != before.Runs || after.ActiveStreams != before.ActiveStreams {
				t.Errorf("the request changed the store: %+v, was %+v", after, before)
			}
		})
	}
	// The run that went on all along was not touched.
	tr, err := cl.Run(context.Background(), victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if evs := tr.Streams[0].Events; tr.Finished || len(evs) == 0 || evs[len(evs)-1].Event != wire.EventToken {
		t.Errorf("the run going on was changed by the hostile requests: finished %v, %d events", tr.Finished, len(evs))
	}
	if err := cl.CancelRun(context.Background(), victim.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d hostile requests, each answered with a JSON error and a hint; no run created, no stream started or stopped", len(tests))
}

// TestMalformedHTTP writes requests that the HTTP layer itself sees first:
// each gets a 4xx, none starts anything. Go's server refuses some of them
// before any handler runs, with a plain-text answer (json false).
func TestMalformedHTTP(t *testing.T) {
	srv, _ := start(t, server.Config{})
	host := strings.TrimPrefix(srv.URL(), "http://")
	body := `{"prompt":"hi","streams":[{"model":"demo/hello"}]}`
	tests := []struct {
		name    string
		request string
		status  int
		json    bool
	}{
		{"absolute URI of a foreign host", "POST http://evil.example/api/runs HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body, 403, true},
		{"HTTP/1.0 without Host", "POST /api/runs HTTP/1.0\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body, 403, true},
		{"CONNECT", "CONNECT " + host + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 404, true},
		{"asterisk path", "GET * HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 404, true},
		{"two Hosts", "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nHost: evil.example\r\n\r\n", 400, false},
		{"HTTP/1.1 without Host", "POST /api/runs HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body, 400, false},
		{"garbage request line", "\x00\x01\x02 / HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 400, false},
		{"100 KiB of headers", "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431, false},
		{"bad chunked body", "POST /api/runs HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n", 400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(testenv.Patience))
			go func() { _, _ = io.WriteString(conn, tt.request) }()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.status, b)
			}
			var e wire.Error
			if isJSON := json.Unmarshal(b, &e) == nil && e.Error != ""; isJSON != tt.json {
				t.Errorf("answer %q: JSON error %v, want %v", b, isJSON, tt.json)
			}
		})
	}
	if st := srv.Stats(); st.Runs != 0 || st.ActiveStreams != 0 {
		t.Errorf("malformed requests started something: %+v", st)
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
		{"Content-Type application/json", "POST", "/api/runs", body, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 201},
		{"curl -d's Content-Type", "POST", "/api/runs", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 201},
		{"text/plain (a browser's fetch without preflight)", "POST", "/api/runs", body, map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, 201},
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
