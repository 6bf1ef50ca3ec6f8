package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
)

// LastRun names the newest run of the history to --continue.
const LastRun = "last"

// savedConversation reads the run of the history at path that a
// follow-up continues: id, or LastRun. When it cannot, it says why on
// stderr and returns nil and the exit status.
func savedConversation(ctx context.Context, path, id string, stderr io.Writer) (*wire.Transcript, int) {
	if path == "" {
		fmt.Fprintln(stderr, "tokenloom: --continue reads the history, which is off (--no-history or TOKENLOOM_HISTORY=off)")
		return nil, ExitUsage
	}
	s, code := HistoryOptions{Path: path, Stderr: stderr}.openStore()
	if s == nil {
		return nil, code
	}
	defer s.Close()
	if id == LastRun {
		runs, err := s.List(ctx, history.Query{Limit: 1})
		if err != nil {
			fmt.Fprintf(stderr, "tokenloom: history: %v\n", err)
			return nil, ExitFailed
		}
		if len(runs) == 0 {
			fmt.Fprintln(stderr, "tokenloom: --continue last: the history holds no run yet")
			return nil, ExitNotFound
		}
		id = runs[0].ID
	}
	t, _, code := getRun(ctx, s, id, stderr)
	return t, code
}

// followUp is the request that goes on from saved run t with prompt:
// its streams, each with its own conversation, model, endpoint and
// options (opts, when set, instead), and its system prompt unless system
// says another.
func followUp(t *wire.Transcript, prompt, system string, opts *wire.Options) wire.RunRequest {
	req := wire.RunRequest{Prompt: prompt, System: system}
	if system == "" {
		req.System = t.System
	}
	for i, st := range t.Streams {
		spec := wire.StreamSpec{Model: st.Model, Endpoint: st.Endpoint, Options: st.Options, History: t.Conversation(i)}
		if opts != nil {
			spec.Options = opts
		}
		if t.ReplayOf == "" {
			spec.Label = st.Label // a replay's labels name the playback
		}
		req.Streams = append(req.Streams, spec)
	}
	return req
}
