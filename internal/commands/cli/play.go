package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// startWithEndpoints starts the embedded server of a command that streams
// from models: Ollama at ollamaURL ("": OLLAMA_HOST), the --endpoint flags
// over the endpoints file. When it cannot, it says why on stderr and
// returns nil and the exit status.
func startWithEndpoints(ollamaURL string, flags []endpoints.Endpoint, version string, stderr io.Writer) (*embedded.Server, int) {
	eps, err := endpoints.Load(flags)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: %v\n", err)
		return nil, ExitUsage
	}
	return startEmbedded(server.Config{OllamaURL: ollamaURL, Endpoints: eps, Version: version}, stderr)
}

// startEmbedded starts the embedded server of a command; when it cannot,
// it says why on stderr and returns nil and the exit status (StartStatus).
func startEmbedded(cfg server.Config, stderr io.Writer) (*embedded.Server, int) {
	emb, err := embedded.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: %v\n", err)
		return nil, StartStatus(err)
	}
	return emb, ExitOK
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
		printError(o.Stderr, err)
		return nil, refusalStatus(err)
	}
	ids := make([]string, len(created.Streams))
	for i, s := range created.Streams {
		ids[i] = s.ID
	}
	events, err := cl.SubscribeAll(subCtx, ids)
	if err != nil {
		printError(o.Stderr, err)
		return created, ExitFailed
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
		names[i] = endpoints.ModelRef{Model: s.Model, Endpoint: s.Endpoint}.String()
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
			printProblem(o.Stderr, fmt.Sprintf("tokenloom: stream %d (%s): %s", i+1, res.name, res.end.Message), res.end.Hint)
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

// printError prints err as client.Explain reads it: a sentence, and its
// hint on a line of its own.
func printError(w io.Writer, err error) {
	message, hint := client.Explain(err)
	printProblem(w, "tokenloom: "+message, hint)
}

// printProblem prints what went wrong, and the hint when there is one, as
// every command says a failure on standard error.
func printProblem(w io.Writer, message, hint string) {
	fmt.Fprintln(w, message)
	if hint != "" {
		fmt.Fprintf(w, "  hint: %s\n", hint)
	}
}
