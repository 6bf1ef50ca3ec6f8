package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/figures"
	"github.com/tokenloom/tokenloom/internal/palette"
)

// textRenderer prints tokens in arrival order, each stream in its slot's
// colour, then a summary table.
type textRenderer struct {
	w         io.Writer
	color     bool
	truecolor bool
	names     []string
	endsLine  bool // the last byte written was a newline (or nothing yet)
}

func newTextRenderer(w io.Writer, color, truecolor bool, names []string) *textRenderer {
	return &textRenderer{w: w, color: color, truecolor: truecolor, names: names, endsLine: true}
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

// write prints text of stream i in its colour, after style.
func (r *textRenderer) write(i int, text, style string) {
	if r.color {
		// On a terminal, a model's escape sequences or carriage returns
		// would rewrite the screen: show control characters instead.
		text = visibleControls(text)
	}
	if text == "" {
		return
	}
	if !r.color {
		style = ""
	}
	fmt.Fprint(r.w, style+r.paint(i, text))
	r.endsLine = strings.HasSuffix(text, "\n")
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
	name    string
	end     *client.Event // the terminal event, nil if none arrived
	stats   *client.Stats
	outcome string
}

// summary prints one row per stream and the run's wall time against the sum
// of the streams' durations, in a line that begins with what (e.g. "async
// run").
func (r *textRenderer) summary(results []streamResult, what, mode string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	thought := false
	for _, res := range results {
		thought = thought || res.stats != nil && res.stats.ThinkingTokens > 0
	}
	// The thinking column shows only when a stream thought.
	row := func(cells ...string) {
		if !thought {
			cells = append(cells[:2], cells[3:]...)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	row("#", "model", "thinking", "tokens", "TTFT ms", "tokens/s", "duration", "end")
	stats := make([]*client.Stats, len(results))
	for i, res := range results {
		stats[i] = res.stats
		st := res.stats
		if st == nil {
			st = &client.Stats{}
		}
		// Without an answer there is no time to first token, without any
		// token no rate.
		think, ttft, rate := "–", "–", "–"
		if st.ThinkingTokens > 0 {
			think = fmt.Sprintf("%d in %.2f s", st.ThinkingTokens, st.ThinkingMs/1000)
		}
		if st.Tokens > 0 {
			ttft = fmt.Sprintf("%.1f", st.TTFTMs)
		}
		if st.Tokens+st.ThinkingTokens > 0 {
			rate = fmt.Sprintf("%.1f", st.TokensPerS)
		}
		row(strconv.Itoa(i+1), res.name, think, strconv.Itoa(st.Tokens), ttft, rate, fmt.Sprintf("%.2f s", st.DurationMs/1000), res.outcome)
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
	rt := figures.RunTimeOf(stats)
	fmt.Fprintf(r.w, "%s: wall time %s %s\n", what, rt.Wall(), rt.AgainstStreams())
	if c := rt.Caveat(mode); c != "" {
		fmt.Fprintf(r.w, "note: %s\n", c)
	}
}
