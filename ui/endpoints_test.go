package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
	"github.com/tokenloom/tokenloom/server"
)

// TestEndpointsInTheApp: Settings adds a real Ollama twice, as an Ollama
// endpoint and through its OpenAI-compatible /v1, to the endpoints file;
// saving starts the server again with them, the pickers offer the model on
// each as model@endpoint, a run gets the exact text from both, the lanes and
// the transcript name the endpoints, and the wire shows the /v1 stream's
// two hops.
func TestEndpointsInTheApp(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	o := ollamatest.Start(t)
	closed := closedURL(t)
	var mu sync.Mutex
	var started []*embedded.Server
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range started {
			s.Close()
		}
	})
	reconnect := func(_ context.Context, _ string) (*client.Client, error) {
		eps, err := endpoints.Load(nil)
		if err != nil {
			return nil, err
		}
		emb, err := embedded.Start(server.Config{OllamaURL: closed, Endpoints: eps})
		if err != nil {
			return nil, err
		}
		mu.Lock()
		started = append(started, emb)
		mu.Unlock()
		return emb.Client, nil
	}
	h := newHarnessWith(t, test.NewTempApp(t), closed, Options{Reconnect: reconnect})

	const key = "sk-tokenloom-test-0123456789" // sent to /v1, which takes any
	t.Setenv("TOKENLOOM_TEST_KEY", key)
	e := h.app.newEndpointEditor()
	for _, ep := range []endpoints.Endpoint{{Name: "gpu", Kind: endpoints.KindOllama, URL: o.URL()}, {Name: "v1", Kind: endpoints.KindOpenAI, URL: o.URL(), APIKeyEnv: "TOKENLOOM_TEST_KEY"}} {
		e.name.SetText(ep.Name)
		e.kind.SetSelected(ep.Kind)
		e.url.SetText(ep.URL)
		e.keyEnv.SetText(ep.APIKeyEnv)
		e.add()
	}
	e.name.SetText("gpu") // a second of one name is refused
	e.url.SetText("http://127.0.0.1:1")
	e.add()
	if !e.problem.Visible() || !strings.Contains(e.problem.Text, `two endpoints named "gpu"`) || len(e.list) != 2 {
		t.Fatalf("second gpu: %q, %d endpoints", e.problem.Text, len(e.list))
	}
	if err := e.save(); err != nil {
		t.Fatal(err)
	}
	h.app.saveOllamaURL("")
	gpu, v1 := o.Model()+":latest@gpu", ""
	h.q.waitFor(t, "the models of both endpoints", func() bool {
		for name, m := range h.app.modelInfo {
			if m.Endpoint == "v1" && strings.HasPrefix(m.Name, o.Model()) {
				v1 = name
			}
		}
		return h.app.modelInfo[gpu].Name != "" && v1 != ""
	})
	h.q.waitFor(t, "the word on the endpoints", func() bool { return h.app.notice.Visible() })
	if got := h.app.notice.Text; !strings.Contains(got, "Endpoints: gpu answers; v1 answers.") {
		t.Errorf("notice %q", got)
	}
	if got := h.app.endpointState("v1"); got != "answers, 1 model" {
		t.Errorf("v1: %q", got)
	}

	h.setPanes(gpu, v1)
	for _, p := range h.app.panes {
		p.temp.SetText("0") // Ollama's /v1 samples at 1 unless told
	}
	h.app.prompt.SetText("The")
	h.runAndWait()
	for i, p := range h.app.panes {
		if got := p.view.Text(); got != testmodel.FoxSentence {
			t.Errorf("pane %d: %q", i+1, got)
		}
	}
	if got := strings.Join(laneLabels(h.app.views.timeline), "|"); got != "1 "+gpu+"|2 "+v1 {
		t.Errorf("lanes %q", got)
	}
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Streams[0].Endpoint != "gpu" || tr.Streams[1].Endpoint != "v1" {
		t.Errorf("transcript endpoints %q, %q", tr.Streams[0].Endpoint, tr.Streams[1].Endpoint)
	}

	// The key is named, never kept: not in the endpoints file, the
	// preferences, the saved run or what the app says.
	file, err := os.ReadFile(e.path)
	if err != nil || !strings.Contains(string(file), `"api_key_env": "TOKENLOOM_TEST_KEY"`) {
		t.Errorf("endpoints file %s, %v", file, err)
	}
	h.app.Save()
	saved := filepath.Join(t.TempDir(), "run.json")
	if said := h.save(h.app.lastRunFile(false), saved); !strings.HasPrefix(said, "Saved the run as JSON") {
		t.Errorf("export: %q", said)
	}
	run, _ := os.ReadFile(saved)
	prefs := fmt.Sprint(h.app.fyneApp.Preferences().String("panes"), h.app.fyneApp.Preferences().String(PrefOllamaURL))
	for what, text := range map[string]string{"endpoints file": string(file), "preferences": prefs, "saved run": string(run), "notice": h.app.notice.Text, "banner": h.app.bannerMsg.Text} {
		if strings.Contains(text, key) {
			t.Errorf("the key is in the %s", what)
		}
	}
	if !strings.Contains(prefs, `"endpoint":"v1"`) || !strings.Contains(string(run), `"endpoint": "v1"`) && !strings.Contains(string(run), `"endpoint":"v1"`) {
		t.Errorf("the endpoint is not kept: preferences %s", prefs)
	}

	// The wire: the Ollama endpoint has one hop, the /v1 one two.
	w := h.app.views.wire
	if w.upBox.Visible() {
		t.Error("the Ollama endpoint's stream shows a first hop")
	}
	w.pick.SetSelectedIndex(1)
	h.q.waitFor(t, "the first hop of the /v1 stream", func() bool { return strings.Contains(w.up.Text(), "data: [DONE]") })
	if !w.upBox.Visible() || !strings.Contains(w.upNote.Text, "v1 (openai)") || !strings.Contains(w.up.Text(), `"delta":{`) {
		t.Errorf("first hop %v: %q", w.upBox.Visible(), w.upNote.Text)
	}
	h.q.waitFor(t, "the relayed frames", func() bool { return strings.Contains(w.Text(), "event: done") })
}

