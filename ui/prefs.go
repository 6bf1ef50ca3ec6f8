package ui

import (
	"encoding/json"
	"slices"

	"fyne.io/fyne/v2"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Preference keys.
const (
	PrefOllamaURL    = "ollama_url"
	prefPanes        = "panes"
	prefMode         = "mode"
	prefPrompt       = "prompt"
	prefSystem       = "system"
	prefWindowWidth  = "window_width"
	prefWindowHeight = "window_height"
	// prefHistoryMiB is the history's size cap in MiB; 0: its default.
	prefHistoryMiB = "history_max_mib"
)

// DefaultPanes are the panes of a first start without Ollama models.
var DefaultPanes = []PaneConfig{{Model: wire.DemoHello}, {Model: wire.DemoHamlet}}

// DefaultPrompt fills the prompt on a first start.
const DefaultPrompt = "Say hello, then recite Hamlet's question."

// Window size of a first start.
const (
	defaultWindowWidth  = 1100
	defaultWindowHeight = 720
)

// savedPrompt is the prompt of the last session (or of the scenario), or
// the default.
func (a *App) savedPrompt() string {
	if sc := a.opts.Scenario; sc != nil {
		return sc.Prompt
	}
	return a.fyneApp.Preferences().StringWithFallback(prefPrompt, DefaultPrompt)
}

// savedSystem is the system prompt of the last session; a scenario has
// none.
func (a *App) savedSystem() string {
	if a.opts.Scenario != nil {
		return ""
	}
	return a.fyneApp.Preferences().String(prefSystem)
}

// savedMode is the mode of the last session; a scenario runs async.
func (a *App) savedMode() string {
	if a.opts.Scenario == nil && a.fyneApp.Preferences().String(prefMode) == wire.ModeSync {
		return wire.ModeSync
	}
	return wire.ModeAsync
}

// savedPanes are the panes of the last session (or of the scenario), or
// the defaults.
func (a *App) savedPanes() []PaneConfig {
	if sc := a.opts.Scenario; sc != nil && len(sc.Panes) > 0 {
		return slices.Clone(sc.Panes[:min(len(sc.Panes), MaxPanes)])
	}
	var cfgs []PaneConfig
	if s := a.fyneApp.Preferences().String(prefPanes); s != "" {
		if err := json.Unmarshal([]byte(s), &cfgs); err != nil {
			fyne.LogError("read saved panes", err)
			cfgs = nil
		}
	}
	if len(cfgs) == 0 || len(cfgs) > MaxPanes {
		return slices.Clone(DefaultPanes)
	}
	return cfgs
}

// hasSavedPanes reports whether an earlier session saved its panes.
func (a *App) hasSavedPanes() bool {
	return a.fyneApp.Preferences().String(prefPanes) != ""
}

// windowSize is the window size of the last session (or of the scenario).
func (a *App) windowSize() fyne.Size {
	if sc := a.opts.Scenario; sc != nil && !sc.Size.IsZero() {
		return sc.Size
	}
	prefs := a.fyneApp.Preferences()
	return fyne.NewSize(
		float32(prefs.FloatWithFallback(prefWindowWidth, defaultWindowWidth)),
		float32(prefs.FloatWithFallback(prefWindowHeight, defaultWindowHeight)))
}

// save writes the settings to the preferences.
func (a *App) save() {
	if a.panesBox == nil || a.opts.Scenario != nil {
		return // still building, or a scenario that saves nothing
	}
	prefs := a.fyneApp.Preferences()
	cfgs := make([]PaneConfig, 0, len(a.panes))
	for _, p := range a.panes {
		cfg, _ := p.config()
		cfgs = append(cfgs, cfg)
	}
	b, _ := json.Marshal(cfgs)
	prefs.SetString(prefPanes, string(b))
	prefs.SetString(prefMode, a.selectedMode())
	prefs.SetString(prefPrompt, a.prompt.Text)
	prefs.SetString(prefSystem, a.system.Text)
	if s := a.win.Canvas().Size(); s.Width > 0 && s.Height > 0 {
		prefs.SetFloat(prefWindowWidth, float64(s.Width))
		prefs.SetFloat(prefWindowHeight, float64(s.Height))
	}
}
