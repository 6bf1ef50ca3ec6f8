package ui

import (
	"context"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/frame"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// Labels of the mode choice.
const (
	asyncLabel = "Async"
	syncLabel  = "Sync"
)

// build puts the window together: the controls on top, then the panes and
// the run's views in tabs, and the timeline at the bottom.
func (a *App) build() {
	a.tips = widgets.NewTipLayer(a.after, func(o fyne.CanvasObject) { a.win.Canvas().Refresh(o) }, // before the buttons that show tips
		func() fyne.Size { return a.win.Canvas().Size() })
	top := a.buildControls()
	panes := a.buildPanes()
	a.views = newRunViews(a)
	a.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Side by side", theme.ViewRestoreIcon(), panes),
		container.NewTabItemWithIcon("Interleaved", theme.MenuIcon(), a.views.interleaved),
		container.NewTabItemWithIcon("Stats", theme.GridIcon(), a.views.stats.root),
		container.NewTabItemWithIcon("Wire", theme.ComputerIcon(), a.views.wire.root),
	)
	a.views.compareTab = container.NewTabItemWithIcon("Compare", theme.MediaFastForwardIcon(), a.views.compare.root)
	a.tabs.Append(a.views.compareTab)
	a.tabs.Append(container.NewTabItemWithIcon("History", theme.HistoryIcon(), a.views.history.root))
	a.tabs.Append(container.NewTabItemWithIcon("Diff", theme.ContentCopyIcon(), a.views.diff.root))
	a.tabs.Append(container.NewTabItemWithIcon("Sweep", theme.MediaFastForwardIcon(), a.views.sweep.root))
	a.tabs.OnSelected = func(t *container.TabItem) {
		switch t.Text {
		case "History":
			a.views.history.refresh()
		case "Diff":
			a.views.diff.refresh()
		case "Sweep":
			a.views.sweep.listEarlier()
		}
	}
	split := container.NewVSplit(frame.WithMinCache(&a.frameGen, a.tabs), frame.WithMinCache(&a.frameGen, a.views.timelineBox()))
	split.Offset = 0.68
	// The window's floor: below it the panes and the timeline have no
	// room, and the toolbar already takes several rows.
	floor := canvas.NewRectangle(color.Transparent)
	floor.SetMinSize(minWindow)
	layers := []fyne.CanvasObject{floor, container.NewBorder(top, nil, nil, nil, split), a.tips.Object()}
	if a.opts.Probe != nil {
		layers = append(layers, container.NewWithoutLayout(a.opts.Probe.Object()))
	}
	a.win.SetContent(container.NewStack(layers...))

	a.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { a.run() })
	for _, s := range windowShortcuts {
		a.win.Canvas().AddShortcut(s, func(s fyne.Shortcut) { a.windowShortcut(s) })
	}
	a.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			a.stop()
		}
	})
}

// windowShortcuts are the window's own: Ctrl+N starts a new
// conversation, Alt+1 … Alt+8 show the tabs (the tab bar takes no keyboard
// focus). Ctrl+Enter runs; the prompt and the canvas each take it.
var windowShortcuts = []*desktop.CustomShortcut{
	{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.Key1, Modifier: fyne.KeyModifierAlt}, {KeyName: fyne.Key2, Modifier: fyne.KeyModifierAlt},
	{KeyName: fyne.Key3, Modifier: fyne.KeyModifierAlt}, {KeyName: fyne.Key4, Modifier: fyne.KeyModifierAlt},
	{KeyName: fyne.Key5, Modifier: fyne.KeyModifierAlt}, {KeyName: fyne.Key6, Modifier: fyne.KeyModifierAlt},
	{KeyName: fyne.Key7, Modifier: fyne.KeyModifierAlt}, {KeyName: fyne.Key8, Modifier: fyne.KeyModifierAlt},
}

// windowShortcut runs s if it is one of windowShortcuts, wherever the
// focus is, and reports whether it was: a focused entry hands the window
// its shortcuts, which Fyne would give the entry alone.
func (a *App) windowShortcut(s fyne.Shortcut) bool {
	cs, ok := s.(*desktop.CustomShortcut)
	if !ok {
		return false
	}
	for _, w := range windowShortcuts {
		if cs.KeyName != w.KeyName || cs.Modifier != w.Modifier {
			continue
		}
		if cs.KeyName == fyne.KeyN {
			a.newConversation()
		} else {
			a.tabs.SelectIndex(int(cs.KeyName[0] - '1'))
		}
		return true
	}
	return false
}

