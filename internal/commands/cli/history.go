package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/base/worddiff"
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
	Turn      int       `json:"turn"`
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

// getRun reads run id, or says why it cannot.
func getRun(ctx context.Context, s *history.Store, id string, stderr io.Writer) (*wire.Transcript, history.RunSummary, bool) {
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

// streamRef names a stream of a run of the history: RUNID:N, N from 1 as
// history show numbers the streams, or RUNID for its first stream.
type streamRef struct {
	run    string
	stream int // from 1
}

func parseStreamRef(s string) (streamRef, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return streamRef{s, 1}, nil
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 1 || i == 0 {
		return streamRef{}, fmt.Errorf("%q: want RUNID:N, N the number of a stream from 1 (as history show numbers them), or RUNID for its first stream", s)
	}
	return streamRef{s[:i], n}, nil
}

// diffSide is one of the two streams of history diff, as --json prints
// it.
type diffSide struct {
	Run string `json:"run"`
	// Stream is the stream's number in its run, from 1.
	Stream int `json:"stream"`
	// Model is the model, with its endpoint (model@endpoint) when it has
	// one.
	Model string `json:"model"`
	Label string `json:"label,omitempty"`
	text  string
}

// name is the side's line of the header: "1 llama3.2:1b (cold), stream 2
// of run r_…".
func (d diffSide) name(side int) string {
	name := d.Model
	if d.Label != "" && d.Label != d.Model {
		name += " (" + d.Label + ")"
	}
	return fmt.Sprintf("%d %s, stream %d of run %s", side, name, d.Stream, d.Run)
}

// historyDiff is what history diff --json prints.
type historyDiff struct {
	A      diffSide        `json:"a"`
	B      diffSide        `json:"b"`
	Counts worddiff.Counts `json:"counts"`
	// Similarity is the share of their words the answers have in common,
	// from 0 to 1 (worddiff.Counts.Similarity).
	Similarity float64         `json:"similarity"`
	Parts      []worddiff.Part `json:"parts"`
}

// HistoryDiff compares the answers of two streams of the history word by
// word (their tokens, not their thinking): a and b are RUNID:N, stream N
// of a run as history show numbers them, or RUNID, its first stream. It
// prints a line naming each, the answers' words (those of a alone in red
// or [-so-], those of b alone in green or {+so+}, o.Color saying which),
// and how many words are the same and how many of each alone; with o.JSON,
// all that as one JSON object. It returns the exit status.
func HistoryDiff(ctx context.Context, o HistoryOptions, a, b string) int {
	var refs [2]streamRef
	for i, arg := range []string{a, b} {
		ref, err := parseStreamRef(arg)
		if err != nil {
			fmt.Fprintf(o.Stderr, "tokenloom history diff: %v\n", err)
			return ExitUsage
		}
		refs[i] = ref
	}
	s, ok := o.openStore()
	if !ok {
		return ExitUsage
	}
	defer s.Close()
	var sides [2]diffSide
	runs := map[string]*wire.Transcript{}
	for i, ref := range refs {
		t := runs[ref.run]
		if t == nil {
			var sum history.RunSummary
			if t, sum, ok = getRun(ctx, s, ref.run, o.Stderr); !ok {
				return ExitStreamError
			}
			runs[ref.run] = t
			if sum.State != history.StateFinished {
				fmt.Fprintf(o.Stderr, "run %s is %s: its answers are as far as they were recorded\n", ref.run, sum.State)
			}
		}
		if ref.stream > len(t.Streams) {
			fmt.Fprintf(o.Stderr, "tokenloom history diff: run %s has no stream %d: its streams are 1 to %d (tokenloom history show %s lists them)\n",
				ref.run, ref.stream, len(t.Streams), ref.run)
			return ExitStreamError
		}
		st := t.Streams[ref.stream-1]
		sides[i] = diffSide{Run: ref.run, Stream: ref.stream, Model: streamName(wire.StreamCreated{Model: st.Model, Endpoint: st.Endpoint}),
			Label: st.Label, text: st.Text}
		if st.Text == "" {
			why := ""
			if st.Error != "" {
				why = ": it ended in an error: " + st.Error
			}
			fmt.Fprintf(o.Stderr, "stream %d of run %s has no answer%s\n", ref.stream, ref.run, why)
		}
	}
	parts := worddiff.Words(sides[0].text, sides[1].text)
	counts := worddiff.Count(parts)
	if o.JSON {
		out := historyDiff{A: sides[0], B: sides[1], Counts: counts, Similarity: counts.Similarity(), Parts: parts}
		if out.Parts == nil {
			out.Parts = []worddiff.Part{}
		}
		enc := json.NewEncoder(o.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return ExitOK
	}
	var w strings.Builder
	if o.Color {
		w.WriteString(paintLines(ansiOnlyA, visibleControls(sides[0].name(1))) + "\n")
		w.WriteString(paintLines(ansiOnlyB, visibleControls(sides[1].name(2))) + "\n\n")
		for _, p := range parts {
			w.WriteString(paintLines(diffColour(p), visibleControls(p.Text)))
		}
	} else {
		w.WriteString("[-" + sides[0].name(1) + "-]\n")
		w.WriteString("{+" + sides[1].name(2) + "+}\n\n")
		w.WriteString(worddiff.Text(parts))
	}
	if !strings.HasSuffix(w.String(), "\n") {
		w.WriteString("\n")
	}
	fmt.Fprintf(&w, "\n%s the same · %d only in 1 · %d only in 2\n", words(counts.Same), counts.OnlyA, counts.OnlyB)
	io.WriteString(o.Stdout, w.String())
	return ExitOK
}

// The colours of history diff, as in git diff: the text of the first
// answer alone is red, the second's green. Whitespace shows no colour of
// its own: its background does.
const (
	ansiOnlyA           = "\x1b[31m"
	ansiOnlyB           = "\x1b[32m"
	ansiOnlyABackground = "\x1b[41m"
	ansiOnlyBBackground = "\x1b[42m"
)

// diffColour is the colour of part p; none for text in common.
func diffColour(p worddiff.Part) string {
	space := strings.TrimSpace(p.Text) == ""
	switch {
	case p.Op == worddiff.OnlyA && space:
		return ansiOnlyABackground
	case p.Op == worddiff.OnlyA:
		return ansiOnlyA
	case p.Op == worddiff.OnlyB && space:
		return ansiOnlyBBackground
	case p.Op == worddiff.OnlyB:
		return ansiOnlyB
	}
	return ""
}

// paintLines paints each line of text in colour, up to its newline: a
// colour left on at a line's end would paint the next line's margin, or
// the rest of the screen in a pager. No colour leaves text as it is.
func paintLines(colour, text string) string {
	if colour == "" {
		return text
	}
	var b strings.Builder
	for line := range strings.Lines(text) {
		body, nl := strings.CutSuffix(line, "\n")
		if body != "" {
			b.WriteString(colour + body + palette.ANSIReset)
		}
		if nl {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// words is n words, in English: "1 word", "412 words".
func words(n int) string {
	if n == 1 {
		return "1 word"
	}
	return strconv.Itoa(n) + " words"
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
