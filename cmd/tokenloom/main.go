// Command tokenloom makes asynchronous token streams visible: it streams one
// prompt through several models at once (local Ollama models or built-in demo
// sources) over a local SSE server, and shows the streams side by side.
//
//	tokenloom             the desktop app
//	tokenloom run ...     the streams in this terminal
//	tokenloom replay ...  a saved run played back in this terminal
//	tokenloom history ... the runs kept in the history: list, show, diff, export, rm
//	tokenloom sweep ...   one model at 1, 2, 4, 8 streams at once: what async buys it
//	tokenloom serve ...   the SSE server alone
//	tokenloom bench ...   the performance figures
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/tokenloom/tokenloom/internal/commands/bench"
	"github.com/tokenloom/tokenloom/internal/commands/cli"
	"github.com/tokenloom/tokenloom/internal/commands/desktop"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	_ "github.com/tokenloom/tokenloom/internal/commands/localefix" // before Fyne reads the locale
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/services/sweep"
)

// version is set at build time with -ldflags "-X main.version=..."; by
// default it comes from the module's build information.
var version = ""

const mainUsage = `Tokenloom makes asynchronous token streams visible: one prompt, several
models at once, every token shown as it arrives.

Usage:
  tokenloom [flags]         open the desktop app (--run: start the run at once; --ollama URL)
  tokenloom run [flags]     stream a prompt through several models in this terminal
  tokenloom replay FILE     play a run saved with run --save FILE.json back, with its timing
  tokenloom history ...     the runs run has recorded: list, search, show, diff, export, rm, import
  tokenloom sweep -m MODEL  one model at 1, 2, 4 and 8 streams at once: what async buys it
  tokenloom serve [flags]   run the streaming server alone, for curl, browsers and other clients
  tokenloom bench [--json]  measure the UI, start-up and relay against their performance targets
  tokenloom help [command]  show help for a command

Models: the demo sources (demo/hello, demo/hamlet, demo/task1, demo/task2, demo/shared,
demo/oneslot, demo/flood, demo/echo, demo/think) are built in and need nothing else. Any model of your local Ollama works too; Tokenloom finds
Ollama through OLLAMA_HOST (default http://127.0.0.1:11434). Other model servers are
named endpoints, of kind ollama or openai (vLLM, LM Studio, llama-server and other
OpenAI-compatible servers): --endpoint NAME=KIND:URL on the app, run and serve, or
the file endpoints.json in the config folder; -m MODEL@NAME streams from one.

Examples:
  tokenloom run -p hi                                 demo/hello and demo/hamlet at once: about 3 s
  tokenloom run -m demo/hello -m demo/hamlet --sync -p hi   one after the other: about 5 s
  tokenloom run --compare -p hi --timeline lesson.svg   both, and what async saved: about 2 s
  tokenloom run -m llama3.2 -m qwen2.5:0.5b -p "Why is the sky blue?"
  tokenloom run -p hi --save run.json                 save the run (or --save run.md: a report)
  tokenloom replay run.json --speed 2                 play it back at twice the speed
  tokenloom run --compare -m demo/shared -m demo/shared -p hi   streams that share one engine
  tokenloom sweep -m demo/task1 --picture sweep.svg   1, 2, 4, 8 streams at once: what async buys
  tokenloom serve
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0]) && args[0] != "--version") {
		return guiCmd(ctx, args, stderr)
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdin, stdout, stderr)
	case "replay":
		return replayCmd(ctx, args[1:], stdout, stderr)
	case "history":
		return historyCmd(ctx, args[1:], stdout, stderr)
	case "sweep":
		return sweepCmd(ctx, args[1:], stdout, stderr)
	case "serve":
		return serveCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && slices.Contains([]string{"run", "replay", "history", "sweep", "serve", "bench"}, args[1]) {
			return realMain([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, "tokenloom", buildVersion())
		return 0
	default:
		fmt.Fprintf(stderr, "tokenloom: unknown command %q\n\n%s", args[0], mainUsage)
		return cli.ExitUsage
	}
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

func guiCmd(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("tokenloom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), mainUsage) }
	var o desktop.Options
	fs.BoolVar(&o.AutoRun, "run", false, "start a run with the saved panes at launch")
	fs.StringVar(&o.OllamaURL, "ollama", "", "Ollama's `URL` (default: the saved setting, OLLAMA_HOST, else http://127.0.0.1:11434)")
	endpointFlag(fs, &o.Endpoints)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	o.Version = buildVersion()
	o.Stderr = stderr
	return desktop.Run(ctx, o)
}

const runUsage = `Usage: tokenloom run [-m MODEL]... [-p PROMPT] [flags]

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
The exit status is 1 when a stream ends in an error (the error is printed on
standard error), 2 when the run could not start or could not be saved.

