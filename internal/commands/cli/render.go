package cli

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// textRenderer prints tokens in arrival order, each stream in its slot's
// colour, then a summary table. Without colour, when several streams share
// the output, each line of text begins with its stream's label, and a
// stream that takes over from another starts a new line; in sync mode each
// stream starts on its own line, in colour too.
type textRenderer struct {
	w         io.Writer
	color     bool
	truecolor bool
	names     []string
	// labels begin each line of a stream's text ("[1 demo/hello] ") when
	// colour is off and there are several streams; nil otherwise.
	labels []string
	// breakOnSwitch starts a new line when another stream than the last
	// one writes.
	breakOnSwitch bool
	last          int  // the stream that wrote last, -1 for none
	endsLine      bool // the last byte written was a newline (or nothing yet)
}

func newTextRenderer(w io.Writer, color, truecolor bool, names []string, mode string) *textRenderer {
	r := &textRenderer{w: w, color: color, truecolor: truecolor, names: names, last: -1, endsLine: true}
	if !color && len(names) > 1 {
		r.labels = make([]string, len(names))
		for i, n := range names {
			r.labels[i] = fmt.Sprintf("[%d %s] ", i+1, n)
		}
	}
	r.breakOnSwitch = r.labels != nil || mode == wire.ModeSync
	return r
}

func (r *textRenderer) paint(i int, s string) string {
	if !r.color {
		return s
	}
	return palette.Of(i).ANSI(r.truecolor) + s + palette.ANSIReset
}

// legend names the streams in their colours; printed on terminals only,
// where the colours say which text is whose.
func (r *textRenderer) legend() {
	if !r.color {
		return
	}
	parts := make([]string, len(r.names))
	for i, n := range r.names {
		parts[i] = r.paint(i, "■ "+n)
	}
	fmt.Fprintf(r.w, "%s\n\n", strings.Join(parts, "   "))
}

// token prints one token of stream i.
func (r *textRenderer) token(i int, text string) { r.write(i, text, "") }

// thinking prints one token of stream i's reasoning, faint.
func (r *textRenderer) thinking(i int, text string) { r.write(i, text, ansiFaint) }

// ansiFaint dims what follows, until a reset.
const ansiFaint = "\x1b[2m"

// write prints text of stream i in its colour, after style, or after its
// label at the start of each line.
func (r *textRenderer) write(i int, text, style string) {
	if r.color {
		// On a terminal, a model's escape sequences or carriage returns
		// would rewrite the screen: show control characters instead.
		text = visibleControls(text)
	}
	if text == "" {
		return
	}
	if i != r.last && r.breakOnSwitch {
		r.finishLine()
	}
	r.last = i
	if r.labels == nil {
		if !r.color {
			style = ""
		}
		fmt.Fprint(r.w, style+r.paint(i, text))
		r.endsLine = strings.HasSuffix(text, "\n")
		return
	}
	// Plain text of several streams: the label goes before the first
	// piece of each line, not after a final newline, since the next text
	// may be another stream's.
	var b strings.Builder
	for line := range strings.Lines(text) {
		if r.endsLine {
			b.WriteString(r.labels[i])
		}
		b.WriteString(line)
		r.endsLine = strings.HasSuffix(line, "\n")
	}
	io.WriteString(r.w, b.String())
}

// turns shows the events of a sync run's streams one stream after another.
// The streams run in turn, but their events come over connections of their
// own, so the first tokens of a stream can arrive before the last ones of
// the stream before it: those are held back until it has ended.
type turns struct {
	show  func(i int, ev client.Event)
	next  int // the stream whose events are shown as they come
	ended []bool
	held  [][]client.Event
}

func newTurns(streams int, show func(i int, ev client.Event)) *turns {
	return &turns{show: show, ended: make([]bool, streams), held: make([][]client.Event, streams)}
}

// add shows or holds back event ev of stream i.
func (t *turns) add(i int, ev client.Event) {
	if ev.Type == wire.EventDone || ev.Type == wire.EventError {
		t.ended[i] = true
	}
	if i != t.next {
		t.held[i] = append(t.held[i], ev)
		return
	}
	t.show(i, ev)
	for t.next < len(t.ended) && t.ended[t.next] {
		t.next++
		if t.next < len(t.held) {
			for _, ev := range t.held[t.next] {
				t.show(t.next, ev)
			}
			t.held[t.next] = nil
		}
	}
}

