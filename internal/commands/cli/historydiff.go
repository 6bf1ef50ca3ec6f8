package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/base/worddiff"
	"github.com/tokenloom/tokenloom/internal/services/history"
)

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
	s, code := o.openStore()
	if s == nil {
		return code
	}
	defer s.Close()
	var sides [2]diffSide
	runs := map[string]*wire.Transcript{}
	for i, ref := range refs {
		t := runs[ref.run]
		if t == nil {
			var sum history.RunSummary
			if t, sum, code = getRun(ctx, s, ref.run, o.Stderr); t == nil {
				return code
			}
			runs[ref.run] = t
			if sum.State != history.StateFinished {
				fmt.Fprintf(o.Stderr, "run %s is %s: its answers are as far as they were recorded\n", ref.run, sum.State)
			}
		}
		if ref.stream > len(t.Streams) {
			fmt.Fprintf(o.Stderr, "tokenloom history diff: run %s has no stream %d: its streams are 1 to %d (tokenloom history show %s lists them)\n",
				ref.run, ref.stream, len(t.Streams), ref.run)
			return ExitNotFound
		}
		st := t.Streams[ref.stream-1]
		sides[i] = diffSide{Run: ref.run, Stream: ref.stream, Model: endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String(),
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
