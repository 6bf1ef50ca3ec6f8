package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// FuzzRunRequest feeds arbitrary bodies to the decoder of POST /api/runs.
// It must never panic, and it must either refuse the body with a 400 and a
// message and hint, or return a request that keeps every rule of the
// contract and reads back the same after encoding.
func FuzzRunRequest(f *testing.F) {
	for _, seed := range []string{
		`{"prompt":"hi","streams":[{"model":"demo/hello"}]}`,
		`{"prompt":"Why?","system":"Be brief.","mode":"sync","streams":[{"model":"llama3.2:1b","label":"cold","options":{"temperature":0.7,"seed":1,"num_predict":-1,"num_ctx":4096}},{"model":"demo/flood","options":{"rate":0}}]}`,
		`{"prompt":"hi","mode":"parallel","streams":[{"model":"demo/hello"}]}`,
		`{"prompt":"hi","streams":[{"model":"../etc/passwd"}]}`,
		`{"prompt":"hi","streams":[{"model":"registry.local/ns/model:tag"}]}`,
		`{"prompt":"hi","streams":[{"model":"a\u0000b"}]}`,
		`{"prompt":"\ud800","streams":[{"model":"demo/hello"}]}`,
		`{"prompt":"\ud83d\ude00","streams":[{"model":"demo/hello"}]}`,
		"{\"prompt\":\"h\xffi\",\"streams\":[{\"model\":\"demo/hello\"}]}",
		`{"prompt":"hi","streams":[{"model":"demo/hello","options":{"temperature":1e309}}]}`,
		`{"prompt":"hi","streams":[{"model":"demo/hello","options":{"num_predict":1.5}}]}`,
		`{"prompt":"hi","streams":[{"model":"demo/hello","options":{"seed":-1}}]}`,
		`{"prompt":"hi","streams":[{"model":"demo/hello","label":"a\u001b[31m"}]}`,
		`{"prompt":"hi","streams":[{"model":"demo/hello"}]} {}`,
		`{"prompt":"hi","streams":null}`,
		`{"prompt":" ","streams":[{"model":"demo/hello"}]}`,
		`{"prompt":"hi","streams":[{}]}`,
		`{"prompt":"hi","streams":[{"model":"demo/hello","extra":1}]}`,
		`[]`, `null`, `""`, ``, `{`, `{"prompt":`,
	} {
		f.Add([]byte(seed))
	}
	s := &Server{cfg: Config{MaxPromptBytes: 4 << 10}.withDefaults()}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, bad := s.decodeRunRequest(body)
		if bad != nil {
			if bad.status != http.StatusBadRequest {
				t.Fatalf("refused with status %d", bad.status)
			}
			if bad.msg == "" || bad.hint == "" {
				t.Fatalf("refusal without a message or hint: %+v", bad)
			}
			if !reflect.ValueOf(req).IsZero() {
				t.Fatalf("a refusal came with a request: %+v", req)
			}
			return
		}
		checkValidRequest(t, s.cfg, req)
		// Only a body that says U+FFFD itself may bring it: encoding/json
		// must not have replaced anything.
		texts := req.Prompt + req.System
		for _, sp := range req.Streams {
			texts += sp.Label
		}
		if strings.ContainsRune(texts, utf8.RuneError) && !bytes.ContainsRune(body, utf8.RuneError) &&
			!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
			t.Fatalf("U+FFFD in the accepted texts that the body did not send: %q", body)
		}
		// What was accepted reads back the same, and is accepted again.
		again, bad := s.decodeRunRequest(mustMarshal(t, req))
		if bad != nil {
			t.Fatalf("the accepted request %+v is refused once encoded: %s", req, bad.msg)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("the accepted request %+v reads back as %+v", req, again)
		}
	})
}

