package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/ui/frame"
)

// run starts a run of every pane's stream.
func (a *App) run() {
	req, ok := a.request()
	if !ok {
		return
	}
	a.comparing = nil
	a.startRun(req, "starting…")
}

// request is the run the panes ask for, in the selected mode; false, with
// the reason in the status line, when it cannot start.
func (a *App) request() (wire.RunRequest, bool) {
	if a.running {
		return wire.RunRequest{}, false
	}
	prompt := a.prompt.Text
	if strings.TrimSpace(prompt) == "" {
		a.runStatus.SetText("Write a prompt first.")
		a.win.Canvas().Focus(a.prompt)
		return wire.RunRequest{}, false
	}
	req := wire.RunRequest{Prompt: prompt, System: a.system.Text, Mode: a.selectedMode()}
	again := a.again()
	for _, p := range a.panes {
		cfg, err := p.config()
		if err == nil && cfg.Model == "" {
			err = fmt.Errorf("choose a model")
		}
		if err != nil {
			a.runStatus.SetText(problem("Pane "+paneNumber(p.slot), err))
			return wire.RunRequest{}, false
		}
		spec := cfg.spec()
		spec.History = p.followUpHistory(again) // the pane's own conversation
		req.Streams = append(req.Streams, spec)
	}
	a.save()
	return req, true
}

// startRun has the server start req, showing status until it answers.
func (a *App) startRun(req wire.RunRequest, status string) {
	a.replaying = nil
	a.lastRequest = &req
	a.launch(status, "Could not start", func(ctx context.Context, cl *client.Client) (*wire.RunCreated, error) {
		return cl.StartRun(ctx, req)
	})
}

// launch has the server start a run of the current panes through start,
// showing status until it answers, and failure ("Could not start") with
// the problem if it refuses.
func (a *App) launch(status, failure string, start func(context.Context, *client.Client) (*wire.RunCreated, error)) {
	panes := slices.Clone(a.panes)
	a.setRunning(true)
	a.runStatus.SetText(status)
	a.notice.Hide()
	a.background(func(ctx context.Context, cl *client.Client) func() {
		created, err := start(ctx, cl)
		return func() {
			if err != nil {
				a.setRunning(false)
				a.runStatus.SetText(problem(failure, err))
				return
			}
			a.startStreams(cl, created, panes)
		}
	})
}

// setRunning notes whether a run goes on and sets the controls to match.
func (a *App) setRunning(running bool) {
	a.running = running
	if running {
		a.runBtn.Disable()
		a.compareBtn.Disable()
		a.newBtn.Disable()
		a.stopBtn.Enable()
	} else {
		a.runBtn.Enable()
		a.compareBtn.Enable()
		a.stopBtn.Disable()
		a.conversationControls()
	}
	a.layoutPanes()
}

// startStreams shows a run that the server has started in the panes and the
// run views.
func (a *App) startStreams(cl *client.Client, created *wire.RunCreated, panes []*Pane) {
	a.runID, a.runMode = created.ID, created.Mode
	if a.replaying == nil && a.comparing == nil {
		a.runStatus.SetText(created.Mode + " run…")
	}
	a.exportBtn.Disable()
	var prompt string
	if a.replaying != nil {
		prompt = a.replaying.t.Prompt
	} else if a.lastRequest != nil {
		prompt = a.lastRequest.Prompt
	}
	ids := make([]string, len(created.Streams))
	models := make([]string, len(created.Streams))
	for i, st := range created.Streams {
		ids[i], models[i] = st.ID, endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()
		if req := a.lastRequest; a.replaying == nil && req != nil && i < len(req.Streams) {
			panes[i].keepTurns(len(req.Streams[i].History)) // a turn run again goes
		}
	}
	a.beginStreams(panes, ids, models, prompt)
	a.runPanes = panes
	if a.opts.Probe != nil {
		a.opts.Probe.RunStarted()
	}
	var record func() *history.Recorder // a replay is not recorded again
	if req := a.lastRequest; req != nil && a.replaying == nil {
		record = func() *history.Recorder { return a.recordRun(created, *req) }
	}
	a.subscribeRun(a.ctx, cl, panes, ids, a.replaying, record)
}

