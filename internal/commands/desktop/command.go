package desktop

import (
	"context"
	"flag"
	"fmt"

	"github.com/tokenloom/tokenloom/internal/commands/cli"
)

// Command opens the desktop app with the command line args (its flags
// only) and returns the exit status; usage is the program's help, which
// --help prints.
func Command(ctx context.Context, args []string, env cli.Env, usage string) int {
	fs := flag.NewFlagSet("tokenloom", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	o := Options{Version: env.Version, Stderr: env.Stderr}
	fs.BoolVar(&o.AutoRun, "run", false, "start a run with the saved panes at launch")
	fs.StringVar(&o.OllamaURL, "ollama", "", "Ollama's `URL` (default: the saved setting, OLLAMA_HOST, else http://127.0.0.1:11434)")
	cli.EndpointFlag(fs, &o.Endpoints)
	if code, done := cli.ParseFlags(fs, args); done {
		return code
	}
	return Run(ctx, o)
}