// checkValidRequest checks every rule of the contract on an accepted request.
func checkValidRequest(t *testing.T, cfg Config, req wire.RunRequest) {
	t.Helper()
	if !utf8.ValidString(req.Prompt) || !utf8.ValidString(req.System) {
		t.Fatalf("accepted a prompt that is not UTF-8: %q %q", req.Prompt, req.System)
	}
	if blank(req.Prompt) || len(req.Prompt) > cfg.MaxPromptBytes || len(req.System) > cfg.MaxPromptBytes {
		t.Fatalf("accepted a prompt of %d bytes, system %d: %q", len(req.Prompt), len(req.System), req.Prompt)
	}
	if req.Mode != wire.ModeAsync && req.Mode != wire.ModeSync {
		t.Fatalf("accepted mode %q", req.Mode)
	}
	if n := len(req.Streams); n == 0 || n > cfg.MaxStreamsPerRun {
		t.Fatalf("accepted %d streams", n)
	}
	for i, sp := range req.Streams {
		if !safeModelName(sp.Model) {
			t.Fatalf("stream %d: accepted model %q", i, sp.Model)
		}
		if len(sp.Label) > maxLabelLen || !utf8.ValidString(sp.Label) || strings.ContainsFunc(sp.Label, isControl) {
			t.Fatalf("stream %d: accepted label %q", i, sp.Label)
		}
		o := sp.Options
		if o == nil {
			continue
		}
		switch {
		case o.Temperature != nil && !(*o.Temperature >= 0 && *o.Temperature <= MaxTemperature),
			o.Seed != nil && *o.Seed < 0,
			o.NumPredict != nil && (*o.NumPredict < -1 || *o.NumPredict > MaxNumPredict),
			o.NumCtx != nil && (*o.NumCtx < 1 || *o.NumCtx > MaxNumCtx),
			o.Rate != nil && !(*o.Rate == 0 || *o.Rate >= MinRate && *o.Rate <= MaxRate),
			o.Think != nil && !o.Think.Valid():
			t.Fatalf("stream %d: accepted options %s", i, mustMarshal(t, o))
		}
	}
}

// safeModelName is the contract's rule for model names, written apart from
// ValidModelName: at most 256 bytes of letters, digits and "._-", in at most
// three "/"-separated segments, none empty, "." or "..", then an optional
// ":tag".
func safeModelName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:", r)) {
			return false
		}
	}
	base, tag, hasTag := strings.Cut(name, ":")
	if hasTag && (tag == "" || strings.ContainsAny(tag, ":/")) {
		return false
	}
	segs := strings.Split(base, "/")
	if len(segs) > 3 {
		return false
	}
	for _, seg := range segs {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoneSurrogate checks the scanner behind the refusal of escaped lone
// surrogates, which encoding/json would turn into U+FFFD without a word.
func TestLoneSurrogate(t *testing.T) {
	tests := []struct {
		json string
		lone bool
	}{
		{`"plain"`, false},
		{`"\u00e9\u4e2d"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\uD83D\uDE00"`, false},
		{`"\ud800"`, true},
		{`"\udc00"`, true},
		{`"\ud800x"`, true},
		{`"\ud800\u0041"`, true},
		{`"\ud800\ud800"`, true},
		{`"\ud800\n"`, true},
		{`"\\ud800"`, false}, // an escaped backslash, then text
		{`"\\\ud800"`, true},
		{`"a\"\ud83d\ude00"`, false},
		{`"end\ud800`, true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			if got := loneSurrogate([]byte(tt.json)); got != tt.lone {
				t.Errorf("loneSurrogate(%s) = %v, want %v", tt.json, got, tt.lone)
			}
		})
	}
}

// TestStrayKey: object keys are checked exactly, at every depth, escaped
// or not; strings that are values, and brackets or quotes inside them,
// are not keys.
func TestStrayKey(t *testing.T) {
	names := map[string]bool{"prompt": true, "streams": true, "model": true, "options": true, "seed": true}
	for raw, want := range map[string]string{
		`{"prompt":"{\"PROMPT\": [1,{\"x\":2}]}","streams":[{"model":"m","options":{"seed":1}}]}`: "",
		`{"prompt":"hi","streams":[{"Model":"m"}]}`:                                               "Model",
		`{"prompt":"hi","streams":[{"model":"m","options":{"\u017feed":1}}]}`:                     "\u017feed",
		`{"pro\u006dpt":"hi"}`:                                             "",
		`{"prompt":"a\\","streams":[],"x":1}`:                              "x",
		` { "prompt" : [ "model" , { "seed" : { "model" : "SEED" } } ] } `: "",
	} {
		key, found := strayKey([]byte(raw), names)
		if found != (want != "") || key != want {
			t.Errorf("strayKey(%s) = %q %v, want %q", raw, key, found, want)
		}
	}
}
