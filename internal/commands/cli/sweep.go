package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/services/sweep"
)

// sweepUsage is the help text of `tokenloom sweep`.
const sweepUsage = `Usage: tokenloom sweep -m MODEL[@ENDPOINT] [--streams 1,2,4,8] [--repeat R] [-p PROMPT] [flags]
       tokenloom sweep --list [--json]
       tokenloom sweep --open ID|last [--json] [--picture FILE]

Runs the same prompt on one model at 1, 2, 4 and 8 streams at once (--streams, at
most 16), each step --repeat times, one step after another, and prints per number
of streams the wall time, the aggregate tokens per second (every stream's tokens
over the wall time), the median stream's tokens per second (Ollama's eval rate
where it gives one), the time to first token (p50, p95) and the time the streams
waited in the model server's queue; then what that says: aggregate throughput that
grows with the streams (they only wait: a remote server, the demo tasks), grows and
flattens or stays put while each stream slows (they share the machine), or stays
put while streams queue (the server answers one request at a time: Ollama's
OLLAMA_NUM_PARALLEL=1, its default since 0.10).
On a terminal a progress line on standard error says which step runs; Ctrl+C stops
the sweep and prints the steps that ended. --json prints one object per step as it
ends ({"event":"step","streams":...,"repeat":...,"wall_ms":...,"tokens":...,
"aggregate_tokens_per_s":...,"per_stream_tokens_per_s":...,"ttft_p50_ms":...,
"ttft_p95_ms":...,"queued_ms":...,"queued_streams":...,"finished":...,"failed":...}),
then the sweep's ({"event":"sweep","points":[...],"regime":...,"sentences":[...]}).
--picture FILE.svg (or .png) saves the chart of both rates against the streams, with
their ideal lines, 1600×900 unless --picture-size says otherwise.
Each sweep is kept in the history as it goes on (see tokenloom history): --list
lists them, --open ID (or last) shows one again; --no-history keeps nothing.
A step that could not run (an unknown model, the server gone) ends the sweep.
`

// SweepCommand carries out `tokenloom sweep` with the command line args
// (after "sweep") and returns the exit status.
func SweepCommand(ctx context.Context, args []string, env Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	fs := NewFlagSet("sweep", Help(sweepUsage, ExitOK, ExitStreamError, ExitUsage, ExitNotFound, ExitFailed, ExitInterrupted), stderr)
	var o SweepOptions
	fs.StringVar(&o.Model, "m", "", "the `MODEL` to sweep, or MODEL@ENDPOINT")
	fs.StringVar(&o.Prompt, "p", sweep.DefaultPrompt, "every stream's `PROMPT`")
	fs.Func("streams", "the numbers of streams at once, `N,N,...` increasing, each 1 to 16 (default 1,2,4,8)", func(s string) error {
		ns, err := sweep.ParseStreams(s)
		o.Streams = ns
		return err
	})
	fs.IntVar(&o.Repeat, "repeat", 1, "run each step `R` times; the figures are the median")
	intFlag(fs, "max-tokens", fmt.Sprintf("the tokens each stream asks for, `N` (Ollama's num_predict; default %d)", sweep.DefaultMaxTokens), &o.MaxTokens)
	temperatureFlag(fs, &o.Temperature)
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per step, then the sweep's, instead of text")
	fs.StringVar(&o.Picture, "picture", "", "save the sweep's chart to `FILE` (.svg or .png)")
	pictureSizeFlag(fs, "picture-size", &o.PictureSize)
	fs.StringVar(&o.Open, "open", "", "show sweep `ID` of the history again (last: the newest) instead of running one")
	list := fs.Bool("list", false, "list the sweeps of the history, newest first")
	noHistory := fs.Bool("no-history", false, "do not keep the sweep in the history")
	ollamaFlag(fs, &o.OllamaURL)
	EndpointFlag(fs, &o.Endpoints)
	if code, done := ParseFlagsOnly(fs, args, stderr, " (quote the prompt and pass it with -p)"); done {
		return code
	}
	if !*noHistory {
		o.History = HistoryFile(stderr)
	}
	if *list {
		return ListSweeps(ctx, o.History, o.JSON, stdout, stderr)
	}
	if o.Model == "" && o.Open == "" {
		fmt.Fprintln(stderr, "tokenloom sweep: name the model to sweep with -m MODEL (tokenloom sweep --help)")
		return ExitUsage
	}
	o.Version = env.Version
	o.Stdout, o.Stderr = stdout, stderr
	o.Progress = !o.JSON && colorWanted(stderr)
	return Sweep(ctx, o)
}

