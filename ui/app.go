package ui

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/ui/frame"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

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
	// EndpointFlags name the endpoints that --endpoint set: Settings
	// leaves them alone.
	EndpointFlags []string
	// OllamaURLFrom is URLFromFlag when the command line set the Ollama
	// URL (it then comes before the one saved in Settings).
	OllamaURLFrom string
	// AutoRun starts a run with the saved panes once the models are known.
	AutoRun bool
	// Scenario, if set, replaces the saved settings: the window opens with
	// its panes, prompt and size, and saves nothing.
	Scenario *Scenario
	// History, if set, keeps every run the window makes, and the History
	// tab lists them.
	History *history.Store
	// Probe, if set, measures when tokens reach the screen.
	Probe *frame.Probe
}

// Scenario is a fixed set-up of the window that leaves the saved settings
// alone; `tokenloom bench` uses one.
type Scenario struct {
	Panes  []PaneConfig
	Prompt string
	Size   fyne.Size
}

// App is Tokenloom's main window: the prompt and run controls on top, one
// pane per stream below, the run's views beside them and the timeline at
// the bottom. Its methods run on the Fyne thread unless they say otherwise.
type App struct {
	fyneApp fyne.App
	win     fyne.Window
	theme   fyne.Theme
	opts    Options
	do      func(func())
	clock   frame.Clock
	// frameGen counts the frames painted (while the window is up, with a
	// paint loop); minCacheLayout keeps MinSizes for one frame by it.
	frameGen atomic.Uint64
	// pace spaces the frames that take tokens when the CPU is short
	// (nil in tests: every frame).
	pace *frame.Pacer

	mu sync.Mutex // guards cl, swapped by Settings
	cl *client.Client

	// The controls (controls.go).
	prompt     *promptEntry
	system     *textEntry
	mode       *widget.RadioGroup
	runBtn     *widget.Button
	stopBtn    *widget.Button
	compareBtn *widget.Button
	newBtn     *widget.Button // New conversation
	// turnRun is the last run that left the panes a turn, and turnPrompt
	// its prompt: Run with it again runs that turn again.
	turnRun, turnPrompt string
	addBtn              *widget.Button
	exportBtn           *widget.Button
	runStatus           *widget.Label
	notice              *widget.Label // the app's own messages (say)
	banner              *fyne.Container
	bannerMsg           *widget.Label
	tabs                *container.AppTabs

	// The panes (panes.go) and the models they offer (models.go).
	panesBox    *fyne.Container
	panesLayout *panesLayout
	panes       []*Pane
	// runPanes are the panes of the run the views show, in its order.
	runPanes []*Pane
	// tips draws the tooltips above the content.
	tips   *widgets.TipLayer
	models []string
	// modelInfo are the models by their pickers' names (endpoints.ModelRef),
	// with what they can do; empty until the list has come.
	modelInfo map[string]wire.Model
	// endpoints are the configured endpoints and whether they answer, as
	// the model list came.
	endpoints []wire.EndpointStatus
	// views are the run's views beside the panes (views.go).
	views *runViews

	// The current run (runcontrol.go).
	runID   string
	runMode string
	running bool // a run's streams are going on
	// replaying is the saved run being played back, nil for a run;
	// replayName is the name of the file last opened.
	replaying  *replayed
	replayName string
	// comparing is the comparison going on (compare.go), nil otherwise.
	comparing *comparison
	// sweepStop stops the sweep going on (sweep.go), nil otherwise.
	sweepStop context.CancelFunc
	// lastRequest is the request of the run started last; nil for a replay.
	lastRequest *wire.RunRequest

	ctx    context.Context // ends with the window
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines (spawn)
	goMu   sync.Mutex     // guards closed against spawn
	closed bool
}

// New builds the window of app a. Show it with Window().ShowAndRun().
func New(a fyne.App, o Options) *App {
	app := &App{fyneApp: a, opts: o, cl: o.Client, do: o.Do, theme: widgets.NewTheme()}
	app.ctx, app.cancel = context.WithCancel(context.Background())
	app.clock = frame.AnimationClock
	if app.do == nil {
		app.do = fyne.Do
		app.spawn(func() { frame.AnimationClock(app.ctx, func() { app.frameGen.Add(1) }) })
		app.pace = &frame.Pacer{}
		app.spawn(func() { app.pace.Run(app.ctx, frame.ProcessCPU) })
	} else {
		app.clock = frame.TickerClock(app.do)
	}
	a.Settings().SetTheme(app.theme)
	app.win = a.NewWindow("Tokenloom")
	app.build()
	app.win.SetCloseIntercept(func() {
		app.save()
		app.Close()
		app.win.Close()
	})
	app.win.Resize(app.windowSize())
	app.refresh(true)
	if mib := app.historyCap(); mib > 0 && o.History != nil {
		app.applyHistoryCap(mib) // the cap chosen in an earlier session
	}
	return app
}

// Window is the main window.
func (a *App) Window() fyne.Window { return a.win }

// Save writes the settings (panes, mode, prompt, window size) to the
// preferences; closing the window does it too.
func (a *App) Save() { a.save() }

// Close cancels the running streams and background work and waits for it.
// It may be called from any goroutine.
func (a *App) Close() {
	a.cancel()
	a.goMu.Lock()
	a.closed = true // no goroutine starts after this
	a.goMu.Unlock()
	a.wg.Wait()
}

// spawn runs f on a goroutine of the window's, which Close waits for;
// once Close has begun, f does not run (a WaitGroup takes no Add while it
// is waited for with nothing left).
func (a *App) spawn(f func()) {
	a.goMu.Lock()
	defer a.goMu.Unlock()
	if a.closed {
		return
	}
	a.wg.Go(f)
}

// client is the client of the embedded server in use; any goroutine.
func (a *App) client() *client.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cl
}

// setClient makes cl the client in use.
func (a *App) setClient(cl *client.Client) {
	a.mu.Lock()
	a.cl = cl
	a.mu.Unlock()
}

func (a *App) variant() fyne.ThemeVariant { return a.fyneApp.Settings().ThemeVariant() }

// background runs work off the Fyne thread and its returned func on it.
func (a *App) background(work func(ctx context.Context, cl *client.Client) func()) {
	cl := a.client()
	a.spawn(func() {
		done := work(a.ctx, cl)
		if done != nil && a.ctx.Err() == nil {
			a.do(done)
		}
	})
}

// after runs f on the Fyne thread once d has passed, unless the window
// closes first.
func (a *App) after(d time.Duration, f func()) {
	a.spawn(func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			a.do(f)
		case <-a.ctx.Done():
		}
	})
}