Flags:
`

func runCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", runUsage, stderr)
	var o cli.RunOptions
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
		t, err := cli.ParseThink(s)
		o.Think = t
		return err
	})
	fs.BoolVar(&o.HideThinking, "hide-thinking", false, "leave thinking models' reasoning out of the text (it is printed faint on a terminal)")
	fs.BoolVar(&o.JSON, "json", false, "print the events as NDJSON, one object per line, then the run's summary, instead of text")
	fs.StringVar(&o.Save, "save", "", "save the run to `FILE` when it ends: .json (every event, to replay) or .md/.markdown (a report)")
	record := fs.Bool("history", true, "record the run in the history as it streams (see tokenloom history)")
	noHistory := fs.Bool("no-history", false, "do not record the run in the history (as --history=false)")
	ollamaFlag(fs, &o.OllamaURL)
	endpointFlag(fs, &o.Endpoints)
	if code, done := parseFlagsOnly(fs, args, stderr, " (quote the prompt and pass it with -p)"); done {
		return code
	}
	if *record && !*noHistory {
		o.History = cli.HistoryFile(stderr)
	}
	if o.Continue != "" {
		o.ContinueFrom = o.History
		if o.ContinueFrom == "" {
			o.ContinueFrom = cli.HistoryFile(stderr)
		}
	}
	o.Version = buildVersion()
	o.Stdin, o.Stdout, o.Stderr = stdin, stdout, stderr
	o.Color = colorWanted(stdout)
	o.TrueColor = palette.TrueColor(os.Getenv("COLORTERM"))
	return cli.Run(ctx, o)
}

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
The exit status is 1 when a step could not run (an unknown model, the server gone),
2 when the sweep could not start, 130 when it was stopped.

Flags:
`

func sweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sweep", sweepUsage, stderr)
	var o cli.SweepOptions
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
	endpointFlag(fs, &o.Endpoints)
	if code, done := parseFlagsOnly(fs, args, stderr, " (quote the prompt and pass it with -p)"); done {
		return code
	}
	if !*noHistory {
		o.History = cli.HistoryFile(stderr)
	}
	if *list {
		return cli.ListSweeps(ctx, o.History, o.JSON, stdout, stderr)
	}
	if o.Model == "" && o.Open == "" {
		fmt.Fprintln(stderr, "tokenloom sweep: name the model to sweep with -m MODEL (tokenloom sweep --help)")
		return cli.ExitUsage
	}
	o.Version = buildVersion()
	o.Stdout, o.Stderr = stdout, stderr
	o.Progress = !o.JSON && colorWanted(stderr)
	return cli.Sweep(ctx, o)
}

const replayUsage = `Usage: tokenloom replay FILE [--speed N] [--json]

Plays back a run saved as JSON (by tokenloom run --save FILE.json or the app's
export) through the embedded server, with its original timing divided by the
speed, and prints it like tokenloom run: each stream in its colour, then the
table per stream and the run's wall time. No model is needed: the tokens come
from the file. The exit status is 1 when a replayed stream ends in an error, as
it did in the original run, 2 when the file cannot be replayed.

Flags:
`

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("replay", replayUsage, stderr)
	var o cli.ReplayOptions
	fs.Float64Var(&o.Speed, "speed", 1, "playback rate `N`: 1 is the original timing, 2 twice as fast (from 0.0625, i.e. 1/16, to 16)")
	fs.BoolVar(&o.JSON, "json", false, "print the events as NDJSON, one object per line, then the run's summary, instead of text")
	// The file may come before the flags: tokenloom replay run.json --speed 2.
	var files []string
	for {
		if code, done := parseFlags(fs, args); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "tokenloom replay: want one FILE, got %d (tokenloom replay run.json)\n", len(files))
		return cli.ExitUsage
	}
	o.Path = files[0]
	o.Version = buildVersion()
	o.Stdout, o.Stderr = stdout, stderr
	o.Color = colorWanted(stdout)
	o.TrueColor = palette.TrueColor(os.Getenv("COLORTERM"))
	return cli.Replay(ctx, o)
}