// SweepOptions are the settings of `tokenloom sweep`.
type SweepOptions struct {
	// Model is MODEL or MODEL@ENDPOINT (endpoints.ParseModelRef).
	Model string
	// Streams are the numbers of streams at once of the steps; default
	// sweep.DefaultStreams.
	Streams []int
	// Repeat is how many times each step runs (default 1).
	Repeat int
	// Prompt is every stream's prompt.
	Prompt string
	// MaxTokens, Temperature and Seed set every stream's options; nil
	// MaxTokens is sweep.DefaultMaxTokens.
	MaxTokens   *int
	Temperature *float64
	Seed        *int64
	// JSON prints one object per step as it ends, then the sweep's.
	JSON bool
	// Picture, if set, is a file to save the sweep's chart to (.svg or
	// .png), at PictureSize (zero: TimelineWidth×TimelineHeight).
	Picture     string
	PictureSize [2]int
	// Open, if set, shows a sweep of the history (its id, or
	// history.LastSweep) instead of running one.
	Open string
	// History is the history database the sweep is kept in ("": not
	// kept), as it goes on.
	History string
	// Progress prints a line per step on Stderr as the sweep goes on,
	// rewritten in place (Stderr is a terminal).
	Progress bool
	// OllamaURL overrides OLLAMA_HOST; Endpoints are the --endpoint flags.
	OllamaURL string
	Endpoints []endpoints.Endpoint
	Version   string

	Stdout, Stderr io.Writer
}

// Sweep runs a concurrency sweep through the embedded server (or opens one
// of the history) and prints it: a row per number of streams and the
// sentences read from them. It returns the exit status: ExitStreamError
// when a step could not run, ExitInterrupted when ctx ended (the steps
// that ended are printed and kept).
func Sweep(ctx context.Context, o SweepOptions) int {
	if o.Picture != "" {
		if err := checkTimelinePath(o.Picture); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: --picture: %v\n", err)
			return ExitUsage
		}
	}
	if o.Open != "" {
		return openSweep(ctx, o)
	}
	ref, err := endpoints.ParseModelRef(o.Model)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom sweep: -m: %v\n", err)
		return ExitUsage
	}
	spec := sweep.Spec{Model: ref.Model, Endpoint: ref.Endpoint, Prompt: o.Prompt, Streams: o.Streams, Repeat: o.Repeat,
		Options: wire.Options{NumPredict: o.MaxTokens, Temperature: o.Temperature, Seed: o.Seed}}
	if spec.Streams == nil {
		spec.Streams = sweep.DefaultStreams
	}
	if spec.Repeat == 0 {
		spec.Repeat = 1
	}
	if spec.Options.NumPredict == nil {
		n := sweep.DefaultMaxTokens
		spec.Options.NumPredict = &n
	}
	if err := spec.Check(); err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom sweep: %v\n", err)
		return ExitUsage
	}
	emb, code := startWithEndpoints(o.OllamaURL, o.Endpoints, o.Version, o.Stderr)
	if emb == nil {
		return code
	}
	defer emb.Close()
	store, closeStore := openSweepStore(o.History, o.Stderr)
	defer closeStore()

	if !o.JSON {
		fmt.Fprintf(o.Stdout, "sweep of %s: the prompt %q, %s\n", spec.Name(), clip(spec.Prompt, 40), strings.TrimPrefix(sweepTitleTail(spec), ", "))
	}
	began := time.Now()
	keep := func(res *sweep.Result) {
		if store != nil && finishedAny(res) {
			if err := keepSweep(store, res); err != nil {
				fmt.Fprintf(o.Stderr, "tokenloom: history: %v\n", err)
			}
		}
	}
	r, err := sweep.Run(ctx, emb.Client, spec, sweep.Hooks{
		Started: func(k, total, n, repeat int, _ *wire.RunCreated) {
			if o.Progress {
				rep := ""
				if spec.Repeat > 1 {
					rep = fmt.Sprintf(", repeat %d of %d", repeat, spec.Repeat)
				}
				fmt.Fprintf(o.Stderr, "\r\x1b[Kstep %d of %d: %s at once%s · %s so far", k+1, total, figures.Plural(n, "stream"), rep, time.Since(began).Round(time.Second))
			}
		},
		Stepped: func(so *sweep.Result) {
			if o.JSON {
				printJSONLine(o.Stdout, struct {
					Event string `json:"event"`
					sweep.Step
				}{"step", so.Steps[len(so.Steps)-1]})
			}
			keep(so) // nothing lost if the sweep is cut off
		},
	})
	if o.Progress {
		fmt.Fprint(o.Stderr, "\r\x1b[K")
	}
	keep(r)
	switch {
	case ctx.Err() != nil:
		code = ExitInterrupted
	case err != nil:
		message, hint := client.Explain(err)
		printProblem(o.Stderr, "tokenloom sweep: "+message, hint)
		code = ExitStreamError
		if refusalStatus(err) == ExitUsage {
			code = ExitUsage // the server refused what the command line asked
		}
	}
	if !finishedAny(r) {
		return code // nothing to show: the error says why
	}
	if c := printSweep(o, r, store != nil); c != ExitOK {
		return c
	}
	return code
}

