package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// WriteMarkdown writes t as a readable report: a title; the mode, start
// time, wall time, prompt and system prompt; a table of the figures of
// every stream (see figures.Stream), one row per stream; then the text of
// every stream, under the options it ran with.
//
// The texts come one section per stream, in stream order, rather than in a
// table with a column per stream: a table cell holds neither line breaks
// nor code blocks, so long answers would become single enormous lines that
// no renderer makes readable. The streams sit side by side in the figures
// table; each text is then quoted verbatim in a fenced block, which keeps
// its spaces and line breaks exactly and keeps any Markdown in a model's
// answer from being rendered into the report's own structure.
func WriteMarkdown(w io.Writer, t *wire.Transcript) error {
	if t == nil {
		return errors.New("no run to write")
	}
	var b bytes.Buffer
	title := "Tokenloom run " + t.ID
	if t.ReplayOf != "" {
		title = "Tokenloom replay " + t.ID
	}
	fmt.Fprintf(&b, "# %s\n\n", strings.TrimSpace(title))

	figs := make([]figures.Stream, len(t.Streams))
	for i, st := range t.Streams {
		figs[i] = figures.FromTranscript(st)
	}
	runTime := figures.RunTimeOf(figures.OutcomesOf(t))
	runTime.WallMs = t.WallMs
	fmt.Fprintf(&b, "- **Mode:** %s\n", t.Mode)
	fmt.Fprintf(&b, "- **Started:** %s\n", t.StartedAt.UTC().Format("2006-01-02 15:04:05.000 UTC"))
	if t.ReplayOf != "" {
		fmt.Fprintf(&b, "- **Replay of:** %s at %g×\n", t.ReplayOf, t.Speed)
	}
	if t.Finished {
		fmt.Fprintf(&b, "- **Time:** %s\n", runTime.Headline(t.Mode))
		if c := runTime.Caveat(t.Mode); c != "" {
			fmt.Fprintf(&b, "- **Note:** %s\n", c)
		}
	} else {
		b.WriteString("- **Wall time:** the run had not finished when it was saved\n")
	}
	b.WriteString("\n**Prompt**\n\n")
	writeFenced(&b, t.Prompt)
	if t.System != "" {
		b.WriteString("\n**System prompt**\n\n")
		writeFenced(&b, t.System)
	}

	b.WriteString("\n## Figures\n\n")
	ollama := false
	for _, f := range figs {
		ollama = ollama || f.HasOllama
	}
	b.WriteString("| # | stream | end | tokens | TTFT ms | tokens/s | ITL p50 ms | ITL p95 ms | duration ms | queued ms | busy ms |")
	if ollama {
		b.WriteString(" Ollama eval tokens/s | prompt eval ms | load ms |")
	}
	b.WriteString("\n|--:|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|")
	if ollama {
		b.WriteString("--:|--:|--:|")
	}
	b.WriteByte('\n')
	for i, st := range t.Streams {
		f := figs[i]
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %s | %s | %s | %.1f | %s | %s |",
			i+1, cell(streamName(st)), cell(endOf(st)), f.Tokens,
			figure(f.TTFTMs, f.Tokens > 0), figure(f.TokensPerS, f.RateShown()),
			figure(f.ITLP50Ms, f.Tokens > 1), figure(f.ITLP95Ms, f.Tokens > 1), f.DurationMs,
			clockFigure(st.Stats, func(s *wire.Stats) float64 { return s.QueuedMs }),
			clockFigure(st.Stats, func(s *wire.Stats) float64 { return s.BusyMs }))
		if ollama {
			fmt.Fprintf(&b, " %s | %s | %s |", figure(f.EvalRate, f.HasOllama), figure(f.PromptEvalMs, f.HasOllama), figure(f.LoadMs, f.HasOllama))
		}
		b.WriteByte('\n')
	}
	b.WriteString("\nTTFT: time to first token, from the stream's start (its turn, in sync mode). " +
		"ITL: inter-token latency, the gap between two tokens (nearest-rank percentiles). " +
		"Queued: the time the stream waited behind other requests; busy: the time its model server worked on it " +
		"(loading, prompt, generation), by the server's own clock, or with * as Tokenloom saw it where the server sent none.\n")

	b.WriteString("\n## Texts\n")
	for i, st := range t.Streams {
		fmt.Fprintf(&b, "\n### %d. %s\n\n", i+1, heading(streamName(st)))
		fmt.Fprintf(&b, "- **Options:** %s\n", optionsOf(st.Options))
		if msg, hint := errorOf(st); msg != "" {
			fmt.Fprintf(&b, "- **Error:** %s\n", inline(msg))
			if hint != "" {
				fmt.Fprintf(&b, "- **Hint:** %s\n", inline(hint))
			}
		}
		b.WriteByte('\n')
		if len(st.History) > 0 {
			// The conversation the stream went on from, folded: the
			// answer below is to the run's prompt, its latest turn.
			fmt.Fprintf(&b, "<details><summary>Earlier in this conversation: %s</summary>\n\n", figures.Plural(len(st.History), "turn"))
			for k, turn := range st.History {
				fmt.Fprintf(&b, "**Turn %d, prompt**\n\n", k+1)
				writeFenced(&b, turn.Prompt)
				fmt.Fprintf(&b, "\n**Turn %d, answer**\n\n", k+1)
				if turn.Answer == "" {
					b.WriteString("*(no text)*\n")
				} else {
					writeFenced(&b, turn.Answer)
				}
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "</details>\n\n**Turn %d, answer**\n\n", len(st.History)+1)
		}
		if st.Thinking != "" {
			// The reasoning folded, as the app shows it once the answer
			// has begun.
			summary := "Reasoning"
			if s := st.Stats; s != nil && s.ThinkingTokens > 0 {
				summary = figures.ThoughtFor(s.ThinkingMs, s.ThinkingTokens)
			}
			fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", summary)
			writeFenced(&b, st.Thinking)
			b.WriteString("\n</details>\n\n")
		}
		if st.Text == "" {
			b.WriteString("*(no text)*\n")
			continue
		}
		writeFenced(&b, st.Text)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// streamName is the model, with its endpoint (model@endpoint) and its
// label when it has them.
func streamName(st wire.StreamTranscript) string {
	name := endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()
	if st.Label != "" && st.Label != st.Model {
		return name + " (" + st.Label + ")"
	}
	return name
}

// optionsOf names the options a stream ran with, in the words of the app's
// pane settings ("temperature 0.7 · seed 1 · at most 200 tokens"), or says
// that it took the model's defaults.
func optionsOf(o *wire.Options) string {
	if o == nil {
		o = &wire.Options{}
	}
	var parts []string
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if v := o.Temperature; v != nil {
		parts = append(parts, "temperature "+num(*v))
	}
	if v := o.Seed; v != nil {
		parts = append(parts, "seed "+strconv.FormatInt(*v, 10))
	}
	if v := o.NumPredict; v != nil {
		switch {
		case *v < 0:
			parts = append(parts, "no token limit")
		case *v == 1:
			parts = append(parts, "at most 1 token")
		default:
			parts = append(parts, fmt.Sprintf("at most %d tokens", *v))
		}
	}
	if v := o.NumCtx; v != nil {
		parts = append(parts, fmt.Sprintf("context of %d tokens", *v))
	}
	if v := o.Rate; v != nil {
		if *v == 0 {
			parts = append(parts, "pace as fast as possible")
		} else {
			parts = append(parts, "pace "+num(*v)+" tokens/s")
		}
	}
	if v := o.Think; v != nil {
		think := string(*v)
		switch *v {
		case wire.ThinkOn:
			think = "on"
		case wire.ThinkOff:
			think = "off"
		}
		parts = append(parts, "think "+think)
	}
	if len(parts) == 0 {
		return "the model's defaults"
	}
	return strings.Join(parts, " · ")
}

// endOf is why the stream ended: its done reason, "error", or "—" when it
// had not ended.
func endOf(st wire.StreamTranscript) string {
	if n := len(st.Events); n > 0 {
		switch e := st.Events[n-1]; e.Event {
		case wire.EventError:
			return "error"
		case wire.EventDone:
			var d wire.EventData
			if json.Unmarshal(e.Data, &d) == nil && d.Reason != "" {
				return d.Reason
			}
			return "done"
		}
	}
	return "—"
}

// errorOf returns the message and hint of the stream's error event.
func errorOf(st wire.StreamTranscript) (msg, hint string) {
	if n := len(st.Events); n > 0 && st.Events[n-1].Event == wire.EventError {
		var d wire.EventData
		if json.Unmarshal(st.Events[n-1].Data, &d) == nil {
			return d.Message, d.Hint
		}
	}
	return st.Error, ""
}

// figure formats a figure with one decimal, or "–" when it does not exist.
func figure(v float64, exists bool) string {
	if !exists {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

// cell makes text safe inside a table cell: one line, pipes escaped.
func cell(s string) string {
	return strings.ReplaceAll(inline(s), "|", `\|`)
}

// inline puts text on one line.
func inline(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// heading makes text safe in a heading: one line, no trailing #s that
// Markdown would take for the heading's closing sequence.
func heading(s string) string {
	return strings.TrimRight(inline(s), "#")
}

// writeFenced writes text verbatim in a fenced code block whose fence is
// longer than any run of backticks in it.
func writeFenced(b *bytes.Buffer, text string) {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	b.WriteString(fence + "text\n")
	b.WriteString(text)
	if !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(fence + "\n")
}

// clockFigure is a figure of a stream's phases, with * when it is
// Tokenloom's observation rather than the server's clock; – without an
// end.
func clockFigure(st *wire.Stats, of func(*wire.Stats) float64) string {
	if st == nil {
		return "–"
	}
	s := fmt.Sprintf("%.1f", of(st))
	if st.Clock != wire.ClockServer {
		s += "*"
	}
	return s
}
