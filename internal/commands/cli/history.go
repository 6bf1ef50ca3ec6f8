package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/services/history"
)

// historyUsage is the help text of `tokenloom history`.
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
~/Library/Application Support on macOS, %AppData% on Windows).
`

// historyHelp is the help of `tokenloom history`, with its exit statuses.
var historyHelp = historyUsage + "\n" + ExitHelp(ExitOK, ExitUsage, ExitNotFound, ExitFailed)

// historyArgs are how many arguments each history command takes: at least
// and at most (-1: any number).
var historyArgs = map[string][2]int{"list": {0, 0}, "show": {1, 1}, "diff": {2, 2}, "export": {2, 2}, "rm": {1, -1}, "import": {1, -1}}

// HistoryCommand carries out `tokenloom history` with the command line
// args (after "history") and returns the exit status.
func HistoryCommand(ctx context.Context, args []string, env Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, historyHelp)
			return ExitUsage
		}
		fmt.Fprint(stdout, historyHelp)
		return ExitOK
	}
	sub, args := args[0], args[1:]
	n, ok := historyArgs[sub]
	if !ok {
		fmt.Fprintf(stderr, "tokenloom history: unknown command %q: want list, show, diff, export, rm or import\n", sub)
		return ExitUsage
	}
	fs := flag.NewFlagSet("history "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), historyHelp)
		if hasFlags(fs) {
			fmt.Fprintf(fs.Output(), "\nFlags of history %s:\n", sub)
			fs.PrintDefaults()
		}
	}
	o := HistoryOptions{Stdout: stdout, Stderr: stderr}
	var search string
	var limit int
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
	// tokenloom history show r_1 --json
	rest, code, done := parseWithArgs(fs, args)
	if done {
		return code
	}
	if len(rest) < n[0] || (n[1] >= 0 && len(rest) > n[1]) {
		fmt.Fprintf(stderr, "tokenloom history %s: wrong number of arguments (%d)\n\n%s", sub, len(rest), historyHelp)
		return ExitUsage
	}
	o.Path = HistoryFile(stderr)
	switch sub {
	case "list":
		return HistoryList(ctx, o, search, limit)
	case "show":
		return HistoryShow(ctx, o, rest[0])
	case "diff":
		o.Color = colorWanted(stdout)
		return HistoryDiff(ctx, o, rest[0], rest[1])
	case "export":
		return HistoryExport(ctx, o, rest[0], rest[1])
	case "rm":
		return HistoryRemove(ctx, o, rest)
	default:
		return HistoryImport(ctx, o, rest)
	}
}

// hasFlags reports whether fs defines a flag.
func hasFlags(fs *flag.FlagSet) bool {
	found := false
	fs.VisitAll(func(*flag.Flag) { found = true })
	return found
}

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
	req    wire.RunRequest
	stderr io.Writer
}

// openHistory opens the history at path for the runs of req. When it
// cannot, it says why on stderr and returns nil: the run goes on
// unrecorded. close closes it.
func openHistory(path string, req wire.RunRequest, stderr io.Writer) (h *runHistory, close func()) {
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
func (h *runHistory) start(created *wire.RunCreated) *recording {
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
	// JSON prints JSON instead of text (list, show and diff).
	JSON bool
	// Color paints diff's text only in the first answer red and only in
	// the second green, for a terminal; without it the text is marked
	// [-so-] and {+so+}.
	Color          bool
	Stdout, Stderr io.Writer
}

// openStore opens the history of a `history` subcommand, or says why not
// and returns nil and the exit status.
func (o HistoryOptions) openStore() (*history.Store, int) {
	if o.Path == "" {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", history.ErrOff)
		return nil, ExitUsage
	}
	s, err := history.Open(o.Path)
	if err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history: %v\n", err)
		return nil, ExitFailed
	}
	for _, n := range s.Notices() {
		fmt.Fprintf(o.Stderr, "tokenloom history: %s\n", n)
	}
	return s, ExitOK
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
	Turn      int       `json:"turn"`
	Snippet   string    `json:"snippet,omitempty"`
}

// HistoryList prints the runs of the history, the newest first, up to
// limit (history.DefaultLimit when 0 or less); with search, only those
// whose prompt or answers hold its words, the best matches first, each
// with the words in their context. It returns the exit status.
func HistoryList(ctx context.Context, o HistoryOptions, search string, limit int) int {
	s, code := o.openStore()
	if s == nil {
		return code
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
		return ExitFailed
	}
	if o.JSON {
		out := make([]historyRun, len(runs))
		for i, r := range runs {
			out[i] = historyRun{r.ID, r.StartedAt, r.Mode, r.Prompt, r.Models, r.WallMs, r.State, r.ReplayOf, r.Bytes, r.Turn, r.Snippet}
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
			strings.Join(r.Models, ", "), turnMark(r.Turn)+clip(r.Prompt, 48))
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

// turnMark marks the prompt of a follow-up with its turn.
func turnMark(turn int) string {
	if turn > 1 {
		return fmt.Sprintf("(turn %d) ", turn)
	}
	return ""
}

// getRun reads run id, or says why it cannot and returns nil and the exit
// status.
func getRun(ctx context.Context, s *history.Store, id string, stderr io.Writer) (*wire.Transcript, history.RunSummary, int) {
	t, err := s.Get(ctx, id)
	if err == nil {
		var sum history.RunSummary
		if sum, err = s.Lookup(ctx, id); err == nil {
			return t, sum, ExitOK
		}
	}
	if errors.Is(err, history.ErrNotFound) {
		fmt.Fprintf(stderr, "tokenloom history: no run %s in the history (tokenloom history list shows them)\n", id)
		return nil, history.RunSummary{}, ExitNotFound
	}
	fmt.Fprintf(stderr, "tokenloom history: %v\n", err)
	return nil, history.RunSummary{}, ExitFailed
}

// HistoryShow prints run id of the history: the Markdown report of
// export (the figures per stream and the texts), or with o.JSON its
// transcript. It returns the exit status.
func HistoryShow(ctx context.Context, o HistoryOptions, id string) int {
	s, code := o.openStore()
	if s == nil {
		return code
	}
	defer s.Close()
	t, sum, code := getRun(ctx, s, id, o.Stderr)
	if t == nil {
		return code
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
		return ExitFailed
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
	s, code := o.openStore()
	if s == nil {
		return code
	}
	defer s.Close()
	t, sum, code := getRun(ctx, s, id, o.Stderr)
	if t == nil {
		return code
	}
	if err := export.Save(file, t); err != nil {
		fmt.Fprintf(o.Stderr, "tokenloom history export: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(o.Stderr, "saved %s\n", file)
	if sum.State != history.StateFinished {
		fmt.Fprintf(o.Stderr, "run %s is %s: the file holds the events recorded until then, and cannot be opened or replayed as a run\n", id, sum.State)
	}
	return ExitOK
}

// HistoryRemove deletes runs ids from the history. It returns the exit
// status: ExitNotFound when one of them is not there, ExitFailed when one
// could not be deleted.
func HistoryRemove(ctx context.Context, o HistoryOptions, ids []string) int {
	s, code := o.openStore()
	if s == nil {
		return code
	}
	defer s.Close()
	for _, id := range ids {
		err := s.Delete(ctx, id)
		switch {
		case errors.Is(err, history.ErrNotFound):
			fmt.Fprintf(o.Stderr, "tokenloom history rm: no run %s in the history\n", id)
			code = max(code, ExitNotFound)
		case err != nil:
			fmt.Fprintf(o.Stderr, "tokenloom history rm: %v\n", err)
			code = max(code, ExitFailed)
		default:
			fmt.Fprintf(o.Stderr, "deleted %s\n", id)
		}
	}
	return code
}

// HistoryImport adds runs saved as JSON (run --save FILE.json, the app's
// export) to the history; a run already there is replaced. It returns the
// exit status: ExitUsage when a file is not a saved run, ExitFailed when a
// run could not be written.
func HistoryImport(ctx context.Context, o HistoryOptions, files []string) int {
	s, code := o.openStore()
	if s == nil {
		return code
	}
	defer s.Close()
	for _, f := range files {
		t, err := export.Load(f)
		if err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom history import: %v\n", err)
			code = max(code, ExitUsage)
			continue
		}
		if err := s.Import(ctx, t); err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom history import: %v\n", err)
			code = max(code, ExitFailed)
			continue
		}
		fmt.Fprintf(o.Stderr, "imported %s as %s\n", f, t.ID)
	}
	return code
}