// finishedAny reports whether a step of r had a stream that finished.
func finishedAny(r *sweep.Result) bool {
	if r == nil {
		return false
	}
	for _, s := range r.Steps {
		if s.Finished > 0 {
			return true
		}
	}
	return false
}

// sweepTitleTail is what the sweep's title says after the model.
func sweepTitleTail(spec sweep.Spec) string {
	r := sweep.Result{Spec: spec}
	return strings.TrimPrefix(r.Title(), spec.Name()+" at ")
}

// openSweepStore opens the history for a sweep; nil when path is "" or it
// cannot be opened (said on stderr: the sweep goes on, not kept).
func openSweepStore(path string, stderr io.Writer) (*history.Store, func()) {
	if path == "" {
		return nil, func() {}
	}
	store, err := history.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: history: %v\n  this sweep is not kept (--no-history, or %s=off, turns the history off)\n", err, history.EnvVar)
		return nil, func() {}
	}
	return store, func() {
		if err := store.Close(); err != nil {
			fmt.Fprintf(stderr, "tokenloom: history: %v\n", err)
		}
	}
}

// keepSweep saves r in the history, as it stands.
func keepSweep(store *history.Store, r *sweep.Result) error {
	ctx, cancel := context.WithTimeout(context.Background(), history.BusyTimeout+5*time.Second)
	defer cancel()
	return sweep.Keep(ctx, store, r)
}

// openSweep prints a sweep of the history.
func openSweep(ctx context.Context, o SweepOptions) int {
	if o.History == "" {
		fmt.Fprintln(o.Stderr, "tokenloom sweep: --open reads the history, which is off")
		return ExitUsage
	}
	store, closeStore := openSweepStore(o.History, o.Stderr)
	defer closeStore()
	if store == nil {
		return ExitFailed
	}
	r, err := sweep.Kept(ctx, store, o.Open)
	if errors.Is(err, history.ErrNoSweep) {
		fmt.Fprintf(o.Stderr, "tokenloom sweep: no sweep %q in the history (tokenloom sweep --list shows them)\n", o.Open)
		return ExitNotFound
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom sweep: %v\n", err)
		return ExitFailed
	}
	if !o.JSON {
		fmt.Fprintf(o.Stdout, "sweep %s of %s, %s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04"), r.Title())
	}
	return printSweep(o, r, false)
}