// TestModelPicker: a pane's picker names a model and its endpoint as
// endpoints.ModelRef writes them, and the pane reads them back by its one
// rule, listed or not; a name that names no model stops the run with the
// reason, before the server is asked.
func TestModelPicker(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	for _, cfg := range []PaneConfig{
		{Model: "m@x", Endpoint: "gpu"},          // an id with an @, at an endpoint away
		{Model: "demo/hello"},                    // a local source
		{Model: "llama3", Endpoint: "lab"},       // saved, its endpoint away
		{Model: "qwen3:8b"},                      // saved, Ollama away
		{Model: "hf.co/org/m:Q4", Endpoint: "x"}, // a name with / and :
	} {
		p := newPane(h.app, 0, cfg)
		if want := (endpoints.ModelRef{Model: cfg.Model, Endpoint: cfg.Endpoint}).String(); p.model.Selected != want {
			t.Errorf("%+v: picker shows %q, want %q", cfg, p.model.Selected, want)
		}
		if got, err := p.config(); err != nil || got.Model != cfg.Model || got.Endpoint != cfg.Endpoint {
			t.Errorf("%+v: the pane reads %q at %q, %v", cfg, got.Model, got.Endpoint, err)
		}
	}
	h.setPanes("demo/echo")
	h.app.addPane(PaneConfig{Model: "odd@"})
	if got := h.app.panes[1].model.Selected; got != "odd@" {
		t.Fatalf("the saved model shows as %q", got)
	}
	h.app.prompt.SetText("hi")
	test.Tap(h.app.runBtn)
	if got, want := h.app.runStatus.Text, `Pane 2: model "odd@": no endpoint after the @`; h.app.running || !strings.HasPrefix(got, want) {
		t.Errorf("running %v, status %q; want %q", h.app.running, got, want)
	}
	if cfg, _ := h.app.panes[1].config(); cfg.Model != "odd@" || cfg.Endpoint != "" {
		t.Errorf("the pane keeps %q at %q, want the model as chosen", cfg.Model, cfg.Endpoint)
	}
}
