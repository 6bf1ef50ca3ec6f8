// Package cli carries out the subcommands of cmd/tokenloom: `run` streams a
// prompt through several models in a terminal (and can save the run),
// `replay` plays a saved run back the same way, `history` reads the runs
// recorded, `sweep` runs one model at more and more streams at once, `serve`
// runs the SSE server alone. Each command's file holds its help text, its
// flags (XxxCommand) and what it does (Xxx, with XxxOptions). They use the
// embedded server and the client package, the same path as the desktop app.
// The command line's shared parts (Env, the flag helpers, the exit
// statuses) serve the app's and the bench's commands too.
package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
)

// runUsage is the help text of `tokenloom run`.
const runUsage = `Usage: tokenloom run [-m MODEL[@ENDPOINT]]... [-p PROMPT] [flags]

Streams one prompt through every model given with -m, all at once (async) or one
after another (--sync), and prints the tokens as they arrive, each stream in its
own colour. Then a table per stream: tokens, time to first token (TTFT), tokens
per second, duration and why it ended (and the time queued and busy when a stream
waited in its model server's queue), and the run's wall time next to its work: the
time the model servers spent on the streams that finished, by their own clocks where
they send them (Ollama does), never a stream's wait in a queue. A speed-up is claimed
only for work that really overlapped.

Without -p the prompt is read from standard input, up to Ctrl+D. Without -m the demo
sources demo/hello and demo/hamlet are used. -m MODEL@NAME streams from the endpoint
NAME (--endpoint, or endpoints.json in the config folder). With --sync each stream
starts on a line of its own. The reasoning of thinking models (--think on; Ollama 0.12 and later think
by default) is printed faint before their answers on a terminal, and left out when the
output is not a terminal or with --hide-thinking; --json always has it, as thinking
events. Colours are off when the output is not a terminal or NO_COLOR is set; each
line of text then begins with its stream's label, such as [1 demo/hello], when there
are several streams. --json prints every event as one JSON object per line, then the
run's summary as the last: {"event":"summary","mode":...,"wall_ms":...,"work_ms":...,
"busy_ms":...,"overlap_ms":...,"saved_ms":...,"speedup":...,"headline":...,"streams":
[{"model":...,"end":...,"tokens":...,"ttft_ms":...,"tokens_per_s":...,"duration_ms":...,
"queued_ms":...,"busy_ms":...,"clock":...},...]} (speedup null unless claimed), with a
"note", and a stream's "error" and "hint", when there is something to say.
--compare runs the streams one after another, then all at once, prints both, then
both wall times, what async saved and a few sentences read from the figures that name
what async bought: the streams waited (each ran as fast as alone), shared the machine
(each slower), or were queued by a server that answers one request at a time; with
--json its last line is {"event":"comparison","sync_wall_ms":...,"async_wall_ms":...,
"saved_ms":...,"saved":...,"regime":...,"lesson":...,"sentences":[...]}.
--save FILE writes the run once it has ended (with --compare, the async run):
FILE.json holds every event with its time (open it in the app, or tokenloom replay
FILE.json), FILE.md or FILE.markdown is a readable report (figures per stream, the
options and the texts). --timeline FILE.svg (or .png) saves a picture of the run's
timeline (with --compare, both runs on one clock), 1600×900 unless --timeline-size
says otherwise.
Each run is recorded in the history as it streams (tokenloom history list shows
the runs): in TOKENLOOM_HISTORY when it names a file, else history.db in the
tokenloom folder of the user's data folder; --no-history, or TOKENLOOM_HISTORY=off,
records nothing.
--continue ID (or --continue last) sends the prompt as a follow-up to a run of the
history: each stream goes on from its own conversation (the run's earlier turns and
its own answer, never another stream's), with the run's models, endpoints, options
and system prompt; -m is refused, --max-tokens and the like replace the options.
tokenloom history show ID shows the conversation so far.
A stream's error is printed on standard error, with a hint when there is one.
`

