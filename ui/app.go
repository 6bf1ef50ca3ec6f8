package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
)

// MaxPanes is the most streams side by side.
const MaxPanes = 8

// Preference keys.
const (
	PrefOllamaURL    = "ollama_url"
	prefPanes        = "panes"
	prefMode         = "mode"
	prefPrompt       = "prompt"
	prefSystem       = "system"
	prefWindowWidth  = "window_width"
	prefWindowHeight = "window_height"
)

// DefaultPanes are the panes of a first start without Ollama models.
var DefaultPanes = []PaneConfig{{Model: "demo/hello"}, {Model: "demo/hamlet"}}

// DefaultPrompt fills the prompt on a first start.
const DefaultPrompt = "Say hello, then recite Hamlet's question."

// Options wire the app to the embedded server.
type Options struct {
	// Client talks to the embedded server.
	Client *client.Client
	// Reconnect, if set, restarts the embedded server on another Ollama URL
	// and returns a client of it (Settings uses it). It is called on a
	// background goroutine.
	Reconnect func(ctx context.Context, ollamaURL string) (*client.Client, error)
	// Do runs f on the Fyne thread. Default fyne.Do; tests run the queue
	// on their own goroutine.
	Do func(f func())
	// AutoRun starts a run with the saved panes once the models are known.
	AutoRun bool
	// Scenario, if set, replaces the saved settings: the window opens with
	// its panes, prompt and size, and saves nothing.
	Scenario *Scenario
	// Probe, if set, measures when tokens reach the screen.
	Probe *Probe
}

// Scenario is a fixed set-up of the window that leaves the saved settings
// alone; `tokenloom bench` uses one.
type Scenario struct {
	Panes  []PaneConfig
	Prompt string
	Size   fyne.Size
}

// App is Tokenloom's main window: the prompt and run controls on top, one
// pane per stream below.
type App struct {
	fyneApp fyne.App
	win     fyne.Window
	theme   fyne.Theme
	opts    Options
	do      func(func())
	frames  frames
	// frameGen counts the frames painted (while the window is up, with a
	// paint loop); minCacheLayout keeps MinSizes for one frame by it.
	frameGen atomic.Uint64
	// pace spaces the frames that take tokens when the CPU is short
	// (nil in tests: every frame).
	pace *pacer

	mu sync.Mutex // guards cl, swapped by Settings
	cl *client.Client

	prompt    *promptEntry
	system    *widget.Entry
	mode      *widget.RadioGroup
	runBtn    *widget.Button
	stopBtn   *widget.Button
	addBtn    *widget.Button
	exportBtn *widget.Button
	runStatus *widget.Label
	banner    *fyne.Container
	bannerMsg *widget.Label
	panesBox  *fyne.Container
	panes     []*Pane
	models    []string
	views     *runViews
	tabs      *container.AppTabs

	runID   string
	runMode string
	running int // panes whose stream has not ended

	ctx    context.Context // ends with the window
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
	loaded bool
}

// New builds the window of app a. Show it with Window().ShowAndRun().
func New(a fyne.App, o Options) *App {
	app := &App{fyneApp: a, opts: o, cl: o.Client, do: o.Do, theme: newAppTheme()}
	app.ctx, app.cancel = context.WithCancel(context.Background())
	app.frames = animationFrames
	if app.do == nil {
		app.do = fyne.Do
		app.wg.Go(func() { animationFrames(app.ctx, func() { app.frameGen.Add(1) }) })
		app.pace = &pacer{}
		app.wg.Go(func() { app.pace.run(app.ctx, ProcessCPU) })
	} else {
		app.frames = tickerFrames(app.do)
	}
	a.Settings().SetTheme(app.theme)
	app.win = a.NewWindow("Tokenloom")
	app.build()
	app.win.SetCloseIntercept(func() {
		app.save()
		app.Close()
		app.win.Close()
	})
	size := fyne.NewSize(
		float32(a.Preferences().FloatWithFallback(prefWindowWidth, 1100)),
		float32(a.Preferences().FloatWithFallback(prefWindowHeight, 720)))
	if sc := o.Scenario; sc != nil && !sc.Size.IsZero() {
		size = sc.Size
	}
	app.win.Resize(size)
	app.refresh(true)
	return app
}