const historyUsage = `Usage: tokenloom history COMMAND [flags]

Every run of tokenloom run is kept in the history, a database written as the run
streams: a run cut off (the process killed, the machine down) keeps its events up
to the last tenth of a second or so, and is marked incomplete the next time the
history is opened. The oldest runs are deleted beyond 512 MiB.

Commands:
  list [--search TEXT] [--limit N] [--json]
                       the runs, newest first: id, start, mode, wall time, state
                       (finished, incomplete, or running in another process),
                       models and prompt; --search keeps the runs whose prompt or
                       answers hold every word of TEXT (the last word may be the
                       start of one; case and accents do not matter), the best
                       matches first, each with the words in their context
  show ID [--json]     the run as a report: the figures per stream and the texts
                       (--json: its transcript, every event with its time)
  diff A B [--json]    the answers of two streams word by word: A and B are
                       ID:N, stream N of a run as show numbers them, or ID, its
                       first stream (ID:1 ID:2 sets two panes of a run side by
                       side, ID1 ID2 two runs); the words of A alone are red or
                       [-marked-], those of B green or {+marked+}, then how many
                       words are the same (--json: the parts and the counts)
  export ID FILE       save the run to FILE.json (to open in the app or replay) or
                       FILE.md / FILE.markdown (a report)
  rm ID...             delete runs
  import FILE.json...  add runs saved with run --save FILE.json or the app's export

The history is the file TOKENLOOM_HISTORY names, else history.db in the tokenloom
folder of the user's data folder ($XDG_DATA_HOME or ~/.local/share on Linux,
~/Library/Application Support on macOS, %AppData% on Windows). The exit status is
1 when a run is not there or could not be read or written, 2 when the history
cannot be opened or the command is wrong.
`

func historyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		fmt.Fprint(w, historyUsage)
		if len(args) == 0 {
			return cli.ExitUsage
		}
		return 0
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("history "+sub, historyUsage, stderr)
	o := cli.HistoryOptions{Stdout: stdout, Stderr: stderr}
	var search string
	var limit int
	want := map[string][2]int{"list": {0, 0}, "show": {1, 1}, "diff": {2, 2}, "export": {2, 2}, "rm": {1, -1}, "import": {1, -1}} // args, at least and at most
	n, ok := want[sub]
	if !ok {
		fmt.Fprintf(stderr, "tokenloom history: unknown command %q: want list, show, diff, export, rm or import\n", sub)
		return cli.ExitUsage
	}
	switch sub {
	case "list":
		fs.StringVar(&search, "search", "", "keep the runs whose prompt or answers hold every word of `TEXT`, best matches first")
		fs.IntVar(&limit, "limit", 100, "show at most `N` runs")
		fs.BoolVar(&o.JSON, "json", false, "print the runs as a JSON array")
	case "show":
		fs.BoolVar(&o.JSON, "json", false, "print the run's transcript as JSON instead of a report")
	case "diff":
		fs.BoolVar(&o.JSON, "json", false, "print the streams, the parts of the diff and the counts of words as one JSON object")
	}
	// Flags may come after the arguments: tokenloom history show r_1 --json.
	var rest []string
	for {
		if code, done := parseFlags(fs, args); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) < n[0] || (n[1] >= 0 && len(rest) > n[1]) {
		fmt.Fprintf(stderr, "tokenloom history %s: wrong number of arguments (%d)\n\n%s", sub, len(rest), historyUsage)
		return cli.ExitUsage
	}
	o.Path = cli.HistoryFile(stderr)
	switch sub {
	case "list":
		return cli.HistoryList(ctx, o, search, limit)
	case "show":
		return cli.HistoryShow(ctx, o, rest[0])
	case "diff":
		o.Color = colorWanted(stdout)
		return cli.HistoryDiff(ctx, o, rest[0], rest[1])
	case "export":
		return cli.HistoryExport(ctx, o, rest[0], rest[1])
	case "rm":
		return cli.HistoryRemove(ctx, o, rest)
	default:
		return cli.HistoryImport(ctx, o, rest)
	}
}

const serveUsage = `Usage: tokenloom serve [--addr HOST:PORT]

Runs Tokenloom's streaming server alone, on a loopback address only. Start runs
with POST /api/runs and follow their streams with GET /events?stream=ID
(Server-Sent Events); the server prints ready-to-paste curl commands. Ctrl+C stops it.
A stream names an endpoint of --endpoint or endpoints.json with "endpoint":"NAME";
GET /api/models lists each endpoint's models and whether it answers.

Flags:
`

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", serveUsage, stderr)
	var o cli.ServeOptions
	fs.StringVar(&o.Addr, "addr", cli.DefaultServeAddr, "loopback `HOST:PORT` to listen on (port 0: any free port)")
	ollamaFlag(fs, &o.OllamaURL)
	endpointFlag(fs, &o.Endpoints)
	if code, done := parseFlagsOnly(fs, args, stderr, ""); done {
		return code
	}
	o.Version = buildVersion()
	o.Stdout, o.Stderr = stdout, stderr
	return cli.Serve(ctx, o)
}

