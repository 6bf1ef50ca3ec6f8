// Package ui is Tokenloom's desktop app: Fyne widgets and windows only. It
// talks to the embedded server through package client and never uses
// net/http itself.
//
// One concern per file:
//
//   - app.go: App, its options and its life (New, Close, background work);
//     controls.go builds the window and its controls, prompt.go is the
//     prompt entry, prefs.go the saved settings, settings.go the settings
//     dialog, models.go the model list and Ollama's banner.
//   - runcontrol.go: starting, following and stopping a run; files.go:
//     export, open and replay.
//   - panes.go: the row of panes; pane.go one pane (a stream's status and
//     text), paneconfig.go its model and options, thinkoption.go its
//     think option (offered for models that think); thought.go the
//     pane's reasoning above its answer, folded by a foldLine
//     (foldline.go) once the answer begins.
//   - views.go: the run's views beside the panes and what feeds them (the
//     interleaved text is a TokenView, the reasoning subdued);
//     timeline.go (its image drawn in timelinedraw.go, its legend in
//     timelinelegend.go), stats.go (the stats table), wire.go (a stream's
//     raw SSE frames).
//   - tokenview.go: the virtualised text widget, with tokenwrap.go (text
//     into rows), tokenrow.go (a row's widget) and scrollbar.go.
//   - sweep.go: the Sweep tab (a concurrency sweep, its chart and
//     table, earlier sweeps); compare.go the Compare tab.
//   - pump.go hands events to the views once per frame, paced by a
//     paintClock (paintclock.go) and the pacer (pacer.go, cpu_*.go);
//     mincache.go caches MinSize per frame; probe.go measures how long
//     tokens take to reach the screen; theme.go holds the stream colours.
//
// Everything here runs on the Fyne thread unless it says otherwise;
// network goroutines hand their results over with Options.Do (fyne.Do).
package ui