// Window is the main window.
func (a *App) Window() fyne.Window { return a.win }

// Save writes the settings (panes, mode, prompt, window size) to the
// preferences; closing the window does it too.
func (a *App) Save() { a.save() }

// Close cancels the running streams and background work and waits for it.
func (a *App) Close() {
	a.cancel()
	a.wg.Wait()
}

func (a *App) client() *client.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cl
}

func (a *App) variant() fyne.ThemeVariant { return a.fyneApp.Settings().ThemeVariant() }

// background runs work off the Fyne thread and its returned func on it.
func (a *App) background(work func(ctx context.Context, cl *client.Client) func()) {
	cl := a.client()
	a.wg.Go(func() {
		done := work(a.ctx, cl)
		if done != nil && a.ctx.Err() == nil {
			a.do(done)
		}
	})
}

func (a *App) build() {
	prefs := a.fyneApp.Preferences()
	a.prompt = newPromptEntry(a.run, a.stop)
	a.prompt.SetPlaceHolder("Prompt: what should every model answer? (Ctrl+Enter runs, Esc stops)")
	if sc := a.opts.Scenario; sc != nil {
		a.prompt.SetText(sc.Prompt)
	} else {
		a.prompt.SetText(prefs.StringWithFallback(prefPrompt, DefaultPrompt))
	}
	a.prompt.SetMinRowsVisible(3)
	a.system = widget.NewMultiLineEntry()
	a.system.SetPlaceHolder("System prompt for every stream (optional)")
	if a.opts.Scenario == nil {
		a.system.SetText(prefs.String(prefSystem))
	}
	a.system.SetMinRowsVisible(2)
	systemItem := widget.NewAccordionItem("System prompt", a.system)
	systemBox := widget.NewAccordion(systemItem)
	if a.system.Text != "" {
		systemItem.Open = true
	}

	a.mode = widget.NewRadioGroup([]string{"Async", "Sync"}, func(string) { a.save() })
	a.mode.Horizontal = true
	a.mode.Required = true
	if a.opts.Scenario == nil && prefs.String(prefMode) == "sync" {
		a.mode.SetSelected("Sync")
	} else {
		a.mode.SetSelected("Async")
	}
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
	top := withMinCache(&a.frameGen, container.NewVBox(a.banner, a.prompt, systemBox, controls, a.runStatus))

	panes := &panesLayout{}
	a.panesBox = container.New(panes)
	panes.scroll = container.NewHScroll(a.panesBox)
	panes.scroll.OnScrolled = func(fyne.Position) { panes.cull(a.panesBox.Objects) }
	for i, cfg := range a.savedPanes() {
		a.panes = append(a.panes, newPane(a, i, cfg))
	}
	a.layoutPanes()
	a.views = newRunViews(a)
	a.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Side by side", theme.ViewRestoreIcon(), panes.scroll),
		container.NewTabItemWithIcon("Interleaved", theme.MenuIcon(), a.views.interleaved),
		container.NewTabItemWithIcon("Stats", theme.GridIcon(), a.views.stats.table),
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
	prefs.SetString(prefMode, strings.ToLower(a.mode.Selected))
	prefs.SetString(prefPrompt, a.prompt.Text)
	prefs.SetString(prefSystem, a.system.Text)
	if s := a.win.Canvas().Size(); s.Width > 0 && s.Height > 0 {
		prefs.SetFloat(prefWindowWidth, float64(s.Width))
		prefs.SetFloat(prefWindowHeight, float64(s.Height))
	}
}

// layoutPanes shows the panes and enables what fits.
func (a *App) layoutPanes() {
	objs := make([]fyne.CanvasObject, len(a.panes))
	for i, p := range a.panes {
		objs[i] = p.root
	}
	a.panesBox.Objects = objs
	a.panesBox.Refresh()
	if len(a.panes) >= MaxPanes || a.running > 0 {
		a.addBtn.Disable()
	} else {
		a.addBtn.Enable()
	}
}