const benchUsage = `Usage: tokenloom bench [--json] [flags]

Measures Tokenloom against its performance targets and prints the figures:
  UI        8 panes of demo/flood at 200 tokens/s until 20,000 tokens each, in a
            real 1280x800 window: latency from each token's arrival at the client
            to the frame that paints it (p99 of the first and of the last 1,000
            tokens of each stream: at most 50 ms, and no more than 1.5x apart),
            CPU (under one core) and peak RSS (at most 300 MB); about 100 s
  start-up  from launching tokenloom to the first frame of a window whose two
            demo panes are ready to run: at most 1.5 s (median of 5 launches)
  relay     tokens per second through the server and one SSE client per stream,
            8 demo/flood streams on loopback: at least 100,000
  browser   the UI part's streams in a minimal web page in Chromium at the same
            size (one element per stream, a text node per token from an
            EventSource): latency from each token's arrival at the browser to
            the first animation frame after its append, beside the UI's (no
            target). It runs with the UI part; without Chromium it is skipped
            with a note (scripts/bench.sh installs it).
  overhead  per token, how much later the client has it than a reader of
            Ollama's reply (a tap between the server and Ollama sees each line
            as it comes off the wire). Paced: the tap holds the lines and
            releases them at 50 tokens/s on each of 8 streams, the overhead
            counted from each release: p99 at most 1 ms. Saturated: the tiny
            model as fast as it goes (both cores busy), no target. It needs an
            Ollama at OLLAMA_HOST that serves the tiny test model
            (scripts/bench.sh starts one); otherwise it is skipped with a note.
  soak      64 demo/flood streams of 250,000 events at once, as fast as they go,
            against the server's 256 MiB budget for event logs, then the eviction
            of the runs: peak RSS (at most 640 MB) and RSS 1 s after the eviction
            (at most 64 MB)
  endpoints 32 streams at once (two runs of 16) over two OpenAI-compatible
            endpoints on loopback that send tokens as fast as they can: tokens
            per second through the OpenAI source, the server and the clients
The UI, start-up and soak parts run in child processes (tokenloom bench --child
ui, startup or soak); the UI, start-up and browser parts need a display; without
one, run it under
  xvfb-run -a -s "-screen 0 1280x800x24" tokenloom bench
Missed targets are marked MISSED; the exit status is 1 then (with --check), 2
when a part could not be measured.

Flags:
`

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", benchUsage, stderr)
	c := bench.DefaultConfig()
	var asJSON, check bool
	var part, size, skip string
	fs.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	fs.BoolVar(&check, "check", false, "exit with status 1 when a measured figure misses its target")
	fs.IntVar(&c.Streams, "streams", c.Streams, "UI: `N` panes of demo/flood (1 to 8)")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "UI: tokens per second of each pane")
	fs.IntVar(&c.Tokens, "tokens", c.Tokens, "UI: tokens per pane")
	fs.StringVar(&size, "size", fmt.Sprintf("%dx%d", c.Width, c.Height), "UI: window size `WxH`")
	fs.IntVar(&c.StartupRuns, "startup-runs", c.StartupRuns, "start-up: launches to take the median of (one more warms up)")
	fs.IntVar(&c.RelayTokens, "relay-tokens", c.RelayTokens, "relay: tokens per stream")
	fs.IntVar(&c.RelayRounds, "relay-rounds", c.RelayRounds, "relay: rounds to take the median of")
	fs.StringVar(&c.Model, "model", c.Model, "overhead: the Ollama `MODEL` (it must recite counting after the prompt \"one\")")
	fs.IntVar(&c.OverheadTokens, "overhead-tokens", c.OverheadTokens, "overhead: tokens per round")
	fs.IntVar(&c.OverheadRounds, "overhead-rounds", c.OverheadRounds, "overhead: rounds measured (one more loads the model)")
	fs.IntVar(&c.PacedTokens, "paced-tokens", c.PacedTokens, "overhead, paced: tokens per stream (1 to 2000)")
	fs.Float64Var(&c.PacedRate, "paced-rate", c.PacedRate, "overhead, paced: tokens per second of each stream")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "UI: write a CPU profile of the window's process to `FILE` (go tool pprof)")
	fs.StringVar(&c.MemProfile, "memprofile", "", "UI: write a heap profile of the window's process at the end of its run to `FILE`")
	fs.IntVar(&c.SoakStreams, "soak-streams", c.SoakStreams, "soak: `N` streams at once (1 to 64)")
	fs.IntVar(&c.SoakEvents, "soak-events", c.SoakEvents, "soak: events per stream (3 to 250000)")
	fs.IntVar(&c.EndpointTokens, "endpoint-tokens", c.EndpointTokens, "endpoints: tokens per stream (1 to 200000)")
	fs.StringVar(&skip, "skip", "", "parts not to run, comma-separated: ui, startup, relay, overhead, soak, endpoints, browser (skipping ui skips browser too)")
	fs.StringVar(&part, "child", "", "run one `PART` (ui, startup or soak) in this process and print its raw result (used by bench itself)")
	if code, done := parseFlagsOnly(fs, args, stderr, ""); done {
		return code
	}
	if _, err := fmt.Sscanf(size, "%dx%d", &c.Width, &c.Height); err != nil || c.Width < 1 || c.Height < 1 {
		fmt.Fprintf(stderr, "tokenloom bench: --size %q: want WIDTHxHEIGHT, such as 1280x800\n", size)
		return cli.ExitUsage
	}
	if skip != "" {
		c.Skip = strings.Split(skip, ",")
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "tokenloom bench: %v\n", err)
		return cli.ExitUsage
	}
	if part != "" {
		if err := bench.RunChild(ctx, part, c, buildVersion(), stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "tokenloom bench --child %s: %v\n", part, err)
			return 2
		}
		return 0
	}
	f, err := bench.Run(ctx, c, buildVersion(), asJSON, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom bench: %v\n", err)
		return 2
	}
	if check && !f.Met() {
		return 1
	}
	return 0
}