// beginStreams starts each pane on its stream of a run (ids[i], of model
// option models[i]) answering prompt, and the run's views on the streams.
func (a *App) beginStreams(panes []*Pane, ids, models []string, prompt string) {
	labels := make([]string, len(ids))
	slots := make([]int, len(ids))
	for i, p := range panes[:len(ids)] {
		labels[i], slots[i] = streamLabel(p.slot, models[i]), p.slot
		p.begin(ids[i], models[i], prompt)
	}
	a.views.reset(labels, slots, ids)
}

// subscribeRun follows the run's streams and hands their events, in
// arrival order, to the panes and the views at most once per frame.
func (a *App) subscribeRun(ctx context.Context, cl *client.Client, panes []*Pane, ids []string, replay *replayed, record func() *history.Recorder) {
	a.spawn(func() {
		var rec *history.Recorder
		if record != nil {
			rec = record()
		}
		events, err := cl.SubscribeAll(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				message, hint := client.Explain(err)
				a.do(func() {
					for _, p := range panes {
						p.showError("could not follow the stream: "+message, hint)
					}
					a.runEnded(panes)
				})
			}
			return
		}
		frame.Pump(ctx, events, a.clock, a.pace, a.do, func(batch []client.IndexedEvent, final bool) {
			if replay != nil {
				replay.asRecorded(batch)
			}
			if rec != nil {
				for _, ev := range batch {
					if !ev.Local { // the client's own word, not the run's
						rec.Record(ev.Index, ev.Type, ev.Seq, ev.Raw)
					}
				}
				if final {
					a.finishRecording(rec)
				}
			}
			applyToPanes(panes, batch, final)
			a.views.apply(batch)
			if a.opts.Probe != nil {
				a.opts.Probe.Applied(batch)
			}
			if final {
				a.runEnded(panes)
			}
		})
	})
}

// applyToPanes hands each pane its stream's events of batch.
func applyToPanes(panes []*Pane, batch []client.IndexedEvent, final bool) {
	per := make([][]client.Event, len(panes))
	for _, ev := range batch {
		per[ev.Index] = append(per[ev.Index], ev.Event)
	}
	for i, p := range panes {
		p.apply(per[i], final)
	}
}

// runEnded closes a run once all its streams have ended. The status line
// then gives the run's lesson: its wall time against the sum of the
// streams' durations.
func (a *App) runEnded(panes []*Pane) {
	if !a.running {
		return
	}
	if a.comparing == nil {
		a.endTurns(panes) // before the controls are set to match
	}
	a.setRunning(false)
	a.exportBtn.Enable()
	outcomes := make([]figures.Outcome, len(panes))
	for i, p := range panes {
		outcomes[i] = p.outcome()
	}
	rt := figures.RunTimeOf(outcomes)
	line := rt.Headline(a.runMode)
	if r := a.replaying; r != nil {
		line = fmt.Sprintf("Replay of %s at %g×, figures as recorded: %s", r.name, r.speed, line)
	}
	if c := rt.Caveat(a.runMode); c != "" {
		line += "\n" + strings.ToUpper(c[:1]) + c[1:] + "."
	}
	a.runStatus.SetText(line)
	a.dropClosedStreams() // panes closed during the run
	if a.comparing != nil {
		a.compareNext(panes)
	}
	if a.opts.Probe != nil {
		a.opts.Probe.RunEnded()
	}
}

// stop cancels the whole run.
func (a *App) stop() {
	if a.sweepStop != nil {
		a.sweepStop()
		a.stopBtn.Disable()
		return
	}
	if !a.running || a.runID == "" {
		return
	}
	id := a.runID
	a.comparing = nil // stopped: no async run after the sync one
	a.stopBtn.Disable()
	a.background(func(ctx context.Context, cl *client.Client) func() {
		err := cl.CancelRun(ctx, id)
		return func() {
			if err != nil {
				a.runStatus.SetText(problem("Could not stop", err))
			}
		}
	})
}
