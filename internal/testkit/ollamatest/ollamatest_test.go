package ollamatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

// chatChunk is one line of a streamed /api/chat response.
type chatChunk struct {
	Message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"message"`
	Done         bool   `json:"done"`
	DoneReason   string `json:"done_reason"`
	EvalCount    int    `json:"eval_count"`
	EvalDuration int64  `json:"eval_duration"` // nanoseconds
	Error        string `json:"error"`
}

// chat sends prompt as a single user message to /api/chat with streaming on
// and returns the chunks of the answer.
func chat(t *testing.T, o *Ollama, prompt string, options map[string]any) []chatChunk {
	t.Helper()
	return chatModel(t, o, o.Model(), prompt, options)
}

// chatModel is chat with another model than the tiny one.
func chatModel(t *testing.T, o *Ollama, model, prompt string, options map[string]any) []chatChunk {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"model":    model,
		"messages": []map[string]string{{"role": "user", "content": prompt}},
		"stream":   true,
		"options":  options,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, o.URL()+"/api/chat", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /api/chat: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/chat: %s", resp.Status)
	}
	var chunks []chatChunk
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var c chatChunk
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("decode /api/chat stream: %v", err)
		}
		if c.Error != "" {
			t.Fatalf("/api/chat: %s", c.Error)
		}
		chunks = append(chunks, c)
	}
	if len(chunks) == 0 || !chunks[len(chunks)-1].Done {
		t.Fatalf("/api/chat stream ended without a done chunk: %+v", chunks)
	}
	return chunks
}

func content(chunks []chatChunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.Message.Content)
	}
	return b.String()
}

func TestChat(t *testing.T) {
	o := Start(t)
	if !strings.HasPrefix(o.URL(), "http://127.0.0.1:") || o.URL() != "http://"+o.Host() {
		t.Errorf("URL() = %q, Host() = %q", o.URL(), o.Host())
	}
	if o.Model() != testmodel.Name {
		t.Errorf("Model() = %q, want %q", o.Model(), testmodel.Name)
	}

	tests := []struct {
		name, prompt string
		options      map[string]any
		want, reason string
	}{
		{"fox", "The", nil, testmodel.FoxSentence, "stop"},
		{"counting", "one", map[string]any{"num_predict": 30}, testmodel.Counting(30), "length"},
		{"default", "Hello, world!", nil, testmodel.DefaultReply, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := chat(t, o, tt.prompt, tt.options)
			last := chunks[len(chunks)-1]
			if got := content(chunks); got != tt.want || last.DoneReason != tt.reason {
				t.Errorf("chat %q = %q (done_reason %q), want %q (%q)",
					tt.prompt, got, last.DoneReason, tt.want, tt.reason)
			}
			// Streaming delivers one token per chunk, and the final chunk
			// carries no text.
			words := len(strings.Fields(tt.want))
			if len(chunks) < words+1 || last.Message.Content != "" {
				t.Errorf("got %d chunks, last %+v; want one per word (%d) and an empty final one",
					len(chunks), last, words)
			}
			if first := chunks[0].Message.Content; first != " "+strings.Fields(tt.want)[0] {
				t.Errorf("first chunk = %q, want the first word with its leading space", first)
			}
			if last.EvalDuration > 0 {
				t.Logf("%d tokens in %v: %.0f tokens/s", last.EvalCount, time.Duration(last.EvalDuration),
					float64(last.EvalCount)/time.Duration(last.EvalDuration).Seconds())
			}
		})
	}
}

// TestCreateModel creates a variant of the tiny model with a larger
// context: it answers like the tiny model, and Ollama's cap on num_predict
// (10 × num_ctx for one request at a time) follows its num_ctx.
func TestCreateModel(t *testing.T) {
	o := Start(t, WithEnv("OLLAMA_NUM_PARALLEL=1"))
	o.CreateModel("tiny-variant", "FROM "+o.Model()+"\nPARAMETER num_ctx 512\n")
	if got := content(chatModel(t, o, "tiny-variant", "The", nil)); got != testmodel.FoxSentence {
		t.Errorf("the variant answers %q, want %q", got, testmodel.FoxSentence)
	}
	chunks := chatModel(t, o, "tiny-variant", "one", map[string]any{"num_predict": 100000})
	if got, want := len(chunks)-1, 10*512; got != want {
		t.Errorf("the variant generated %d tokens for num_predict 100000, want Ollama's cap of %d", got, want)
	}
}

func TestKillStopRestart(t *testing.T) {
	o := Start(t, WithEnv("OLLAMA_NUM_PARALLEL=1"))
	models := envValue(o.env, "OLLAMA_MODELS")
	if models == "" {
		t.Fatal("no OLLAMA_MODELS in the server's environment")
	}

	// Loading the model spawns a runner in the server's process group.
	chat(t, o, "The", nil)
	pgid := o.PID()
	before := liveGroupMembers(pgid)
	if len(before) < 2 {
		t.Fatalf("process group %d = %v, want ollama serve and its runner", pgid, before)
	}
	if ours := processesUsing(models); len(ours) < 2 {
		t.Fatalf("processes using %s = %v, want ollama serve and its runner", models, ours)
	}

	o.Kill()
	if o.PID() != 0 {
		t.Errorf("PID() = %d after Kill, want 0", o.PID())
	}
	assertGone(t, o, pgid, models)

	o.Restart()
	if got := content(chat(t, o, "one", map[string]any{"num_predict": 3})); got != testmodel.Counting(3) {
		t.Errorf("after Restart: chat %q = %q, want %q", "one", got, testmodel.Counting(3))
	}
	pgid = o.PID()
	if live := liveGroupMembers(pgid); len(live) < 2 {
		t.Fatalf("process group %d = %v after Restart, want ollama serve and its runner", pgid, live)
	}

	o.Stop()
	assertGone(t, o, pgid, models)
	o.Stop() // a no-op
	o.Kill() // a no-op
}

// assertGone checks that the server of o is down and that no process of
// group pgid or using the models directory is left.
func assertGone(t *testing.T, o *Ollama, pgid int, models string) {
	t.Helper()
	if live := liveGroupMembers(pgid); len(live) != 0 {
		t.Errorf("process group %d still has live processes %v", pgid, live)
	}
	if ours := processesUsing(models); len(ours) != 0 {
		t.Errorf("processes %v still use %s", ours, models)
	}
	// No time limit: a server that is down refuses at once, and one still
	// up answers, however slowly.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, o.URL()+"/api/version", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("GET /api/version still answers %s", resp.Status)
	}
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// processesUsing returns the live processes whose command line or
// environment mentions dir: our ollama serve has it in OLLAMA_MODELS, its
// runners in their --model argument.
func processesUsing(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if state, _, ok := procStat(pid); !ok || state == 'Z' || state == 'X' {
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), f))
			if err == nil && bytes.Contains(b, []byte(dir)) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func TestLiveGroupMembers(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	pgid := syscall.Getpgrp()
	if live := liveGroupMembers(pgid); !containsInt(live, os.Getpid()) {
		t.Errorf("liveGroupMembers(%d) = %v, want it to contain this process %d", pgid, live, os.Getpid())
	}
	if live := liveGroupMembers(1 << 30); len(live) != 0 {
		t.Errorf("liveGroupMembers of a nonexistent group = %v", live)
	}
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func writeExecutable(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
}

func TestFindBinary(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	cached := filepath.Join(cache, "tokenloom", "ollama-"+Version, "bin", "ollama")
	if got, err := CachedBinary(); err != nil || got != cached {
		t.Fatalf("CachedBinary() = %q, %v; want %q", got, err, cached)
	}
	pathDir := t.TempDir()
	t.Setenv("PATH", pathDir)
	t.Setenv(BinEnv, "")

	// Nothing anywhere.
	if got, err := FindBinary(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("FindBinary() with no binary = %q, %v; want fs.ErrNotExist", got, err)
	}

	// The cache.
	writeExecutable(t, cached)
	if got, err := FindBinary(); err != nil || got != cached {
		t.Errorf("FindBinary() = %q, %v; want the cached %q", got, err, cached)
	}

	// PATH wins over the cache.
	onPath := filepath.Join(pathDir, "ollama")
	writeExecutable(t, onPath)
	if got, err := FindBinary(); err != nil || got != onPath {
		t.Errorf("FindBinary() = %q, %v; want %q from PATH", got, err, onPath)
	}

	// BinEnv wins over PATH, and must name an executable.
	explicit := filepath.Join(t.TempDir(), "my-ollama")
	t.Setenv(BinEnv, explicit)
	if got, err := FindBinary(); err == nil || !strings.Contains(err.Error(), BinEnv) {
		t.Errorf("FindBinary() with a missing %s = %q, %v; want an error naming it", BinEnv, got, err)
	}
	if err := os.WriteFile(explicit, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindBinary(); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("FindBinary() with a non-executable %s = %q, %v; want fs.ErrPermission", BinEnv, got, err)
	}
	writeExecutable(t, explicit)
	if got, err := FindBinary(); err != nil || got != explicit {
		t.Errorf("FindBinary() = %q, %v; want %q from %s", got, err, explicit, BinEnv)
	}
}

// recordingTB records how Start gave up on a test.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartWithoutBinary(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Setenv(BinEnv, "")
	for _, ci := range []string{"", "false", "true"} {
		t.Setenv("CI", ci)
		r := &recordingTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Start(r)
			t.Errorf("CI=%q: Start returned without a binary", ci)
		}()
		<-done
		want, other, how := r.skipped, r.failed, "skip"
		if ci == "true" {
			want, other, how = r.failed, r.skipped, "fail"
		}
		if !strings.Contains(want, "scripts/install-ollama.sh") || other != "" {
			t.Errorf("CI=%q: skipped %q, failed %q; want Start to %s, telling how to install",
				ci, r.skipped, r.failed, how)
		}
	}
}
