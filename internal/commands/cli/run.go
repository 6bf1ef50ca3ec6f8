// Package cli carries out the subcommands of cmd/tokenloom: `run` streams a
// prompt through several models in a terminal (and can save the run),
// `replay` plays a saved run back the same way, `serve` runs the SSE server
// alone. They use the embedded server and the client package, the same path
// as the desktop app.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/server"
)

// Exit statuses of Run.
const (
	ExitOK          = 0
	ExitStreamError = 1   // a stream ended in an error
	ExitUsage       = 2   // the request was refused or could not start
	ExitInterrupted = 130 // SIGINT
)

// RunOptions are the settings of `tokenloom run`.
type RunOptions struct {
	// Models to stream from, one stream each, as MODEL or MODEL@ENDPOINT
	// (SplitModel). Default: demo/hello and demo/hamlet.
	Models []string
	// Prompt; when PromptSet is false it is read from Stdin, after a line
	// on Stderr that says so when Stdin is a terminal.
	Prompt    string
	PromptSet bool
	System    string
	Sync      bool
	// Compare runs the streams one after another, then all at once, and
	// prints what async saved and the lesson read from the figures (Sync
	// is then ignored).
	Compare bool
	// Timeline, if set, is a file to save the picture of the run's
	// timeline to (both runs' with Compare), .svg or .png, at
	// TimelineSize (width, height; zero: TimelineWidth×TimelineHeight).
	Timeline     string
	TimelineSize [2]int
	// MaxTokens, Temperature and Seed set every stream's options; nil
	// keeps the model's defaults.
	MaxTokens   *int
	Temperature *float64
	Seed        *int64
	// Think asks thinking models to reason first or not; nil leaves it to
	// the model.
	Think *wire.Think
	// HideThinking leaves thinking models' reasoning out of the text.
	HideThinking bool
	// Save, if set, is a file to save the run to once it has ended, in the
	// format of its extension (.json, .md or .markdown; see
	// export.FormatForPath). Another extension is refused before the run
	// starts.
	Save string
	// JSON prints the events as NDJSON instead of text, then the run's
	// summary (see runSummary).
	JSON bool
	// Continue, if set, is a run of the history (its id, or LastRun) to
	// go on from: the prompt is a follow-up to each of its streams, which
	// sends its own conversation, with the run's models, endpoints and
	// options (MaxTokens and the like, when set, instead) and its system
	// prompt unless System is set. Models must be empty. The run is read
	// from the history file ContinueFrom ("" when the history is off).
	Continue, ContinueFrom string
	// History, if set, is the history database (internal/services/history) to
	// record the run into as it streams (with Compare, both runs). Empty:
	// the run is not recorded. If the history cannot be opened, the run
	// goes on unrecorded, saying why on Stderr.
	History string
	// Color paints each stream in its slot's colour; TrueColor uses 24-bit
	// escapes. Without colour, the lines of several streams begin with
	// their stream's label.
	Color     bool
	TrueColor bool
	// OllamaURL overrides OLLAMA_HOST.
	OllamaURL string
	// Endpoints are the --endpoint flags, over the endpoints file
	// (endpoints.Load).
	Endpoints []endpoints.Endpoint
	Version   string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// DefaultModels are streamed when no model is named.
var DefaultModels = []string{wire.DemoHello, wire.DemoHamlet}

// Run starts the embedded server on a free loopback port, starts one run,
// prints its streams until each has ended, saves the run when o.Save is set,
// and returns the exit status. When ctx ends (SIGINT) it cancels the run,
// prints what arrived and returns ExitInterrupted.
func Run(ctx context.Context, o RunOptions) int {
	if o.Save != "" {
		// Refuse a file name of unknown format before running anything.
		if _, err := export.FormatForPath(o.Save); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: --save: %v\n", err)
			return ExitUsage
		}
	}
	if o.Timeline != "" {
		if err := checkTimelinePath(o.Timeline); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: --timeline: %v\n", err)
			return ExitUsage
		}
	}
	if o.Continue != "" && len(o.Models) > 0 {
		fmt.Fprintln(o.Stderr, "tokenloom: --continue goes on with the saved run's models: leave out -m")
		return ExitUsage
	}
	if len(o.Models) == 0 {
		o.Models = DefaultModels
	}
	var saved *wire.Transcript
	if o.Continue != "" {
		var ok bool
		if saved, ok = savedConversation(ctx, o.ContinueFrom, o.Continue, o.Stderr); !ok {
			return ExitUsage
		}
	}
	if !o.PromptSet {
		if isTerminal(o.Stdin) {
			// Otherwise a person at a terminal sees nothing happen.
			fmt.Fprintln(o.Stderr, promptFromStdinHint)
		}
		b, err := io.ReadAll(io.LimitReader(o.Stdin, 4<<20))
		if err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: read prompt from stdin: %v\n", err)
			return ExitUsage
		}
		o.Prompt = strings.TrimRight(string(b), "\r\n")
	}

	emb := startWithEndpoints(o.OllamaURL, o.Endpoints, o.Version, o.Stderr)
	if emb == nil {
		return ExitUsage
	}
	defer emb.Close()
	cl := emb.Client

	req := wire.RunRequest{Prompt: o.Prompt, System: o.System, Mode: wire.ModeAsync}
	if o.Sync {
		req.Mode = wire.ModeSync
	}
	var opts *wire.Options
	if o.MaxTokens != nil || o.Temperature != nil || o.Seed != nil || o.Think != nil {
		opts = &wire.Options{NumPredict: o.MaxTokens, Temperature: o.Temperature, Seed: o.Seed, Think: o.Think}
	}
	if saved != nil {
		mode := req.Mode
		req = followUp(saved, o.Prompt, o.System, opts)
		req.Mode = mode
	} else {
		for _, m := range o.Models {
			model, endpoint := SplitModel(m)
			req.Streams = append(req.Streams, wire.StreamSpec{Model: model, Endpoint: endpoint, Options: opts})
		}
	}
	out := output{JSON: o.JSON, Color: o.Color, TrueColor: o.TrueColor, HideThinking: o.HideThinking, Stdout: o.Stdout, Stderr: o.Stderr}
	var closeHistory func()
	out.history, closeHistory = openHistory(o.History, req, o.Stderr)
	defer closeHistory()
	var created *wire.RunCreated
	var code int
	var ids []string // the runs shown, for --timeline
	if o.Compare {
		var runs [2]*wire.RunCreated
		runs, code = compareRuns(ctx, cl, req, out)
		if runs[0] != nil && runs[1] != nil {
			ids = []string{runs[0].ID, runs[1].ID}
		}
		created = runs[1] // --save saves the async run
	} else {
		created, code = play(ctx, cl, func(ctx context.Context) (*wire.RunCreated, error) {
			return cl.StartRun(ctx, req)
		}, func(mode string) string { return mode + " run" }, out)
		if created != nil {
			ids = []string{created.ID}
		}
	}
	if o.Timeline != "" && len(ids) > 0 && code != ExitInterrupted {
		w, h := o.TimelineSize[0], o.TimelineSize[1]
		if w == 0 || h == 0 {
			w, h = TimelineWidth, TimelineHeight
		}
		if err := saveTimeline(cl, ids, o.Timeline, w, h); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: could not save the timeline: %v\n", err)
			return ExitUsage
		}
		fmt.Fprintf(o.Stderr, "saved the timeline to %s\n", o.Timeline)
	}
	if created == nil || o.Save == "" {
		return code
	}
	if err := saveRun(cl, created.ID, o.Save); err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom: could not save the run: %v\n", err)
		fmt.Fprintln(o.Stderr, "  hint: check that the folder exists and that you may write there")
		return ExitUsage
	}
	fmt.Fprintf(o.Stderr, "saved %s\n", o.Save)
	return code
}

