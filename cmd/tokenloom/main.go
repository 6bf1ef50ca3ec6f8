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
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tokenloom/tokenloom/internal/commands/bench"
	"github.com/tokenloom/tokenloom/internal/commands/cli"
	"github.com/tokenloom/tokenloom/internal/commands/desktop"
	_ "github.com/tokenloom/tokenloom/internal/commands/localefix" // before Fyne reads the locale
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

// mainHelp is what tokenloom --help prints: the commands, then every exit
// status.
var mainHelp = mainUsage + "\n" + cli.ExitHelp()

// commands are the subcommands by name; each parses its own flags.
var commands = map[string]func(ctx context.Context, args []string, env cli.Env) int{
	"run":     cli.RunCommand,
	"replay":  cli.ReplayCommand,
	"history": cli.HistoryCommand,
	"sweep":   cli.SweepCommand,
	"serve":   cli.ServeCommand,
	"bench":   bench.Command,
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Version: buildVersion()}

	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0]) && args[0] != "--version") {
		return desktop.Command(ctx, args, env, mainHelp)
	}
	if command, ok := commands[args[0]]; ok {
		return command(ctx, args[1:], env)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if command, ok := commands[args[1]]; ok {
				return command(ctx, []string{"--help"}, env)
			}
		}
		fmt.Fprint(stdout, mainHelp)
		return cli.ExitOK
	case "version", "--version":
		fmt.Fprintln(stdout, "tokenloom", buildVersion())
		return cli.ExitOK
	default:
		fmt.Fprintf(stderr, "tokenloom: unknown command %q\n\n%s", args[0], mainHelp)
		return cli.ExitUsage
	}
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
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
