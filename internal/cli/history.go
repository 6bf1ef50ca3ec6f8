package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/export"
	"github.com/tokenloom/tokenloom/internal/history"
)

// HistoryFile is the history database that `run` records into and
// `history` reads: $TOKENLOOM_HISTORY, else history.db in the user's data
// folder (history.Path). It is "" when TOKENLOOM_HISTORY is "off", or
// when no folder can be found, which is said on stderr.
func HistoryFile(stderr io.Writer) string {
	path, err := history.Path()
	switch {
	case errors.Is(err, history.ErrOff):
		return ""
	case err != nil:
		fmt.Fprintf(stderr, "tokenloom: the history is off: %v\n", err)
		return ""
	}
	return path
}

// runHistory records the runs of `run` into the history.
type runHistory struct {
	store  *history.Store
	req    client.RunRequest
	stderr io.Writer
}

// openHistory opens the history at path for the runs of req. When it
// cannot, it says why on stderr and returns nil: the run goes on
// unrecorded. close closes it.
func openHistory(path string, req client.RunRequest, stderr io.Writer) (h *runHistory, close func()) {
	if path == "" {
		return nil, func() {}
	}
	store, err := history.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "tokenloom: history: %v\n  this run is not recorded (--no-history, or %s=off, turns the history off)\n", err, history.EnvVar)
		return nil, func() {}
	}
	for _, n := range store.Notices() {
		fmt.Fprintf(stderr, "tokenloom: history: %s\n", n)
	}
	return &runHistory{store: store, req: req, stderr: stderr}, func() {
		if err := store.Close(); err != nil {
			fmt.Fprintf(stderr, "tokenloom: history: %v\n", err)
		}
	}
}

// recording is one run being recorded; a nil recording records nothing.
type recording struct {
	rec    *history.Recorder
	stderr io.Writer
}

// start starts recording a run just created; nil when h is nil or the run
// cannot be recorded (said on stderr).
func (h *runHistory) start(created *client.RunCreated) *recording {
	if h == nil {
		return nil
	}
	rec, err := h.store.StartRun(context.Background(), history.MetaOf(created, h.req, time.Now()))
	if err != nil {
		fmt.Fprintf(h.stderr, "tokenloom: history: %v\n", err)
		return nil
	}
	return &recording{rec: rec, stderr: h.stderr}
}

// add records an event from the server; it never waits for the disk.
// Local events (the client's own, such as a lost connection) are not the
// run's and are left out.
func (r *recording) add(ev client.IndexedEvent) {
	if r == nil || ev.Local {
		return
	}
	r.rec.Record(ev.Index, ev.Type, ev.Seq, ev.Raw)
}

// finish writes the last events and ends the recording.
func (r *recording) finish() {
	if r == nil {
		return
	}
	if err := r.rec.Finish(context.Background()); err != nil {
		fmt.Fprintf(r.stderr, "tokenloom: history: %v\n", err)
	}
}

// HistoryOptions are the settings of the `history` subcommands.
type HistoryOptions struct {
	// Path is the history database (HistoryFile); "" means the history is
	// off.
	Path string
	// JSON prints JSON instead of text (list and show).
	JSON           bool
	Stdout, Stderr io.Writer
}

// openStore opens the history of a `history` subcommand, or says why not.
func (o HistoryOptions) openStore() (*history.Store, bool) {
	if o.Path == "" {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", history.ErrOff)
		return nil, false
	}
	s, err := history.Open(o.Path)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", err)
		return nil, false
	}
	for _, n := range s.Notices() {
		fmt.Fprintf(o.Stderr, "tokenloom history: %s\n", n)
	}
	return s, true
}

// historyRun is a RunSummary as `history list --json` prints it.
type historyRun struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Mode      string    `json:"mode"`
	Prompt    string    `json:"prompt"`
	Models    []string  `json:"models"`
	WallMs    float64   `json:"wall_ms"`
	State     string    `json:"state"`
	ReplayOf  string    `json:"replay_of,omitempty"`
	Bytes     int64     `json:"bytes"`
	Snippet   string    `json:"snippet,omitempty"`
}