// promptFromStdinHint is said on stderr before the prompt is read from a
// terminal.
const promptFromStdinHint = "reading the prompt from standard input (end with Ctrl+D)"

// isTerminal reports whether r is a terminal (not a pipe, a file or
// /dev/null).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startWithEndpoints starts the embedded server of a command that streams
// from models: Ollama at ollamaURL ("": OLLAMA_HOST), the --endpoint flags
// over the endpoints file. When it cannot, it says why on stderr and
// returns nil.
func startWithEndpoints(ollamaURL string, flags []endpoints.Endpoint, version string, stderr io.Writer) *embedded.Server {
	eps, err := endpoints.Load(flags)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: %v\n", err)
		return nil
	}
	return startEmbedded(server.Config{OllamaURL: ollamaURL, Endpoints: eps, Version: version}, stderr)
}

// startEmbedded starts the embedded server of a command; when it cannot,
// it says why on stderr and returns nil.
func startEmbedded(cfg server.Config, stderr io.Writer) *embedded.Server {
	emb, err := embedded.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: %v\n", err)
		return nil
	}
	return emb
}

// saveRun fetches the transcript of a run and saves it to path.
func saveRun(cl *client.Client, runID, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := cl.Run(ctx, runID)
	if err != nil {
		return fmt.Errorf("fetch run %s: %w", runID, err)
	}
	return export.Save(path, tr)
}

// output says how a command prints its streams.
type output struct {
	// JSON prints the events as NDJSON instead of text, then the run's
	// summary.
	JSON bool
	// Color paints each stream in its slot's colour; TrueColor uses 24-bit
	// escapes.
	Color     bool
	TrueColor bool
	// HideThinking leaves the reasoning out of the text; without colour it
	// is left out anyway, since nothing would tell it from the answer.
	HideThinking bool
	// history, when set, records each run as it streams.
	history *runHistory

	Stdout, Stderr io.Writer
}

// ParseThink reads the --think flag: on, off, low, medium or high (true and
// false too).
func ParseThink(s string) (*wire.Think, error) {
	var t wire.Think
	switch strings.ToLower(s) {
	case "on", "true":
		t = wire.ThinkOn
	case "off", "false":
		t = wire.ThinkOff
	case "low", "medium", "high":
		t = wire.Think(strings.ToLower(s))
	default:
		return nil, fmt.Errorf("want on, off, low, medium or high")
	}
	return &t, nil
}