// ListSweeps prints the sweeps of the history, newest first.
func ListSweeps(ctx context.Context, path string, jsonOut bool, stdout, stderr io.Writer) int {
	if path == "" {
		fmt.Fprintln(stderr, "tokenloom sweep: --list reads the history, which is off")
		return ExitUsage
	}
	store, closeStore := openSweepStore(path, stderr)
	defer closeStore()
	if store == nil {
		return ExitFailed
	}
	list, err := store.Sweeps(ctx, 0)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom sweep: %v\n", err)
		return ExitFailed
	}
	if jsonOut {
		for _, s := range list {
			printJSONLine(stdout, struct {
				ID        string    `json:"id"`
				StartedAt time.Time `json:"started_at"`
				Model     string    `json:"model"`
				Streams   string    `json:"streams"`
				Repeat    int       `json:"repeat"`
				Steps     int       `json:"steps"`
				Stopped   bool      `json:"stopped"`
			}{s.ID, s.StartedAt, s.Model, s.Streams, s.Repeat, s.Steps, s.Stopped})
		}
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no sweeps in the history yet: tokenloom sweep -m MODEL runs one")
		return ExitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tstarted\tmodel\tstreams\trepeat\tsteps\t")
	for _, s := range list {
		steps := fmt.Sprint(s.Steps)
		if s.Stopped {
			steps += " (stopped)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t\n", s.ID, s.StartedAt.Local().Format("2006-01-02 15:04"), s.Model, s.Streams, s.Repeat, steps)
	}
	_ = tw.Flush()
	return ExitOK
}

// printSweep prints r: the table and sentences, or with JSON its object;
// then saves its picture when asked. kept says it is in the history.
func printSweep(o SweepOptions, r *sweep.Result, kept bool) int {
	pts := r.Points()
	if o.JSON {
		printJSONLine(o.Stdout, struct {
			Event     string        `json:"event"`
			ID        string        `json:"id"`
			Model     string        `json:"model"`
			StartedAt time.Time     `json:"started_at"`
			Spec      sweep.Spec    `json:"spec"`
			Points    []sweep.Point `json:"points"`
			Regime    string        `json:"regime"`
			Sentences []string      `json:"sentences"`
			Stopped   bool          `json:"stopped"`
		}{"sweep", r.ID, r.Spec.Name(), r.StartedAt, r.Spec, pts, r.Regime().String(), r.Sentences(), r.Stopped})
	} else {
		var buf bytes.Buffer
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "streams\twall\taggregate tok/s\tper stream tok/s\tTTFT p50\tTTFT p95\tqueued\tfailed\t")
		for _, p := range pts {
			fmt.Fprintf(tw, "%d\t%.2f s\t%.1f\t%.1f\t%.0f ms\t%.0f ms\t%.2f s\t%d\t\n", p.Streams, p.WallMs/1000,
				p.AggregateTokensPerS, p.PerStreamTokensPerS, p.TTFTP50Ms, p.TTFTP95Ms, p.QueuedMs/1000, p.Failed)
		}
		_ = tw.Flush()
		fmt.Fprintln(o.Stdout)
		o.Stdout.Write(buf.Bytes())
		if r.Spec.Repeat > 1 {
			fmt.Fprintf(o.Stdout, "(the median of %d repeats; TTFT over all their streams)\n", r.Spec.Repeat)
		}
		fmt.Fprintln(o.Stdout)
		writeWrapped(o.Stdout, strings.Join(r.Sentences(), " "), 80)
		if r.Stopped {
			fmt.Fprintln(o.Stdout, "The sweep was stopped before its last step.")
		}
		if kept {
			fmt.Fprintf(o.Stdout, "kept in the history as %s (tokenloom sweep --open %s shows it again)\n", r.ID, r.ID)
		}
	}
	if o.Picture != "" {
		w, h := pictureSize(o.PictureSize)
		if err := diagram.Save(r.Chart(), o.Picture, w, h); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom: could not save the picture: %v\n", err)
			return ExitFailed
		}
		fmt.Fprintf(o.Stderr, "saved the picture to %s\n", o.Picture)
	}
	return ExitOK
}
