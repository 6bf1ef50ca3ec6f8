// Package ui is Tokenloom's desktop app: Fyne widgets and windows only. It
// talks to the embedded server through package client and never uses
// net/http itself. Its reusable widgets live in ui/widgets, and how events
// reach the screen in ui/frame.
//
// One concern per file. Here, in package ui:
//
//   - app.go: App, its options and its life (New, Close, background work);
//     controls.go builds the window and its controls, prompt.go is the
//     prompt entry, prefs.go the saved settings, settings.go the settings
//     dialog (endpoints.go its Endpoints part), models.go the model list
//     and Ollama's banner.
//   - runcontrol.go: starting, following and stopping a run;
//     conversation.go: the turns a run leaves each pane, and follow-ups;
//     files.go: export, open and replay.
//   - panes.go: the row of panes; pane.go one pane (a stream's status and
//     text), panestatus.go its status lines, badge.go its number on its
//     colour, paneconfig.go its model and options, thinkoption.go its
//     think option (offered for models that think); thought.go the
//     pane's reasoning above its answer, folded by a widgets.FoldLine
//     once the answer begins.
//   - views.go: the run's views beside the panes and what feeds them (the
//     interleaved text is a widgets.TokenView, the reasoning subdued; the
//     timeline a widgets.Timeline, picture.go saves it as a picture);
//     stats.go the stats table, wire.go a stream's raw SSE frames (with
//     upstream.go, an OpenAI-compatible stream's upstream lines).
//   - diff.go: the Diff tab; history.go the History tab; sweep.go the
//     Sweep tab (a concurrency sweep, its chart and table, earlier
//     sweeps); compare.go the Compare tab.
//
// Its tests drive the app on Fyne's test driver and a real embedded
// server (for the demo sources on a fake clock, so that their figures are
// exact and take no real time), each X_test.go the concern of X.go: app_test.go,
// compare_test.go, conversation_test.go, diff_test.go, endpoints_test.go,
// files_test.go, history_test.go, models_test.go, pane_test.go,
// panes_test.go, prefs_test.go, runcontrol_test.go, stats_test.go,
// sweep_test.go, thinkoption_test.go, thought_test.go, views_test.go,
// wire_test.go; frictions_test.go covers what users tripped over,
// ollama_test.go what needs a real Ollama; harness_test.go starts the app
// for them, export_test.go reads its state, main_test.go checks for
// leaked goroutines.
//
// In ui/widgets (package widgets, see its doc.go): tokenview.go (with
// tokenwrap.go, tokenrow.go, scrollbar.go), timeline.go (with
// timelinedraw.go, timelinelegend.go), foldline.go, flow.go, tooltip.go,
// theme.go; their tests tokenview_test.go, timeline_test.go,
// legend_test.go, timelinepicture_test.go (the timeline against the
// picture of the same run), with export_test.go and main_test.go.
//
// In ui/frame (package frame, see its doc.go): pump.go, paintclock.go,
// pacer.go with cpu_unix.go and cpu_other.go, mincache.go, probe.go; their
// tests pacer_test.go, mincache_test.go, with main_test.go.
//
// Everything here runs on the Fyne thread unless it says otherwise;
// network goroutines hand their results over with Options.Do (fyne.Do).
package ui
