package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
)

// fakeOpenAI answers every chat with "Hello world" as an OpenAI-compatible
// server streams it.
func fakeOpenAI(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{`{"content":"Hello"}`, `{"content":" world"}`} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":null}]}\n\n", d)
		}
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// configDir points the user's config folder at a new folder, with the
// endpoints file text when it is not empty.
func configDir(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	path, err := endpoints.File()
	if err != nil {
		t.Fatal(err)
	}
	if text != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestRunEndpoints streams from an endpoint of the file and one of a flag:
// -m MODEL@NAME, the names in the summary and in --json, and the refusals
// of an unknown endpoint and of a broken file.
func TestRunEndpoints(t *testing.T) {
	configDir(t, `{"endpoints":[{"name":"lab","kind":"openai","url":"`+fakeOpenAI(t)+`"}]}`)
	gpu, err := endpoints.Parse("gpu=openai:" + fakeOpenAI(t))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, context.Background(), RunOptions{
		Models: []string{"tiny@lab", "tiny@gpu"}, Prompt: "hi", PromptSet: true, Endpoints: []endpoints.Endpoint{gpu},
	})
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, row := range []string{`(?m)^\s+1\s+tiny@lab\s+2\s.*stop\s*$`, `(?m)^\s+2\s+tiny@gpu\s+2\s.*stop\s*$`} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("no summary row %s:\n%s", row, out)
		}
	}

	code, out, errOut = runCLI(t, context.Background(), RunOptions{
		Models: []string{"tiny@lab"}, Prompt: "hi", PromptSet: true, JSON: true,
	})
	if code != ExitOK || !strings.Contains(out, `"model":"tiny","endpoint":"lab","event":"token"`) {
		t.Errorf("exit %d, stderr %q; --json lines lack the endpoint:\n%s", code, errOut, out)
	}

	code, _, errOut = runCLI(t, context.Background(), RunOptions{
		Models: []string{"tiny@nope"}, Prompt: "hi", PromptSet: true, Endpoints: []endpoints.Endpoint{gpu},
	})
	if code != ExitUsage || !strings.Contains(errOut, `unknown endpoint "nope"`) || !strings.Contains(errOut, "lab, gpu") {
		t.Errorf("an unknown endpoint: exit %d, stderr %q; want 2 naming the known ones", code, errOut)
	}

	// An OpenAI-compatible server's model id may hold an @: the last one
	// names the endpoint.
	code, out, errOut = runCLI(t, context.Background(), RunOptions{
		Models: []string{"vendor/m@2024@lab"}, Prompt: "hi", PromptSet: true, JSON: true,
	})
	if code != ExitOK || !strings.Contains(out, `"model":"vendor/m@2024","endpoint":"lab","event":"token"`) ||
		!strings.Contains(out, `"model":"vendor/m@2024@lab"`) {
		t.Errorf("exit %d, stderr %q; want the model vendor/m@2024 at lab, named vendor/m@2024@lab in the summary:\n%s", code, errOut, out)
	}
	for _, m := range []string{"tiny@", "@lab", " ", "tiny@l ab"} {
		code, out, errOut = runCLI(t, context.Background(), RunOptions{Models: []string{"demo/echo", m}, Prompt: "hi", PromptSet: true})
		if code != ExitUsage || !strings.HasPrefix(errOut, "tokenloom: -m: ") || out != "" {
			t.Errorf("-m %q: exit %d, stderr %q, stdout %q; want %d, why, and nothing run", m, code, errOut, out, ExitUsage)
		}
	}

	path := configDir(t, `{"endpoints":[{"name":"lab","kind":"openai","url":"http://h/v1","api_key":"sk-x"}]}`)
	code, _, errOut = runCLI(t, context.Background(), RunOptions{Prompt: "hi", PromptSet: true})
	if code != ExitUsage || !strings.Contains(errOut, path) || !strings.Contains(errOut, "api_key") || strings.Contains(errOut, "sk-x") {
		t.Errorf("a broken endpoints file: exit %d, stderr %q; want 2 naming the file and the field, not the key", code, errOut)
	}
}

func TestServeListsEndpoints(t *testing.T) {
	configDir(t, "")
	gpu, _ := endpoints.Parse("gpu=ollama:" + closedOllama(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Serve(ctx, ServeOptions{Addr: "127.0.0.1:0", OllamaURL: closedOllama(t), Endpoints: []endpoints.Endpoint{gpu},
			Stdout: &out, Stderr: &errOut, Ready: func(string) { cancel() }})
	}()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(out.String(), "  gpu  ollama "+gpu.URL+"\n") {
		t.Errorf("the banner does not list the endpoint:\n%s", out.String())
	}
}
