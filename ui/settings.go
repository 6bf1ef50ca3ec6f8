package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
)

// showSettings edits the Ollama URL. With Options.Reconnect the embedded
// server moves to the new URL at once (unless a run is going on);
// otherwise it applies from the next start.
func (a *App) showSettings() {
	url := widget.NewEntry()
	url.SetText(a.fyneApp.Preferences().String(PrefOllamaURL))
	url.SetPlaceHolder("http://127.0.0.1:11434 (default: OLLAMA_HOST)")
	items := []*widget.FormItem{widget.NewFormItem("Ollama URL", url)}
	dialog.ShowForm("Settings", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		a.fyneApp.Preferences().SetString(PrefOllamaURL, strings.TrimSpace(url.Text))
		if a.opts.Reconnect == nil || a.running {
			a.runStatus.SetText("The Ollama URL applies from the next start.")
			return
		}
		target := strings.TrimSpace(url.Text)
		a.background(func(ctx context.Context, _ *client.Client) func() {
			cl, err := a.opts.Reconnect(ctx, target)
			return func() {
				if err != nil {
					a.runStatus.SetText("Could not use that Ollama URL: " + err.Error())
					return
				}
				a.setClient(cl)
				a.refresh(false)
			}
		})
	}, a.win)
}
