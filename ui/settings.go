package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Where the Ollama URL in use comes from, most binding first: the command
// line (--ollama), the URL saved in Settings, OLLAMA_HOST, or the default.
const (
	URLFromFlag     = "flag"
	URLFromSettings = "settings"
)

// urlOrigin says where the Ollama URL in use comes from, for the banner
// and Settings: what the user has to change to point Tokenloom elsewhere.
func (a *App) urlOrigin() string {
	switch {
	case a.opts.OllamaURLFrom == URLFromFlag:
		return "--ollama"
	case a.fyneApp.Preferences().String(PrefOllamaURL) != "":
		return "Settings"
	case os.Getenv("OLLAMA_HOST") != "":
		return "OLLAMA_HOST"
	}
	return ""
}

// ollamaHint is what to do when Ollama does not answer, for where its URL
// comes from: the server's hint names OLLAMA_HOST, which a URL from
// Settings or --ollama overrides.
func (a *App) ollamaHint(serverHint string) string {
	switch a.urlOrigin() {
	case "Settings":
		return "start it with `ollama serve`, or change the Ollama URL in Settings (it is used instead of OLLAMA_HOST)"
	case "--ollama":
		return "start it with `ollama serve`, or start Tokenloom with another --ollama URL"
	}
	return serverHint
}

// settingsNote explains which URL wins.
func (a *App) settingsNote() string {
	env := os.Getenv("OLLAMA_HOST")
	if env == "" {
		env = "not set"
	}
	note := "Leave empty to use OLLAMA_HOST (" + env + "), or else http://127.0.0.1:11434. A URL here is used instead of OLLAMA_HOST."
	if a.opts.OllamaURLFrom == URLFromFlag {
		note += " This window was started with --ollama, which comes first: the setting applies when Tokenloom starts without it."
	}
	return note
}

// showSettings edits the Ollama URL. With Options.Reconnect the embedded
// server moves to the new URL at once (unless a run is going on, or
// --ollama set the URL); otherwise it applies from the next start.
func (a *App) showSettings() {
	url := widget.NewEntry()
	url.SetText(a.fyneApp.Preferences().String(PrefOllamaURL))
	url.SetPlaceHolder("http://127.0.0.1:11434")
	note := widget.NewLabel(a.settingsNote())
	note.Wrapping = fyne.TextWrapWord
	note.SizeName = theme.SizeNameCaptionText
	form := widget.NewForm(
		widget.NewFormItem("Ollama URL", url),
		widget.NewFormItem("", note),
	)
	eps := a.newEndpointEditor()
	hist, saveHistory := a.historyEditor()
	d := dialog.NewCustomConfirm("Settings", "Save", "Cancel", container.NewVBox(form, eps.root, widget.NewSeparator(), hist), func(ok bool) {
		if !ok {
			return
		}
		if err := saveHistory(); err != nil {
			a.sayProblem("Settings not saved", err)
			return
		}
		if err := eps.save(); err != nil {
			a.sayProblem("Settings not saved", err)
			return
		}
		a.saveOllamaURL(strings.TrimSpace(url.Text))
	}, a.win)
	d.Resize(fyne.NewSize(min(720, a.win.Canvas().Size().Width-40), min(d.MinSize().Height+note.MinSize().Height+eps.root.MinSize().Height/2, a.win.Canvas().Size().Height-40)))
	d.Show()
	a.win.Canvas().Focus(url)
}

// saveOllamaURL saves target and moves the embedded server to it (and to
// the endpoints file's endpoints) when it can, then says whether Ollama
// and the endpoints answer.
func (a *App) saveOllamaURL(target string) {
	a.fyneApp.Preferences().SetString(PrefOllamaURL, target)
	switch {
	case a.opts.OllamaURLFrom == URLFromFlag:
		a.say("Saved. This window keeps the --ollama URL; the saved URL and endpoints apply when Tokenloom starts without it.")
		return
	case a.opts.Reconnect == nil || a.running:
		a.say("Saved. The Ollama URL and endpoints apply from the next start.")
		return
	}
	a.background(func(ctx context.Context, _ *client.Client) func() {
		cl, err := a.opts.Reconnect(ctx, target)
		if err != nil {
			return func() { a.sayProblem("Could not use that Ollama URL", err) }
		}
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		h, herr := cl.Health(hctx)
		return func() {
			a.setClient(cl)
			a.refresh(false)
			a.say(connectedWords(h, herr))
		}
	})
}

// connectedWords says where Tokenloom looks for Ollama and whether it
// answers there.
func connectedWords(h *wire.Health, err error) string {
	switch {
	case err != nil:
		return problem("The Tokenloom server does not answer", err)
	case h.Ollama.Reachable && h.Ollama.Version != "":
		return fmt.Sprintf("Connected to Ollama %s at %s.", h.Ollama.Version, h.Ollama.URL) + endpointsWords(h)
	case h.Ollama.Reachable:
		return "Connected to Ollama at " + h.Ollama.URL + "." + endpointsWords(h)
	}
	return "Ollama does not answer at " + h.Ollama.URL + "; the demo sources work without it." + endpointsWords(h)
}
