package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
)

// Labels of the mode choice.
const (
	asyncLabel = "Async"
	syncLabel  = "Sync"
)

// build puts the window together: the controls on top, then the panes and
// the run's views in tabs, and the timeline at the bottom.
func (a *App) build() {
	top := a.buildControls()
	panes := a.buildPanes()
	a.views = newRunViews(a)
	a.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Side by side", theme.ViewRestoreIcon(), panes),
		container.NewTabItemWithIcon("Interleaved", theme.MenuIcon(), a.views.interleaved),
		container.NewTabItemWithIcon("Stats", theme.GridIcon(), a.views.stats.root),
		container.NewTabItemWithIcon("Wire", theme.ComputerIcon(), a.views.wire.root),
	)
	split := container.NewVSplit(withMinCache(&a.frameGen, a.tabs), withMinCache(&a.frameGen, a.views.timelineBox()))
	split.Offset = 0.68
	content := fyne.CanvasObject(container.NewBorder(top, nil, nil, nil, split))
	if a.opts.Probe != nil {
		content = container.NewStack(content, container.NewWithoutLayout(a.opts.Probe.object()))
	}
	a.win.SetContent(content)

	a.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { a.run() })
	a.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			a.stop()
		}
	})
}

// buildControls makes what sits above the panes: the banner, the prompt,
// the system prompt, the buttons and the run's status line.
func (a *App) buildControls() fyne.CanvasObject {
	a.prompt = newPromptEntry(a.run, a.stop)
	a.prompt.SetPlaceHolder("Prompt: what should every model answer? (Ctrl+Enter runs, Esc stops)")
	a.prompt.SetText(a.savedPrompt())
	a.prompt.SetMinRowsVisible(3)
	a.system = widget.NewMultiLineEntry()
	a.system.SetPlaceHolder("System prompt for every stream (optional)")
	if s := a.savedSystem(); s != "" {
		a.system.SetText(s)
	}
	a.system.SetMinRowsVisible(2)
	systemItem := widget.NewAccordionItem("System prompt", a.system)
	systemBox := widget.NewAccordion(systemItem)
	if a.system.Text != "" {
		systemItem.Open = true
	}

	a.mode = widget.NewRadioGroup([]string{asyncLabel, syncLabel}, func(string) { a.save() })
	a.mode.Horizontal = true
	a.mode.Required = true
	a.selectMode(a.savedMode())
	a.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), a.run)
	a.runBtn.Importance = widget.HighImportance
	a.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), a.stop)
	a.stopBtn.Disable()
	a.addBtn = widget.NewButtonWithIcon("Stream", theme.ContentAddIcon(), func() { a.addPane(PaneConfig{Model: a.defaultModel()}) })
	refreshBtn := widget.NewButtonWithIcon("Models", theme.ViewRefreshIcon(), func() { a.refresh(false) })
	settingsBtn := widget.NewButtonWithIcon("", theme.SettingsIcon(), a.showSettings)
	a.runStatus = widget.NewLabel("")
	a.runStatus.Wrapping = fyne.TextWrapWord
	a.runStatus.TextStyle = fyne.TextStyle{Bold: true}

	a.bannerMsg = widget.NewLabel("")
	a.bannerMsg.Wrapping = fyne.TextWrapWord
	a.bannerMsg.Importance = widget.WarningImportance
	retry := widget.NewButton("Retry", func() { a.refresh(false) })
	a.banner = container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), container.NewHBox(retry, widget.NewButton("Settings", a.showSettings)), a.bannerMsg)
	a.banner.Hide()

	a.exportBtn = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), a.showExport)
	a.exportBtn.Disable()
	openBtn := widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), a.showOpen)
	controls := container.NewHBox(a.mode, a.runBtn, a.stopBtn, a.addBtn, refreshBtn, openBtn, a.exportBtn, settingsBtn)
	return withMinCache(&a.frameGen, container.NewVBox(a.banner, a.prompt, systemBox, controls, a.runStatus))
}

// selectedMode is client.ModeAsync or client.ModeSync as selected.
func (a *App) selectedMode() string {
	if a.mode.Selected == syncLabel {
		return client.ModeSync
	}
	return client.ModeAsync
}

// selectMode selects mode: client.ModeSync, else async.
func (a *App) selectMode(mode string) {
	if mode == client.ModeSync {
		a.mode.SetSelected(syncLabel)
	} else {
		a.mode.SetSelected(asyncLabel)
	}
}

// showBanner says above the prompt what keeps the app from working fully.
func (a *App) showBanner(msg string) {
	a.bannerMsg.SetText(msg)
	a.banner.Show()
}