// addPane adds a pane in the lowest free colour slot.
func (a *App) addPane(cfg PaneConfig) {
	if len(a.panes) >= MaxPanes {
		return
	}
	slot := 0
	for slices.ContainsFunc(a.panes, func(p *Pane) bool { return p.slot == slot }) {
		slot++
	}
	a.panes = append(a.panes, newPane(a, slot, cfg))
	a.layoutPanes()
	a.save()
}

// removePane closes a pane, stopping its stream.
func (a *App) removePane(p *Pane) {
	if len(a.panes) == 1 {
		return // keep one pane to run
	}
	p.stop()
	a.panes = slices.DeleteFunc(a.panes, func(q *Pane) bool { return q == p })
	a.layoutPanes()
	a.save()
}

func (a *App) modelNames() []string { return slices.Clone(a.models) }

func (a *App) defaultModel() string {
	if len(a.models) > 0 {
		return a.models[0]
	}
	return "demo/echo"
}

// refresh reloads the model list and Ollama's health. On the first load,
// panes without saved settings take the first Ollama models.
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
			var ollama []string
			for _, m := range models.Models {
				a.models = append(a.models, m.Name)
				if m.Source == "ollama" {
					ollama = append(ollama, m.Name)
				}
			}
			if models.OllamaError != "" {
				msg := models.OllamaError + "."
				if models.OllamaHint != "" {
					msg += " To use Ollama models, " + models.OllamaHint + "."
				}
				a.showBanner(msg + " The demo sources work without it.")
			} else {
				a.banner.Hide()
			}
			if first && a.opts.Scenario == nil && a.fyneApp.Preferences().String(prefPanes) == "" && len(ollama) > 0 {
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
				a.loaded = true
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

func (a *App) showBanner(msg string) {
	a.bannerMsg.SetText(msg)
	a.banner.Show()
}

// Mode is "async" or "sync" as selected.
func (a *App) Mode() string {
	if a.mode.Selected == "Sync" {
		return "sync"
	}
	return "async"
}

// run starts a run of every pane's stream.
func (a *App) run() {
	if a.running > 0 {
		return
	}
	prompt := a.prompt.Text
	if strings.TrimSpace(prompt) == "" {
		a.runStatus.SetText("Write a prompt first.")
		a.win.Canvas().Focus(a.prompt)
		return
	}
	req := client.RunRequest{Prompt: prompt, System: a.system.Text, Mode: a.Mode()}
	for i, p := range a.panes {
		cfg, err := p.config()
		if err == nil && cfg.Model == "" {
			err = fmt.Errorf("choose a model")
		}
		if err != nil {
			a.runStatus.SetText(fmt.Sprintf("Stream %d: %v.", i+1, err))
			return
		}
		req.Streams = append(req.Streams, cfg.spec())
	}
	a.save()
	a.launch("starting…", "Could not start: ", func(ctx context.Context, cl *client.Client) (*client.RunCreated, error) {
		return cl.StartRun(ctx, req)
	})
}

// launch has the server start a run of the current panes through start,
// showing status until it answers and failure with the error if it refuses.
func (a *App) launch(status, failure string, start func(context.Context, *client.Client) (*client.RunCreated, error)) {
	panes := slices.Clone(a.panes)
	a.setRunning(len(panes))
	a.runStatus.SetText(status)
	a.background(func(ctx context.Context, cl *client.Client) func() {
		created, err := start(ctx, cl)
		return func() {
			if err != nil {
				a.setRunning(0)
				a.runStatus.SetText(failure + err.Error())
				return
			}
			a.startStreams(cl, created, panes)
		}
	})
}

// setRunning notes how many panes stream and sets the controls to match.
func (a *App) setRunning(n int) {
	a.running = n
	if n > 0 {
		a.runBtn.Disable()
		a.stopBtn.Enable()
	} else {
		a.runBtn.Enable()
		a.stopBtn.Disable()
	}
	a.layoutPanes()
}

// startStreams shows a run that the server has started in the panes and the
// run views.
func (a *App) startStreams(cl *client.Client, created *client.RunCreated, panes []*Pane) {
	a.runID, a.runMode = created.ID, created.Mode
	a.runStatus.SetText(created.Mode + " run…")
	a.exportBtn.Disable()
	labels := make([]string, len(created.Streams))
	slots := make([]int, len(created.Streams))
	ids := make([]string, len(created.Streams))
	for i, st := range created.Streams {
		labels[i], slots[i], ids[i] = st.Model, panes[i].slot, st.ID
		panes[i].begin(st.ID)
	}
	a.views.reset(labels, slots, ids)
	if a.opts.Probe != nil {
		a.opts.Probe.runStarted()
	}
	a.subscribeRun(a.ctx, cl, panes, ids)
}

// runEnded closes a run once all its streams have ended; the run summary
// shows the wall time against the sum of the streams' durations.
func (a *App) runEnded(panes []*Pane) {
	if a.running == 0 {
		return
	}
	a.setRunning(0)
	a.exportBtn.Enable()
	stats := make([]*client.Stats, len(panes))
	for i, p := range panes {
		stats[i] = p.stats
	}
	a.runStatus.SetText(a.views.finish(a.runMode, stats))
	if a.opts.Probe != nil {
		a.opts.Probe.runEnded()
	}
}

// stop cancels the whole run.
func (a *App) stop() {
	if a.running == 0 || a.runID == "" {
		return
	}
	id := a.runID
	a.stopBtn.Disable()
	a.background(func(ctx context.Context, cl *client.Client) func() {
		err := cl.CancelRun(ctx, id)
		return func() {
			if err != nil {
				a.runStatus.SetText("Could not stop: " + err.Error())
			}
		}
	})
}

// showSettings edits the Ollama URL.
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
		if a.opts.Reconnect == nil || a.running > 0 {
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
				a.mu.Lock()
				a.cl = cl
				a.mu.Unlock()
				a.refresh(false)
			}
		})
	}, a.win)
}