// buildControls makes what sits above the panes: the banner, the prompt,
// the system prompt, the buttons and the run's status line.
func (a *App) buildControls() fyne.CanvasObject {
	a.prompt = newPromptEntry(a.run, a.stop)
	a.prompt.window = a.windowShortcut
	a.prompt.SetPlaceHolder(promptHint)
	a.prompt.SetText(a.savedPrompt())
	a.prompt.OnChanged = func(string) {
		if a.runBtn != nil {
			a.conversationControls() // Follow up, or Run again
		}
	}
	a.prompt.SetMinRowsVisible(3)
	a.system = newTextEntry()
	a.system.window = a.windowShortcut
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
	a.compareBtn = widget.NewButtonWithIcon("Compare", theme.MediaFastForwardIcon(), a.compare)
	a.newBtn = widget.NewButtonWithIcon("New conversation", theme.ContentClearIcon(), a.newConversation)
	a.newBtn.Disable()
	a.addBtn = widget.NewButtonWithIcon("Stream", theme.ContentAddIcon(), func() { a.addPane(PaneConfig{Model: a.defaultModel()}) })
	refreshBtn := widget.NewButtonWithIcon("Models", theme.ViewRefreshIcon(), func() { a.refresh(false) })
	settingsBtn := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), a.showSettings)
	a.runStatus = widget.NewLabel("")
	a.runStatus.Wrapping = fyne.TextWrapWord
	a.runStatus.TextStyle = fyne.TextStyle{Bold: true}

	a.bannerMsg = widget.NewLabel("")
	a.bannerMsg.Wrapping = fyne.TextWrapWord
	a.bannerMsg.Importance = widget.WarningImportance
	retry := widget.NewButton("Retry", a.retry)
	a.banner = container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), container.NewHBox(retry, widget.NewButton("Settings", a.showSettings)), a.bannerMsg)
	a.banner.Hide()

	a.exportBtn = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), a.showExport)
	a.exportBtn.Disable()
	openBtn := widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), a.showOpen)
	controls := widgets.NewFlow(a.mode, a.runBtn, a.stopBtn, a.newBtn, a.compareBtn, a.addBtn, refreshBtn, openBtn, a.exportBtn, settingsBtn)
	a.notice = widget.NewLabel("")
	a.notice.SizeName = theme.SizeNameCaptionText
	a.notice.Wrapping = fyne.TextWrapWord
	a.notice.Hide()
	return frame.WithMinCache(&a.frameGen, container.NewVBox(a.banner, a.prompt, systemBox, controls, a.runStatus, a.notice))
}

// retry asks the server for the models and Ollama again, and says what
// it found.
func (a *App) retry() {
	a.refresh(false)
	a.background(func(ctx context.Context, cl *client.Client) func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		h, err := cl.Health(ctx)
		return func() { a.say(connectedWords(h, err)) }
	})
}

// minWindow is the smallest the window gets.
var minWindow = fyne.NewSize(560, 440)

// say shows a message of the app's own (saved, copied, connected) under
// the run's status, which it leaves alone; the next run clears it.
func (a *App) say(msg string) {
	a.notice.Importance = widget.MediumImportance
	a.notice.SetText(msg)
	a.notice.Show()
}

// sayProblem shows, where say does and in the colour of danger, that what
// failed ("Could not delete the run") and why (problem).
func (a *App) sayProblem(what string, err error) {
	a.notice.Importance = widget.DangerImportance
	a.notice.SetText(problem(what, err))
	a.notice.Show()
}

// problem is how the app says that what failed and why: err as
// client.Explain reads it, after what, and its hint on a line of its own
// (withHint); never an HTTP status. The app says every failure this way,
// wherever it shows it.
func problem(what string, err error) string {
	message, hint := client.Explain(err)
	if what != "" {
		message = what + ": " + message
	}
	return withHint(message, hint)
}

// withHint is message, what went wrong, with hint, what to do about it, on
// a line of its own, as a sentence.
func withHint(message, hint string) string {
	if hint == "" {
		return message
	}
	r := []rune(hint)
	return message + "\n" + strings.ToUpper(string(r[0])) + string(r[1:])
}

// selectedMode is wire.ModeAsync or wire.ModeSync as selected.
func (a *App) selectedMode() string {
	if a.mode.Selected == syncLabel {
		return wire.ModeSync
	}
	return wire.ModeAsync
}

// selectMode selects mode: wire.ModeSync, else async.
func (a *App) selectMode(mode string) {
	if mode == wire.ModeSync {
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