// play starts a run (or a replay) with start, prints its streams until each
// has ended, then the summary, whose last line begins with describe(mode).
// It returns the run (nil if it could not start) and the exit status. When
// ctx ends (SIGINT) it cancels the run and returns ExitInterrupted once the
// streams' ends have arrived.
func play(ctx context.Context, cl *client.Client, start func(context.Context) (*wire.RunCreated, error), describe func(mode string) string, o output) (*wire.RunCreated, int) {
	// The subscriptions outlive ctx: on SIGINT the run is cancelled on the
	// server and its terminal events still arrive.
	subCtx, stopSubs := context.WithCancel(context.Background())
	defer stopSubs()
	created, err := start(subCtx)
	if err != nil {
		printAPIError(o.Stderr, err)
		return nil, ExitUsage
	}
	ids := make([]string, len(created.Streams))
	for i, s := range created.Streams {
		ids[i] = s.ID
	}
	events, err := cl.SubscribeAll(subCtx, ids)
	if err != nil {
		printAPIError(o.Stderr, err)
		return created, ExitUsage
	}
	rec := o.history.start(created)
	defer rec.finish()

	watchDone := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(watchDone)
		cctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_ = cl.CancelRun(cctx, created.ID)
		// If the server cannot confirm in time, stop waiting anyway.
		select {
		case <-subCtx.Done():
		case <-time.After(700 * time.Millisecond):
			stopSubs()
		}
	})

	names := make([]string, len(created.Streams))
	for i, s := range created.Streams {
		names[i] = streamName(s)
	}
	results := make([]streamResult, len(names))
	for i := range results {
		results[i] = streamResult{id: created.Streams[i].ID, name: names[i], outcome: "no answer"}
	}
	text := newTextRenderer(o.Stdout, o.Color, o.TrueColor, names, created.Mode)
	if !o.JSON {
		text.legend()
	}
	show := func(i int, ev client.Event) {
		if ev.Type == wire.EventToken {
			text.token(i, ev.Text)
		} else if ev.Type == wire.EventThinking && o.Color && !o.HideThinking {
			text.thinking(i, ev.Text)
		}
	}
	order := newTurns(len(names), show)
	failed := false
	for ev := range events {
		rec.add(ev) // queued: the history's own goroutine writes it
		i := ev.Index
		switch {
		case o.JSON:
			printJSONEvent(o.Stdout, created.Streams[i], ev.Event)
		case created.Mode == wire.ModeSync:
			order.add(i, ev.Event)
		default:
			show(i, ev.Event)
		}
		switch ev.Type {
		case wire.EventDone:
			results[i].end, results[i].stats, results[i].outcome = &ev.Event, ev.Stats, ev.Reason
		case wire.EventError:
			failed = true
			results[i].end, results[i].stats, results[i].outcome = &ev.Event, ev.Stats, "error"
		}
	}
	stopSubs()
	if !stopWatch() {
		<-watchDone
	}
	order.flush()

	sum := summarize(created.Mode, results)
	if o.JSON {
		printJSONLine(o.Stdout, sum)
	} else {
		text.finishLine()
		text.summary(sum, describe(created.Mode))
	}
	for i, res := range results {
		if res.end != nil && res.end.Type == wire.EventError {
			fmt.Fprintf(o.Stderr, "tokenloom: stream %d (%s): %s\n", i+1, res.name, res.end.Message)
			if res.end.Hint != "" {
				fmt.Fprintf(o.Stderr, "  hint: %s\n", res.end.Hint)
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		return created, ExitInterrupted
	case failed:
		return created, ExitStreamError
	}
	return created, ExitOK
}

// printJSONEvent writes one NDJSON line: the event with its stream.
func printJSONEvent(w io.Writer, s wire.StreamCreated, ev client.Event) {
	data := json.RawMessage(ev.Raw)
	if ev.Local {
		data, _ = json.Marshal(map[string]any{"seq": ev.Seq, "message": ev.Message, "hint": ev.Hint, "local": true})
	}
	line, _ := json.Marshal(struct {
		Stream   string          `json:"stream"`
		Index    int             `json:"index"`
		Model    string          `json:"model"`
		Endpoint string          `json:"endpoint,omitempty"`
		Event    string          `json:"event"`
		ID       int64           `json:"id"`
		Data     json.RawMessage `json:"data"`
	}{s.ID, s.Index, s.Model, s.Endpoint, ev.Type, ev.Seq, data})
	fmt.Fprintf(w, "%s\n", bytes.TrimSpace(line))
}

// printJSONLine writes v as one NDJSON line, its HTML characters as they are.
// Like the events' data, it keeps "<" and "&" as they are.
func printJSONLine(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// printAPIError prints a refusal of the server as a sentence and a hint.
func printAPIError(w io.Writer, err error) {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Fprintf(w, "tokenloom: %s\n", apiErr.Message)
		if apiErr.Hint != "" {
			fmt.Fprintf(w, "  hint: %s\n", apiErr.Hint)
		}
		return
	}
	fmt.Fprintf(w, "tokenloom: %v\n", err)
}