// flush shows what is held back, in stream order: the events of streams
// whose ends never came.
func (t *turns) flush() {
	for i, evs := range t.held {
		for _, ev := range evs {
			t.show(i, ev)
		}
		t.held[i] = nil
	}
}

// finishLine ends the token text with a newline if it has none.
func (r *textRenderer) finishLine() {
	if !r.endsLine {
		fmt.Fprintln(r.w)
		r.endsLine = true
	}
}

// visibleControls replaces control characters other than newline and tab
// with caret notation (^[ for ESC) or \uXXXX.
func visibleControls(s string) string {
	if !strings.ContainsFunc(s, isHiddenControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case !isHiddenControl(c):
			b.WriteRune(c)
		case c < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(c) + '@')
		case c == 0x7f:
			b.WriteString("^?")
		default:
			fmt.Fprintf(&b, "\\u%04x", c)
		}
	}
	return b.String()
}

func isHiddenControl(c rune) bool {
	return c != '\n' && c != '\t' && unicode.IsControl(c)
}

// streamResult is what the summary needs of one stream.
type streamResult struct {
	id, name string
	end      *client.Event // the terminal event, nil if none arrived
	stats    *wire.Stats
	outcome  string
}

// runSummary is the summary of a run: the last JSON line of --json, and
// what the text summary prints. It is built once, by summarize.
type runSummary struct {
	// Event tells the summary from the event lines of --json: "summary".
	Event string `json:"event"`
	Mode  string `json:"mode"`
	// WallMs is the run's wall time; WorkMs its finished streams' busy
	// time, summed; BusyMs the part of the wall time when at least one of
	// them was busy, OverlapMs when two or more were; SavedMs what doing
	// the work side by side saved (figures.RunTime).
	WallMs    float64 `json:"wall_ms"`
	WorkMs    float64 `json:"work_ms"`
	BusyMs    float64 `json:"busy_ms"`
	OverlapMs float64 `json:"overlap_ms"`
	SavedMs   float64 `json:"saved_ms"`
	// Speedup is (wall time + SavedMs) / wall time to two decimals: how
	// many times longer the run would take had the work been done one
	// stream at a time at the same speed; null when no speed-up is
	// claimed (figures.RunTime.Speedup: streams a server took one at a
	// time, fewer than two finished streams, a sync run).
	Speedup *float64 `json:"speedup"`
	// Headline is the run's lesson in one line, as the app says it
	// (figures.RunTime.Headline).
	Headline string `json:"headline"`
	// Note is what the figures do not say by themselves
	// (figures.RunTime.Caveat), if anything.
	Note    string          `json:"note,omitempty"`
	Streams []streamSummary `json:"streams"`

	thought bool // a stream thought: the text table shows the thinking column
	queued  bool // a stream queued: the text table shows the queued and busy columns
}

