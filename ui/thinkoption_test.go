package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TestThinkChoices: the think option offers nothing for a model whose
// capabilities do not say it thinks, levels for gpt-oss, on and off for
// the others.
func TestThinkChoices(t *testing.T) {
	thinks := []string{"completion", wire.CapabilityThinking}
	for _, c := range []struct {
		name string
		m    wire.Model
		want []string
	}{
		{"no capabilities", wire.Model{Name: "llama3.2:1b"}, []string{thinkDefault}},
		{"completion only", wire.Model{Name: "llama3.2:1b", Capabilities: []string{"completion"}}, []string{thinkDefault}},
		{"thinking", wire.Model{Name: "qwen3:0.6b", Capabilities: thinks}, []string{thinkDefault, "off", "on"}},
		{"gpt-oss by name", wire.Model{Name: "gpt-oss:20b", Capabilities: thinks}, []string{thinkDefault, "low", "medium", "high"}},
		{"gpt-oss by family", wire.Model{Name: "my-oss", Family: "gptoss", Capabilities: thinks}, []string{thinkDefault, "low", "medium", "high"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := thinkLabelsOf(thinkChoices(c.m)); !slices.Equal(got, c.want) {
				t.Errorf("offers %v, want %v", got, c.want)
			}
		})
	}
	for _, l := range thinkLabels {
		if got := thinkOf(thinkLabel(&l.think)); got == nil || *got != l.think {
			t.Errorf("%q reads back as %v", l.label, got)
		}
	}
	if thinkOf(thinkDefault) != nil {
		t.Error("the model's default sends a think value")
	}
}

// TestThinkOption: a pane offers the think option only for a model that
// thinks; the run asks for the value chosen (the transcript keeps it), the
// stream follows it, the preferences keep it for the next start; a pane
// whose model does not think asks for nothing.
func TestThinkOption(t *testing.T) {
	fa := test.NewTempApp(t)
	h := newHarness(t, fa, "")
	h.setPanes(wire.DemoThink, wire.DemoHello)
	think, hello := h.app.panes[0], h.app.panes[1]
	if !think.thinkRow.Visible() || !slices.Equal(think.think.Options, []string{thinkDefault, "off", "on"}) {
		t.Errorf("demo/think's option: visible %v, offers %v", think.thinkRow.Visible(), think.think.Options)
	}
	if hello.thinkRow.Visible() {
		t.Error("demo/hello offers a think option")
	}
	if think.think.Selected != thinkDefault {
		t.Errorf("think %q at first", think.think.Selected)
	}

	for _, c := range []struct {
		label     string
		want      wire.Think
		reasoning bool
	}{{"off", wire.ThinkOff, false}, {"on", wire.ThinkOn, true}} {
		idle := think.state == paneIdle
		think.think.SetSelected(c.label)
		if s := think.statusText(); idle && s != "ready · think "+c.label {
			t.Errorf("idle status %q does not say think %s", s, c.label)
		}
		h.runAndWait()
		tr, err := h.app.client().Run(t.Context(), h.app.runID)
		if err != nil {
			t.Fatal(err)
		}
		if o := tr.Streams[0].Options; o == nil || o.Think == nil || *o.Think != c.want {
			t.Errorf("think %s: demo/think ran with options %+v", c.label, o)
		}
		if o := tr.Streams[1].Options; o != nil && o.Think != nil {
			t.Errorf("demo/hello was asked to think %q", *o.Think)
		}
		if got := tr.Streams[0].Thinking != "" && think.thought.view.Text() == tr.Streams[0].Thinking; got != c.reasoning {
			t.Errorf("think %s: reasoning %q shown %q", c.label, tr.Streams[0].Thinking, think.thought.view.Text())
		}
		if think.view.Text() != "Hello! How can I help?" {
			t.Errorf("think %s: answer %q", c.label, think.view.Text())
		}
	}

	// The next start has it; demo/hello's pane saved none.
	if s := fa.Preferences().String(prefPanes); !strings.Contains(s, `"model":"demo/think","think":true`) || strings.Count(s, `"think"`) != 1 {
		t.Errorf("saved panes %s", s)
	}
	again := newHarness(t, fa, "")
	if p := again.app.panes[0]; p.think.Selected != "on" || !p.thinkRow.Visible() {
		t.Errorf("after a restart think %q (visible %v), want on", p.think.Selected, p.thinkRow.Visible())
	}

	// Another model that does not think: the option goes, nothing is sent.
	think.model.SetSelected(wire.DemoHello)
	if think.thinkRow.Visible() {
		t.Error("the option stays for demo/hello")
	}
	if cfg, _ := think.config(); cfg.Think != nil || cfg.spec().Options != nil {
		t.Errorf("demo/hello's pane asks for think %v", *cfg.Think)
	}
}
