package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/server"
)

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
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		fmt.Fprintln(o.Stderr, "  hint: replay a run saved with `tokenloom run --save FILE.json` or exported from the app as JSON")
		return ExitUsage
	}
	// Whatever Read accepted fits in the replay body (sent compact).
	emb := startEmbedded(server.Config{Version: o.Version, MaxReplayBytes: export.MaxReadBytes}, o.Stderr)
	if emb == nil {
		return ExitUsage
	}
	defer emb.Close()
	cl := emb.Client
	speed := strconv.FormatFloat(o.Speed, 'g', -1, 64)
	_, code := play(ctx, cl, func(ctx context.Context) (*wire.RunCreated, error) {
		return cl.StartReplay(ctx, tr, o.Speed)
	}, func(mode string) string { return mode + " run replayed at " + speed + "×" },
		output{JSON: o.JSON, Color: o.Color, TrueColor: o.TrueColor, Stdout: o.Stdout, Stderr: o.Stderr})
	return code
}