// HistoryList prints the runs of the history, the newest first, up to
// limit (history.DefaultLimit when 0 or less); with search, only those
// whose prompt or answers hold its words, the best matches first, each
// with the words in their context. It returns the exit status.
func HistoryList(ctx context.Context, o HistoryOptions, search string, limit int) int {
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	var runs []history.RunSummary
	var err error
	if strings.TrimSpace(search) != "" {
		runs, err = s.Search(ctx, search, limit)
	} else {
		runs, err = s.List(ctx, history.Query{Limit: limit})
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", err)
		return ExitStreamError
	}
	if o.JSON {
		out := make([]historyRun, len(runs))
		for i, r := range runs {
			out[i] = historyRun{r.ID, r.StartedAt, r.Mode, r.Prompt, r.Models, r.WallMs, r.State, r.ReplayOf, r.Bytes, r.Snippet}
		}
		enc := json.NewEncoder(o.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return ExitOK
	}
	if len(runs) == 0 {
		if search != "" {
			fmt.Fprintf(o.Stderr, "no run in the history holds %q\n", search)
		} else {
			fmt.Fprintf(o.Stderr, "the history %s holds no run yet: tokenloom run records each run\n", o.Path)
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tMODE\tWALL\tSTATE\tMODELS\tPROMPT")
	for _, r := range runs {
		wall := "—"
		if r.State == history.StateFinished {
			wall = fmt.Sprintf("%.1f s", r.WallMs/1000)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04"), r.Mode, wall, r.State,
			strings.Join(r.Models, ", "), clip(r.Prompt, 48))
		if r.Snippet != "" {
			fmt.Fprintf(tw, "\t%s\n", clip(r.Snippet, 100))
		}
	}
	tw.Flush()
	return ExitOK
}

// clip is the first line of s, cut to n characters with an ellipsis.
func clip(s string, n int) string {
	s, _, cut := strings.Cut(strings.TrimSpace(s), "\n")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1])
		cut = true
	}
	if cut {
		s += "…"
	}
	return s
}

// getRun reads run id, or says why it cannot.
func getRun(ctx context.Context, s *history.Store, id string, stderr io.Writer) (*client.Transcript, history.RunSummary, bool) {
	t, err := s.Get(ctx, id)
	if err == nil {
		var sum history.RunSummary
		if sum, err = s.Lookup(ctx, id); err == nil {
			return t, sum, true
		}
	}
	if errors.Is(err, history.ErrNotFound) {
		fmt.Fprintf(stderr, "tokenloom history: no run %s in the history (tokenloom history list shows them)\n", id)
	} else {
		fmt.Fprintf(stderr, "tokenloom history: %v\n", err)
	}
	return nil, history.RunSummary{}, false
}

// HistoryShow prints run id of the history: the Markdown report of
// export (the figures per stream and the texts), or with o.JSON its
// transcript. It returns the exit status.
func HistoryShow(ctx context.Context, o HistoryOptions, id string) int {
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	t, sum, ok := getRun(ctx, s, id, o.Stderr)
	if !ok {
		return ExitStreamError
	}
	if sum.State != history.StateFinished {
		fmt.Fprintf(o.Stderr, "run %s is %s: it holds the events recorded until then\n", id, sum.State)
	}
	var err error
	if o.JSON {
		err = export.WriteJSON(o.Stdout, t)
	} else {
		err = export.WriteMarkdown(o.Stdout, t)
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", err)
		return ExitStreamError
	}
	return ExitOK
}

// HistoryExport saves run id of the history to file, in the format of its
// extension (.json, .md or .markdown), as run --save does. It returns the
// exit status.
func HistoryExport(ctx context.Context, o HistoryOptions, id, file string) int {
	if _, err := export.FormatForPath(file); err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history export: %v\n", err)
		return ExitUsage
	}
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	t, sum, ok := getRun(ctx, s, id, o.Stderr)
	if !ok {
		return ExitStreamError
	}
	if err := export.Save(file, t); err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history export: %v\n", err)
		return ExitStreamError
	}
	fmt.Fprintf(o.Stderr, "saved %s\n", file)
	if sum.State != history.StateFinished {
		fmt.Fprintf(o.Stderr, "run %s is %s: the file holds the events recorded until then, and cannot be opened or replayed as a run\n", id, sum.State)
	}
	return ExitOK
}

// HistoryRemove deletes runs ids from the history. It returns
// ExitStreamError when one of them could not be deleted.
func HistoryRemove(ctx context.Context, o HistoryOptions, ids []string) int {
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	code := ExitOK
	for _, id := range ids {
		err := s.Delete(ctx, id)
		switch {
		case errors.Is(err, history.ErrNotFound):
			fmt.Fprintf(o.Stderr, "tokenloom history rm: no run %s in the history\n", id)
			code = ExitStreamError
		case err != nil:
			fmt.Fprintf(o.Stderr, "tokenloom history rm: %v\n", err)
			code = ExitStreamError
		default:
			fmt.Fprintf(o.Stderr, "deleted %s\n", id)
		}
	}
	return code
}

// HistoryImport adds runs saved as JSON (run --save FILE.json, the app's
// export) to the history; a run already there is replaced. It returns
// ExitStreamError when a file could not be imported.
func HistoryImport(ctx context.Context, o HistoryOptions, files []string) int {
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	code := ExitOK
	for _, f := range files {
		t, err := export.Load(f)
		if err == nil {
			err = s.Import(ctx, t)
		}
		if err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom history import: %v\n", err)
			code = ExitStreamError
			continue
		}
		fmt.Fprintf(o.Stderr, "imported %s as %s\n", f, t.ID)
	}
	return code
}
