package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/server"
)

// replayUsage is the help text of `tokenloom replay`.
const replayUsage = `Usage: tokenloom replay FILE [--speed N] [--json]

Plays back a run saved as JSON (by tokenloom run --save FILE.json or the app's
export) through the embedded server, with its original timing divided by the
speed, and prints it like tokenloom run: each stream in its colour, then the
table per stream and the run's wall time. No model is needed: the tokens come
from the file. A stream that ended in an error in the original run ends in it
again.
`

// ReplayCommand carries out `tokenloom replay` with the command line args
// (after "replay") and returns the exit status.
func ReplayCommand(ctx context.Context, args []string, env Env) int {
	fs := NewFlagSet("replay", Help(replayUsage, ExitOK, ExitStreamError, ExitUsage, ExitFailed, ExitInterrupted), env.Stderr)
	var o ReplayOptions
	fs.Float64Var(&o.Speed, "speed", 1, "playback rate `N`: 1 is the original timing, 2 twice as fast (from 0.0625, i.e. 1/16, to 16)")
	fs.BoolVar(&o.JSON, "json", false, "print the events as NDJSON, one object per line, then the run's summary, instead of text")
	// tokenloom replay run.json --speed 2
	files, code, done := parseWithArgs(fs, args)
	if done {
		return code
	}
	if len(files) != 1 {
		fmt.Fprintf(env.Stderr, "tokenloom replay: want one FILE, got %d (tokenloom replay run.json)\n", len(files))
		return ExitUsage
	}
	o.Path = files[0]
	o.Version = env.Version
	o.Stdout, o.Stderr = env.Stdout, env.Stderr
	o.Color = colorWanted(env.Stdout)
	o.TrueColor = trueColor()
	return Replay(ctx, o)
}

// ReplayOptions are the settings of `tokenloom replay`.
type ReplayOptions struct {
	// Path is a run saved as JSON (`tokenloom run --save FILE.json`, the
	// app's export, or GET /api/runs/{id}).
	Path string
	// Speed is the playback rate: 1 is the original timing, 2 twice as
	// fast; the server takes 1/16 up to 16 and refuses anything else,
	// 0 included (the command's --speed defaults to 1).
	Speed float64
	// JSON prints the events as NDJSON instead of text, then the run's
	// summary.
	JSON bool
	// Color paints each stream in its slot's colour; TrueColor uses 24-bit
	// escapes.
	Color     bool
	TrueColor bool
	Version   string

	Stdout, Stderr io.Writer
}

// Replay loads a saved run and plays it back through the embedded server,
// printing its streams as Run does (same colours, summary and exit
// statuses; a replayed error event is an error again). It needs no model:
// the events come from the file.
func Replay(ctx context.Context, o ReplayOptions) int {
	tr, err := export.Load(o.Path)
	if err != nil {
		printProblem(o.Stderr, "tokenloom: "+err.Error(), "replay a run saved with `tokenloom run --save FILE.json` or exported from the app as JSON")
		return ExitUsage
	}
	// Whatever Read accepted fits in the replay body (sent compact).
	emb, code := startEmbedded(server.Config{Version: o.Version, MaxReplayBytes: export.MaxReadBytes}, o.Stderr)
	if emb == nil {
		return code
	}
	defer emb.Close()
	cl := emb.Client
	speed := strconv.FormatFloat(o.Speed, 'g', -1, 64)
	_, code = play(ctx, cl, func(ctx context.Context) (*wire.RunCreated, error) {
		return cl.StartReplay(ctx, tr, o.Speed)
	}, func(mode string) string { return mode + " run replayed at " + speed + "×" },
		output{JSON: o.JSON, Color: o.Color, TrueColor: o.TrueColor, Stdout: o.Stdout, Stderr: o.Stderr})
	return code
}
