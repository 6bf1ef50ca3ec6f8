package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/server"
)

// DefaultServeAddr is where `tokenloom serve` listens by default.
const DefaultServeAddr = "127.0.0.1:8765"

// serveUsage is the help text of `tokenloom serve`.
const serveUsage = `Usage: tokenloom serve [--addr HOST:PORT]

Runs Tokenloom's streaming server alone, on a loopback address only. Start runs
with POST /api/runs and follow their streams with GET /events?stream=ID
(Server-Sent Events); the server prints ready-to-paste curl commands. Ctrl+C stops it
(exit status 0).
A stream names an endpoint of --endpoint or endpoints.json with "endpoint":"NAME";
GET /api/models lists each endpoint's models and whether it answers.
`

// ServeCommand carries out `tokenloom serve` with the command line args
// (after "serve") and returns the exit status.
func ServeCommand(ctx context.Context, args []string, env Env) int {
	fs := NewFlagSet("serve", Help(serveUsage, ExitOK, ExitUsage, ExitFailed), env.Stderr)
	var o ServeOptions
	fs.StringVar(&o.Addr, "addr", DefaultServeAddr, "loopback `HOST:PORT` to listen on (port 0: any free port)")
	ollamaFlag(fs, &o.OllamaURL)
	EndpointFlag(fs, &o.Endpoints)
	if code, done := ParseFlagsOnly(fs, args, env.Stderr, ""); done {
		return code
	}
	o.Version = env.Version
	o.Stdout, o.Stderr = env.Stdout, env.Stderr
	return Serve(ctx, o)
}

// ServeOptions are the settings of `tokenloom serve`.
type ServeOptions struct {
	// Addr is a loopback address; default DefaultServeAddr.
	Addr string
	// OllamaURL overrides OLLAMA_HOST.
	OllamaURL string
	// Endpoints are the --endpoint flags, over the endpoints file
	// (endpoints.Load).
	Endpoints []endpoints.Endpoint
	Version   string
	// Ready, if set, is called with the server's URL once it listens.
	Ready func(url string)

	Stdout, Stderr io.Writer
}

// Serve runs the server until ctx ends, then shuts it down (within about a
// second) and returns the exit status.
func Serve(ctx context.Context, o ServeOptions) int {
	if o.Addr == "" {
		o.Addr = DefaultServeAddr
	}
	logger := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	eps, err := endpoints.Load(o.Endpoints)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		return ExitUsage
	}
	cfg := server.Config{OllamaURL: o.OllamaURL, Endpoints: eps, Version: o.Version, Logger: logger}
	server.LimitMemory(cfg, 0) // the process is the server

	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		return ExitUsage
	}
	if err := srv.Start(o.Addr); err != nil {
		srv.Close()
		fmt.Fprintf(o.Stderr, "tokenloom: %v\n", err)
		return StartStatus(err)
	}
	u := srv.URL()
	fmt.Fprintf(o.Stdout, `Tokenloom server listening on %[1]s (Ollama: %[2]s)

Start a run, then follow its first stream:
  curl -s %[1]s/api/runs -d '{"prompt":"hi","streams":[{"model":"demo/hello"},{"model":"demo/hamlet"}]}'
  curl -N '%[1]s/events?stream=STREAM_ID'

Or both at once:
  curl -N "%[1]s/events?stream=$(curl -s %[1]s/api/runs -d '{"prompt":"hi","streams":[{"model":"demo/hamlet"}]}' | grep -o 's_[0-9a-f]*' | head -n 1)"

Models: curl -s %[1]s/api/models    Stop: Ctrl+C
`, u, srv.Ollama().URL())
	if len(eps) > 0 {
		var b strings.Builder
		for _, e := range eps {
			fmt.Fprintf(&b, "  %s  %s %s\n", e.Name, e.Kind, e.URL)
		}
		fmt.Fprintf(o.Stdout, "\nEndpoints (a stream names one with \"endpoint\":\"NAME\"):\n%s", b.String())
	}
	if o.Ready != nil {
		o.Ready(u)
	}
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	return ExitOK
}