// RunCommand carries out `tokenloom run` with the command line args (after
// "run") and returns the exit status.
func RunCommand(ctx context.Context, args []string, env Env) int {
	fs := NewFlagSet("run", Help(runUsage, ExitOK, ExitStreamError, ExitUsage, ExitNotFound, ExitFailed, ExitInterrupted), env.Stderr)
	var o RunOptions
	fs.Func("m", "a `MODEL` to stream from, or MODEL@ENDPOINT; repeat for several streams (default demo/hello and demo/hamlet)", func(s string) error {
		o.Models = append(o.Models, s)
		return nil
	})
	fs.Func("p", "the `PROMPT` (default: read from standard input)", func(s string) error {
		o.Prompt, o.PromptSet = s, true
		return nil
	})
	fs.StringVar(&o.System, "system", "", "a system `PROMPT` for every stream")
	fs.StringVar(&o.Continue, "continue", "", "send the prompt as a follow-up to run `ID` of the history (or last: the newest), each stream with its own conversation, models and options")
	fs.BoolVar(&o.Sync, "sync", false, "run the streams one after another instead of all at once")
	fs.BoolVar(&o.Compare, "compare", false, "run the streams one after another, then all at once, and say what async saved")
	fs.StringVar(&o.Timeline, "timeline", "", "save a picture of the run's timeline to `FILE` (.svg or .png)")
	pictureSizeFlag(fs, "timeline-size", &o.TimelineSize)
	intFlag(fs, "max-tokens", "stop each stream after `N` tokens (Ollama's num_predict; -1: no limit)", &o.MaxTokens)
	temperatureFlag(fs, &o.Temperature)
	fs.Func("seed", "random seed `N` for repeatable sampling (default: the model's)", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 64)
		o.Seed = &n
		return err
	})
	fs.Func("think", "ask thinking models to reason first: `on`, off, or low, medium, high for those that take levels (default: the model's)", func(s string) error {
		t, err := ParseThink(s)
		o.Think = t
		return err
	})
	fs.BoolVar(&o.HideThinking, "hide-thinking", false, "leave thinking models' reasoning out of the text (it is printed faint on a terminal)")
	fs.BoolVar(&o.JSON, "json", false, "print the events as NDJSON, one object per line, then the run's summary, instead of text")
	fs.StringVar(&o.Save, "save", "", "save the run to `FILE` when it ends: .json (every event, to replay) or .md/.markdown (a report)")
	record := fs.Bool("history", true, "record the run in the history as it streams (see tokenloom history)")
	noHistory := fs.Bool("no-history", false, "do not record the run in the history (as --history=false)")
	ollamaFlag(fs, &o.OllamaURL)
	EndpointFlag(fs, &o.Endpoints)
	if code, done := ParseFlagsOnly(fs, args, env.Stderr, " (quote the prompt and pass it with -p)"); done {
		return code
	}
	if *record && !*noHistory {
		o.History = HistoryFile(env.Stderr)
	}
	if o.Continue != "" {
		// --no-history records nothing, yet a run of the history goes on.
		o.ContinueFrom = o.History
		if o.ContinueFrom == "" {
			o.ContinueFrom = HistoryFile(env.Stderr)
		}
	}
	o.Version = env.Version
	o.Stdin, o.Stdout, o.Stderr = env.Stdin, env.Stdout, env.Stderr
	o.Color = colorWanted(env.Stdout)
	o.TrueColor = trueColor()
	return Run(ctx, o)
}

// RunOptions are the settings of `tokenloom run`.
type RunOptions struct {
	// Models to stream from, one stream each, as MODEL or MODEL@ENDPOINT
	// (endpoints.ParseModelRef). Default: demo/hello and demo/hamlet.
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
	refs := make([]endpoints.ModelRef, len(o.Models))
	for i, m := range o.Models {
		r, err := endpoints.ParseModelRef(m)
		if err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: -m: %v\n", err)
			return ExitUsage
		}
		refs[i] = r
	}
	var saved *wire.Transcript
	if o.Continue != "" {
		var code int
		if saved, code = savedConversation(ctx, o.ContinueFrom, o.Continue, o.Stderr); saved == nil {
			return code
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
			return ExitFailed
		}
		o.Prompt = strings.TrimRight(string(b), "\r\n")
	}

	emb, code := startWithEndpoints(o.OllamaURL, o.Endpoints, o.Version, o.Stderr)
	if emb == nil {
		return code
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
		for _, r := range refs {
			req.Streams = append(req.Streams, wire.StreamSpec{Model: r.Model, Endpoint: r.Endpoint, Options: opts})
		}
	}
	out := output{JSON: o.JSON, Color: o.Color, TrueColor: o.TrueColor, HideThinking: o.HideThinking, Stdout: o.Stdout, Stderr: o.Stderr}
	var closeHistory func()
	out.history, closeHistory = openHistory(o.History, req, o.Stderr)
	defer closeHistory()
	var created *wire.RunCreated
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
		w, h := pictureSize(o.TimelineSize)
		if err := saveTimeline(cl, ids, o.Timeline, w, h); err != nil {
			printError(o.Stderr, fmt.Errorf("could not save the timeline: %w", err))
			return ExitFailed
		}
		fmt.Fprintf(o.Stderr, "saved the timeline to %s\n", o.Timeline)
	}
	if created == nil || o.Save == "" {
		return code
	}
	if err := saveRun(cl, created.ID, o.Save); err != nil {
		message, _ := client.Explain(err)
		printProblem(o.Stderr, "tokenloom: could not save the run: "+message, "check that the folder exists and that you may write there")
		return ExitFailed
	}
	fmt.Fprintf(o.Stderr, "saved %s\n", o.Save)
	return code
}

// promptFromStdinHint is said on stderr before the prompt is read from a
// terminal.
const promptFromStdinHint = "reading the prompt from standard input (end with Ctrl+D)"

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
