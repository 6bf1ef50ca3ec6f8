package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// Default size of a picture saved with --timeline.
const (
	TimelineWidth  = 1600
	TimelineHeight = 900
)

// compareRuns runs req one stream after another (sync), then all at once
// (async), printing each as run does, then both wall times, what async
// saved and the lesson read from the figures. It returns both runs (nil
// where one did not start) and the exit status.
func compareRuns(ctx context.Context, cl *client.Client, req wire.RunRequest, o output) ([2]*wire.RunCreated, int) {
	var runs [2]*wire.RunCreated
	status := ExitOK // ExitStreamError once a stream of either run ended in an error
	for k, mode := range []string{wire.ModeSync, wire.ModeAsync} {
		if !o.JSON {
			fmt.Fprintf(o.Stdout, "== %s: %s\n", mode, []string{"one stream after another", "all streams at once"}[k])
		}
		r := req
		r.Mode = mode
		created, code := play(ctx, cl, func(ctx context.Context) (*wire.RunCreated, error) {
			return cl.StartRun(ctx, r)
		}, func(mode string) string { return mode + " run" }, o)
		runs[k] = created
		if code != ExitOK && code != ExitStreamError {
			return runs, code // the run did not start, or was stopped
		}
		status = max(status, code)
		if !o.JSON && k == 0 {
			fmt.Fprintln(o.Stdout)
		}
	}
	t, err := transcripts(cl, runs)
	if err != nil {
		printError(o.Stderr, err)
		return runs, ExitFailed
	}
	c := comparisonOf(t)
	if o.JSON {
		line, _ := json.Marshal(struct {
			Event       string   `json:"event"`
			SyncWallMs  float64  `json:"sync_wall_ms"`
			AsyncWallMs float64  `json:"async_wall_ms"`
			SavedMs     float64  `json:"saved_ms"`
			Saved       string   `json:"saved"`
			Regime      string   `json:"regime"`
			Lesson      string   `json:"lesson"`
			Sentences   []string `json:"sentences"`
		}{"comparison", c.Sync.WallMs, c.Async.WallMs, figures.RoundMs(c.SavedMs()), c.Saved(), c.Regime.String(), c.Lesson(), c.Sentences()})
		fmt.Fprintf(o.Stdout, "%s\n", line)
		return runs, status
	}
	fmt.Fprintf(o.Stdout, "\n== sync %s · async %s · %s\n", c.Sync.Wall(), c.Async.Wall(), c.Saved())
	writeWrapped(o.Stdout, c.Lesson(), 80)
	return runs, status
}

// transcripts fetches the runs' transcripts.
func transcripts(cl *client.Client, runs [2]*wire.RunCreated) ([2]*wire.Transcript, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out [2]*wire.Transcript
	for k, r := range runs {
		t, err := cl.Run(ctx, r.ID)
		if err != nil {
			return out, fmt.Errorf("fetch run %s: %w", r.ID, err)
		}
		out[k] = t
	}
	return out, nil
}

// comparisonOf puts a sync and an async transcript of the same streams
// side by side.
func comparisonOf(t [2]*wire.Transcript) figures.Comparison {
	return figures.Compare(figures.OutcomesOf(t[0]), figures.OutcomesOf(t[1]))
}

// writeWrapped writes text in lines of at most width characters, broken
// between words.
func writeWrapped(w io.Writer, text string, width int) {
	line := 0
	for _, word := range strings.Fields(text) {
		n := len([]rune(word))
		switch {
		case line == 0:
		case line+1+n > width:
			fmt.Fprintln(w)
			line = 0
		default:
			fmt.Fprint(w, " ")
			line++
		}
		fmt.Fprint(w, word)
		line += n
	}
	fmt.Fprintln(w)
}

// saveTimeline saves the picture of the runs' timelines (one run, or a
// sync and an async run stacked) to path, as SVG or PNG by its extension.
func saveTimeline(cl *client.Client, ids []string, path string, width, height int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ts []*wire.Transcript
	for _, id := range ids {
		t, err := cl.Run(ctx, id)
		if err != nil {
			return fmt.Errorf("fetch run %s: %w", id, err)
		}
		ts = append(ts, t)
	}
	var d diagram.Diagram
	if len(ts) == 2 {
		d = diagram.OfComparison(ts[0], ts[1], nil)
	} else {
		d = diagram.OfRun(ts[0], nil)
	}
	return diagram.Save(d, path, width, height)
}

// checkTimelinePath refuses a --timeline file of unknown format.
func checkTimelinePath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg", ".png":
		return nil
	}
	return fmt.Errorf("want a .svg or .png file, not %q", filepath.Base(path))
}