// streamSummary is one stream's row of the summary.
type streamSummary struct {
	Index  int    `json:"index"`
	Stream string `json:"stream"`
	Model  string `json:"model"`
	// End is why the stream ended: stop, length, cancelled, error, or
	// "no answer" when its end never arrived.
	End    string `json:"end"`
	Tokens int    `json:"tokens"`
	// ThinkingTokens and ThinkingMs are the reasoning of a thinking model.
	ThinkingTokens int     `json:"thinking_tokens,omitempty"`
	ThinkingMs     float64 `json:"thinking_ms,omitempty"`
	// TTFTMs is null without a token of the answer, TokensPerS without
	// any token.
	TTFTMs     *float64 `json:"ttft_ms"`
	TokensPerS *float64 `json:"tokens_per_s"`
	DurationMs float64  `json:"duration_ms"`
	// QueuedMs is how long the stream waited in its server's queue,
	// BusyMs how long the server worked on it, and Clock whose figures
	// these are (wire.ClockServer or wire.ClockObserved).
	QueuedMs float64 `json:"queued_ms"`
	BusyMs   float64 `json:"busy_ms"`
	Clock    string  `json:"clock,omitempty"`
	// Error and Hint are the stream's error, if it ended in one.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// summarize builds the summary of a run in mode from its streams' results.
func summarize(mode string, results []streamResult) runSummary {
	sum := runSummary{Event: "summary", Mode: mode, Streams: make([]streamSummary, len(results))}
	outcomes := make([]figures.Outcome, len(results))
	for i, res := range results {
		outcomes[i] = figures.Outcome{Stats: res.stats, Model: res.name}
		if res.end != nil {
			outcomes[i].End = figures.EndOf(res.end.Type, res.end.Reason)
		}
		st := res.stats
		if st == nil {
			st = &wire.Stats{}
		}
		row := streamSummary{Index: i, Stream: res.id, Model: res.name, End: res.outcome, Tokens: st.Tokens,
			ThinkingTokens: st.ThinkingTokens, ThinkingMs: st.ThinkingMs, DurationMs: st.DurationMs,
			QueuedMs: st.QueuedMs, BusyMs: st.BusyMs, Clock: st.Clock}
		// Without an answer there is no time to first token, without any
		// token no rate.
		if st.Tokens > 0 {
			row.TTFTMs = &st.TTFTMs
		}
		// A rate over a burst of a few milliseconds measures a buffer, not
		// the model: none then.
		if figures.StatsRateShown(st) {
			row.TokensPerS = &st.TokensPerS
		}
		if res.end != nil && res.end.Type == wire.EventError {
			row.Error, row.Hint = res.end.Message, res.end.Hint
		}
		sum.thought = sum.thought || st.ThinkingTokens > 0
		sum.queued = sum.queued || figures.WasQueued(st)
		sum.Streams[i] = row
	}
	rt := figures.RunTimeOf(outcomes)
	sum.WallMs, sum.WorkMs, sum.BusyMs = rt.WallMs, figures.RoundMs(rt.WorkMs), figures.RoundMs(rt.BusyMs)
	sum.OverlapMs, sum.SavedMs = figures.RoundMs(rt.OverlapMs), figures.RoundMs(rt.SavedMs())
	if x, ok := rt.Speedup(); ok {
		x = math.Round(x*100) / 100
		sum.Speedup = &x
	}
	sum.Headline = rt.Headline(mode)
	sum.Note = rt.Caveat(mode)
	return sum
}

// summary prints one row per stream and the run's wall time against the sum
// of the streams' durations, in a line that begins with what (e.g. "async
// run").
func (r *textRenderer) summary(sum runSummary, what string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The thinking column shows only when a stream thought, the queued
	// and busy ones when a stream waited in its server's queue.
	row := func(cells ...string) {
		if !sum.queued {
			cells = append(cells[:7], cells[9:]...)
		}
		if !sum.thought {
			cells = append(cells[:2], cells[3:]...)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	row("#", "model", "thinking", "tokens", "TTFT ms", "tokens/s", "duration", "queued", "busy", "end")
	for _, s := range sum.Streams {
		think, ttft, rate := "–", "–", "–"
		if s.ThinkingTokens > 0 {
			think = fmt.Sprintf("%d in %.2f s", s.ThinkingTokens, s.ThinkingMs/1000)
		}
		if s.TTFTMs != nil {
			ttft = fmt.Sprintf("%.1f", *s.TTFTMs)
		}
		if s.TokensPerS != nil {
			rate = fmt.Sprintf("%.1f", *s.TokensPerS)
		}
		mark := "" // Tokenloom's observation, not the server's clock
		if s.Clock != wire.ClockServer {
			mark = "*"
		}
		row(strconv.Itoa(s.Index+1), s.Model, think, strconv.Itoa(s.Tokens), ttft, rate, fmt.Sprintf("%.2f s", s.DurationMs/1000),
			fmt.Sprintf("%.2f s%s", s.QueuedMs/1000, mark), fmt.Sprintf("%.2f s%s", s.BusyMs/1000, mark), s.End)
	}
	_ = tw.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	fmt.Fprintln(r.w)
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintln(r.w, l)
			continue
		}
		fmt.Fprintln(r.w, r.paint(i-1, l))
	}
	fmt.Fprintln(r.w, what+strings.TrimPrefix(sum.Headline, sum.Mode+" run"))
	if sum.Note != "" {
		fmt.Fprintf(r.w, "note: %s\n", sum.Note)
	}
}