// promptEntry is the multi-line prompt: Ctrl+Enter runs, Esc stops.
type promptEntry struct {
	widget.Entry
	onRun, onStop func()
}

func newPromptEntry(onRun, onStop func()) *promptEntry {
	e := &promptEntry{onRun: onRun, onStop: onStop}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut runs on Ctrl+Enter (Cmd+Enter on macOS).
func (e *promptEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && (cs.KeyName == fyne.KeyReturn || cs.KeyName == fyne.KeyEnter) &&
		(cs.Modifier == fyne.KeyModifierControl || cs.Modifier == fyne.KeyModifierSuper) {
		e.onRun()
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey stops on Esc.
func (e *promptEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.onStop()
		return
	}
	e.Entry.TypedKey(k)
}

// panesLayout puts the panes side by side in equal widths, each at least
// paneMinWidth wide (the horizontal scroll around it takes the rest).
// Panes scrolled out of view are hidden: Fyne draws every visible object
// in every frame, clipped or not.
type panesLayout struct {
	scroll *container.Scroll
}

func (l *panesLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		if o.Visible() { // panes out of view are not measured
			h = max(h, o.MinSize().Height)
		}
	}
	n := float32(len(objs))
	return fyne.NewSize(n*paneMinWidth+(n-1)*theme.Padding(), h)
}

func (l *panesLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	pad := theme.Padding()
	n := float32(len(objs))
	w := (size.Width - (n-1)*pad) / n
	for i, o := range objs {
		o.Move(fyne.NewPos(float32(i)*(w+pad), 0))
		o.Resize(fyne.NewSize(w, size.Height))
	}
	l.cull(objs)
}

// cull shows the panes that the scroll's view overlaps and hides the rest.
func (l *panesLayout) cull(objs []fyne.CanvasObject) {
	if l.scroll == nil || l.scroll.Size().Width <= 0 {
		return
	}
	left := l.scroll.Offset.X
	right := left + l.scroll.Size().Width
	for _, o := range objs {
		in := o.Position().X < right && o.Position().X+o.Size().Width > left
		if in && !o.Visible() {
			o.Show()
		} else if !in && o.Visible() {
			o.Hide()
		}
	}
}

var _ fyne.Layout = (*panesLayout)(nil)
