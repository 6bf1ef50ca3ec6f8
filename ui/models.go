package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
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
				a.showBanner(problem("The Tokenloom server does not answer", err))
				return
			}
			a.models = a.models[:0]
			a.modelInfo = make(map[string]wire.Model, len(models.Models))
			a.endpoints = models.Endpoints
			var ollama []string
			for _, m := range models.Models {
				name := endpoints.ModelRef{Model: m.Name, Endpoint: m.Endpoint}.String()
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

// endpointTrouble says that an endpoint does not answer, and what to do.
func endpointTrouble(e wire.EndpointStatus) string {
	return withHint(fmt.Sprintf("Endpoint %s (%s, %s) does not answer: %s.", e.Name, e.Kind, e.URL, e.Error), e.Hint)
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
