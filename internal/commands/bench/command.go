package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenloom/tokenloom/internal/commands/cli"
)

// usage is the help text of `tokenloom bench`.
const usage = `Usage: tokenloom bench [--json] [flags]

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
Missed targets are marked MISSED; with --check they set the exit status.
`

// Command carries out `tokenloom bench` with the command line args (after
// "bench") and returns the exit status.
func Command(ctx context.Context, args []string, env cli.Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	fs := cli.NewFlagSet("bench", cli.Help(usage, cli.ExitOK, cli.ExitUsage, cli.ExitFailed, cli.ExitMissedTarget), stderr)
	c := DefaultConfig()
	var asJSON, check bool
	var part, size, skip string
	fs.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	fs.BoolVar(&check, "check", false, fmt.Sprintf("exit with status %d when a measured figure misses its target", cli.ExitMissedTarget))
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
	if code, done := cli.ParseFlagsOnly(fs, args, stderr, ""); done {
		return code
	}
	var err error
	if c.Width, c.Height, err = cli.ParseSize(size); err != nil {
		fmt.Fprintf(stderr, "tokenloom bench: --size %v\n", err)
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
		if err := RunChild(ctx, part, c, env.Version, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "tokenloom bench --child %s: %v\n", part, err)
			return cli.ExitFailed
		}
		return cli.ExitOK
	}
	f, err := Run(ctx, c, env.Version, asJSON, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom bench: %v\n", err)
		return cli.ExitFailed
	}
	return exitStatus(f, check)
}

// exitStatus is the exit status of a bench that measured f: with check,
// cli.ExitMissedTarget when a figure missed its target.
func exitStatus(f *Figures, check bool) int {
	if check && !f.Met() {
		return cli.ExitMissedTarget
	}
	return cli.ExitOK
}
