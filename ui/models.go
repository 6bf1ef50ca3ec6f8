package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// refresh reloads the model list and Ollama's health. On the first load,
// panes without saved settings take the first Ollama models; then the
// window is ready (Options.Probe hears of it) and Options.AutoRun starts a
// run.
func (a *App) refresh(first bool) {
	a.background(func(ctx context.Context, cl *client.Client) func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		models, err := cl.Models(ctx)
		return func() {
			if err != nil {
				a.showBanner("The Tokenloom server does not answer: " + err.Error())
				return
			}
			a.models = a.models[:0]
			a.modelInfo = make(map[string]wire.Model, len(models.Models))
			a.endpoints = models.Endpoints
			var ollama []string
			for _, m := range models.Models {
				name := modelOption(m.Name, m.Endpoint)
				a.models = append(a.models, name)
				a.modelInfo[name] = m
				if m.Source == wire.SourceOllama && m.Endpoint == "" {
					ollama = append(ollama, name)
				}
			}
			var msgs []string
			if models.OllamaError != "" {
				msg := models.OllamaError + "."
				if hint := a.ollamaHint(models.OllamaHint); hint != "" {
					msg += " To use Ollama models, " + hint + "."
				}
				msgs = append(msgs, msg+" The demo sources work without it.")
			}
			for _, e := range models.Endpoints {
				if !e.Reachable {
					msgs = append(msgs, endpointTrouble(e))
				}
			}
			if len(msgs) > 0 {
				a.showBanner(strings.Join(msgs, "\n"))
			} else {
				a.banner.Hide()
			}
			if first && a.opts.Scenario == nil && !a.hasSavedPanes() && len(ollama) > 0 {
				for i, p := range a.panes {
					if i < len(ollama) {
						p.model.SetSelected(ollama[i])
					}
				}
			}
			for _, p := range a.panes {
				p.refreshModels(a.modelNames())
			}
			a.views.sweep.setModels(a.modelNames())
			if first {
				if a.opts.Probe != nil {
					a.opts.Probe.Loaded()
				}
				if a.opts.AutoRun {
					a.run()
				}
			}
		}
	})
}

// modelOption is how a pane's picker names a model of an endpoint:
// "llama3.1:8b@gpu", as tokenloom run -m does; a model of the local Ollama
// or a demo source by its name alone.
func modelOption(name, endpoint string) string {
	if endpoint == "" {
		return name
	}
	return name + "@" + endpoint
}

// modelRef is the model and endpoint a picker's option names: those the
// server listed under it, else the option cut at its last "@" (a saved
// model whose endpoint does not answer now, or is no longer configured:
// the server then says which endpoints there are). Ollama's model names
// have no "@".
func (a *App) modelRef(option string) (model, endpoint string) {
	if m, ok := a.modelInfo[option]; ok {
		return m.Name, m.Endpoint
	}
	if i := strings.LastIndex(option, "@"); i > 0 && i < len(option)-1 {
		return option[:i], option[i+1:]
	}
	return option, ""
}

// endpointTrouble says that an endpoint does not answer, and what to do.
func endpointTrouble(e wire.EndpointStatus) string {
	msg := fmt.Sprintf("Endpoint %s (%s, %s) does not answer: %s.", e.Name, e.Kind, e.URL, e.Error)
	if e.Hint != "" {
		msg += " " + strings.ToUpper(e.Hint[:1]) + e.Hint[1:] + "."
	}
	return msg
}

// modelNames are the models the server offers, for a pane's picker.
func (a *App) modelNames() []string { return slices.Clone(a.models) }

// defaultModel is the model of a new pane: the first one offered.
func (a *App) defaultModel() string {
	if len(a.models) > 0 {
		return a.models[0]
	}
	return wire.DemoEcho
}

// withModel adds model to names if it is missing: a saved model stays
// selectable while its source is away, and running it says why it fails.
func withModel(names []string, model string) []string {
	if model == "" || slices.Contains(names, model) {
		return names
	}
	return append(names, model)
}
