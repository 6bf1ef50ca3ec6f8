// Package desktop wires the desktop app: the Fyne app with its metadata, the
// embedded server on a random loopback port, and the window of package ui.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tokenloom/tokenloom/assets"
	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/commands/cli"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/server"
	"github.com/tokenloom/tokenloom/ui"
	"github.com/tokenloom/tokenloom/ui/frame"
)

// AppID is the app's unique ID; preferences are stored under it.
const AppID = "com.github.tokenloom.tokenloom"

// Metadata is the app's metadata. FyneApp.toml says the same, but Fyne
// reads that file only under `go run` or beside the executable, so the app
// sets it in code to get its ID and the fyneDo migration wherever it runs.
func Metadata(version string) fyne.AppMetadata {
	return fyne.AppMetadata{
		ID:         AppID,
		Name:       "Tokenloom",
		Version:    version,
		Icon:       assets.Icon,
		Migrations: map[string]bool{"fyneDo": true},
	}
}

// NewApp creates the Fyne app with Tokenloom's metadata.
func NewApp(version string) fyne.App {
	app.SetMetadata(Metadata(version))
	a := app.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	return a
}

// Options are the settings of the desktop app.
type Options struct {
	// OllamaURL overrides the saved setting and OLLAMA_HOST.
	OllamaURL string
	// Endpoints are the --endpoint flags, over the endpoints file
	// (endpoints.Load).
	Endpoints []endpoints.Endpoint
	// AutoRun starts a run with the saved panes at launch.
	AutoRun bool
	Version string
	Stderr  io.Writer
	// Scenario and Probe are passed to the window (see ui.Options).
	Scenario *ui.Scenario
	Probe    *frame.Probe
}

// current is the running embedded server; Settings replaces it with one on
// another Ollama URL.
type current struct {
	mu        sync.Mutex           // guards endpoints and emb
	endpoints []endpoints.Endpoint // of every server it starts
	emb       *embedded.Server
}

// start replaces the embedded server with one on ollamaURL.
func (c *current) start(ollamaURL, version string) (*client.Client, error) {
	// A saved run that export can read can also be replayed.
	c.mu.Lock()
	eps := c.endpoints
	c.mu.Unlock()
	emb, err := embedded.Start(server.Config{OllamaURL: ollamaURL, Endpoints: eps, Version: version, MaxReplayBytes: export.MaxReadBytes})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	old := c.emb
	c.emb = emb
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return emb.Client, nil
}

// cancelStreams ends every stream of the embedded server at once, and
// with them the requests to Ollama.
func (c *current) cancelStreams() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.emb != nil {
		c.emb.Server.CancelStreams()
	}
}

func (c *current) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.emb != nil {
		c.emb.Close()
	}
}

// openHistory opens the history database (history.Path), or says on
// stderr why the window keeps no history; nil then.
func openHistory(stderr io.Writer) *history.Store {
	path, err := history.Path()
	if errors.Is(err, history.ErrOff) {
		return nil
	}
	var store *history.Store
	if err == nil {
		store, err = history.Open(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: history: %v; runs are kept only by Export (%s=off turns the history off)\n", err, history.EnvVar)
		return nil
	}
	for _, n := range store.Notices() {
		fmt.Fprintf(stderr, "tokenloom: history: %s\n", n)
	}
	return store
}

// desktopGCPercent is the desktop app's GOGC unless the environment sets
// one.
const desktopGCPercent = 50

// viewsMemory is what the desktop app's soft memory limit allows the views
// beside the embedded server's share (server.MemoryLimit).
const viewsMemory = 512 << 20

// Run opens the window and returns the exit status when it is closed or
// ctx ends.
func Run(ctx context.Context, o Options) int {
	if os.Getenv("GOGC") == "" {
		// The app holds every token of its runs (the server's log and the
		// views' text). Collecting at 50 % growth instead of 100 % keeps
		// its peak memory about 10 % lower for a little more GC CPU
		// (docs/performance.md).
		debug.SetGCPercent(desktopGCPercent)
	}
	// The server's logs and room to collect them, and more for the views,
	// which hold the runs' text too.
	server.LimitMemory(server.Config{}, viewsMemory)
	a := NewApp(o.Version)
	ollamaURL, from := o.OllamaURL, ui.URLFromFlag
	if ollamaURL == "" {
		from = ""
		ollamaURL = a.Preferences().String(ui.PrefOllamaURL)
	}
	eps, err := endpoints.Load(o.Endpoints)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		return cli.ExitUsage
	}
	e := current{endpoints: eps}
	cl, err := e.start(ollamaURL, o.Version)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		return cli.StartStatus(err)
	}
	defer e.close()
	store := openHistory(o.Stderr)
	if store != nil {
		defer store.Close()
	}
	w := ui.New(a, ui.Options{
		History:       store,
		Client:        cl,
		AutoRun:       o.AutoRun,
		Scenario:      o.Scenario,
		OllamaURLFrom: from,
		Probe:         o.Probe,
		Reconnect: func(_ context.Context, url string) (*client.Client, error) {
			// The endpoints file may have changed (Settings writes it).
			eps, err := endpoints.Load(o.Endpoints)
			if err != nil {
				return nil, err
			}
			e.mu.Lock()
			e.endpoints = eps
			e.mu.Unlock()
			return e.start(url, o.Version)
		},
		EndpointFlags: endpoints.Names(o.Endpoints),
	})
	stop := context.AfterFunc(ctx, func() {
		// The streams end first: the requests to Ollama close now, not
		// after the window's last frames and its teardown.
		e.cancelStreams()
		fyne.Do(func() {
			w.Save()
			a.Quit()
		})
	})
	defer stop()
	w.Window().ShowAndRun()
	w.Close()
	return cli.ExitOK
}