// newFlagSet is a subcommand's flag set: its help is usage and the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; done is true when the command should exit with code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		return cli.ExitUsage, true
	}
	return 0, false
}

// parseFlagsOnly parses the args of a command that takes flags only: an
// argument left over is refused, the message followed by hint.
func parseFlagsOnly(fs *flag.FlagSet, args []string, stderr io.Writer, hint string) (code int, done bool) {
	if code, done := parseFlags(fs, args); done {
		return code, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tokenloom %s: unexpected argument %q%s\n", fs.Name(), fs.Arg(0), hint)
		return cli.ExitUsage, true
	}
	return 0, false
}

// intFlag adds the flag name, a whole number that is nil unless given.
func intFlag(fs *flag.FlagSet, name, usage string, v **int) {
	fs.Func(name, usage, func(s string) error {
		n, err := strconv.Atoi(s)
		*v = &n
		return err
	})
}

// temperatureFlag adds --temperature, nil unless given.
func temperatureFlag(fs *flag.FlagSet, v **float64) {
	fs.Func("temperature", "sampling temperature `T`, 0 to 2 (default: the model's)", func(s string) error {
		t, err := strconv.ParseFloat(s, 64)
		*v = &t
		return err
	})
}

// pictureSizeFlag adds the flag name, a picture's size WxH, to a command
// that saves one.
func pictureSizeFlag(fs *flag.FlagSet, name string, size *[2]int) {
	fs.Func(name, "the picture's size in pixels, `WxH` (default 1600x900)", func(s string) error {
		w, h, ok := strings.Cut(strings.ToLower(s), "x")
		wi, werr := strconv.Atoi(w)
		hi, herr := strconv.Atoi(h)
		if !ok || werr != nil || herr != nil || wi < 320 || hi < 200 || wi > 4000 || hi > 3000 {
			return fmt.Errorf("want WIDTHxHEIGHT in pixels, 320x200 to 4000x3000, such as 1600x900")
		}
		*size = [2]int{wi, hi}
		return nil
	})
}

// ollamaFlag adds --ollama to a command that starts its own server.
func ollamaFlag(fs *flag.FlagSet, url *string) {
	fs.StringVar(url, "ollama", "", "Ollama's `URL` (default: OLLAMA_HOST, else http://127.0.0.1:11434)")
}

// endpointFlag adds --endpoint, repeatable, to a command that starts its
// own server.
func endpointFlag(fs *flag.FlagSet, eps *[]endpoints.Endpoint) {
	fs.Func("endpoint", "a model server besides the local Ollama, `"+endpoints.FlagSyntax+"`: KIND is ollama or openai "+
		"(e.g. gpu=openai:http://10.0.0.5:8000/v1,key=env:VLLM_KEY); repeat for several; they add to or replace those of "+endpointsFile(), func(s string) error {
		e, err := endpoints.Parse(s)
		*eps = append(*eps, e)
		return err
	})
}

// endpointsFile names the endpoints file for a help text.
func endpointsFile() string {
	if p, err := endpoints.File(); err == nil {
		return p
	}
	return endpoints.FileName + " in the user's config folder"
}

// colorWanted reports whether w is a terminal that wants colour.
func colorWanted(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "dev"
}
