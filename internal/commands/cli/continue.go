package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// LastRun names the newest run of the history to --continue.
const LastRun = "last"

// savedConversation reads the run of the history at path that a
// follow-up continues: id, or LastRun. It says why not on stderr.
func savedConversation(ctx context.Context, path, id string, stderr io.Writer) (*wire.Transcript, bool) {
	if path == "" {
		fmt.Fprintln(stderr, "tokenloom: --continue reads the history, which is off (--no-history or TOKENLOOM_HISTORY=off)")
		return nil, false
	}
	s, ok := HistoryOptions{Path: path, Stderr: stderr}.openStore()
	if !ok {
		return nil, false
	}
	defer s.Close()
	if id == LastRun {
		runs, err := s.List(ctx, history.Query{Limit: 1})
		if err != nil {
			fmt.Fprintf(stderr, "tokenloom: history: %v\n", err)
			return nil, false
		}
		if len(runs) == 0 {
			fmt.Fprintln(stderr, "tokenloom: --continue last: the history holds no run yet")
			return nil, false
		}
		id = runs[0].ID
	}
	t, _, ok := getRun(ctx, s, id, stderr)
	return t, ok
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
