package ui

import (
	"context"
	"slices"
	"time"

	"github.com/tokenloom/tokenloom/client"
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
			a.modelInfo = make(map[string]client.Model, len(models.Models))
			var ollama []string
			for _, m := range models.Models {
				a.models = append(a.models, m.Name)
				a.modelInfo[m.Name] = m
				if m.Source == client.SourceOllama {
					ollama = append(ollama, m.Name)
				}
			}
			if models.OllamaError != "" {
				msg := models.OllamaError + "."
				if hint := a.ollamaHint(models.OllamaHint); hint != "" {
					msg += " To use Ollama models, " + hint + "."
				}
				a.showBanner(msg + " The demo sources work without it.")
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
			if first {
				if a.opts.Probe != nil {
					a.opts.Probe.loaded()
				}
				if a.opts.AutoRun {
					a.run()
				}
			}
		}
	})
}

// modelNames are the models the server offers, for a pane's picker.
func (a *App) modelNames() []string { return slices.Clone(a.models) }

// defaultModel is the model of a new pane: the first one offered.
func (a *App) defaultModel() string {
	if len(a.models) > 0 {
		return a.models[0]
	}
	return client.DemoEcho
}

// withModel adds model to names if it is missing: a saved model stays
// selectable while its source is away, and running it says why it fails.
func withModel(names []string, model string) []string {
	if model == "" || slices.Contains(names, model) {
		return names
	}
	return append(names, model)
}
