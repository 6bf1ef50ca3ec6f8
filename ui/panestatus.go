package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// A pane's status is two lines: where the stream is (state and time) over
// its figures. statusText joins them in one.

// statusText is the whole status: its state, then its figures.
func (p *Pane) statusText() string {
	state, figs := p.statusLines()
	if figs == "" {
		return state
	}
	return state + " · " + figs
}

// statusLines says where the stream is, and its live figures.
func (p *Pane) statusLines() (state, figs string) {
	if p.state == paneIdle {
		return strings.Join(append([]string{"ready"}, p.optionsSummary()...), " · "), ""
	}
	var head []string
	if p.turn > 1 {
		head = append(head, fmt.Sprintf("turn %d", p.turn))
	}
	switch p.state {
	case paneRunning:
		elapsed := fmt.Sprintf("%.1f s", time.Since(p.began).Seconds())
		if p.phase == wire.PhaseQueued {
			return p.queuedText(head, elapsed), p.liveFigures()
		}
		head = append(head, phaseWords(p.phase), elapsed)
	case paneDone:
		head = append(head, p.endingWords())
	case paneFailed:
		head = append(head, "error")
	}
	st := p.stats
	if st == nil {
		return strings.Join(head, " · "), p.liveFigures()
	}
	head = append(head, fmt.Sprintf("%.2f s", st.DurationMs/1000))
	var parts []string
	if st.Tokens > 0 {
		parts = append(parts, p.ttftWords(st.TTFTMs))
	}
	if figures.StatsRateShown(st) {
		parts = append(parts, fmt.Sprintf("%.1f tok/s", st.TokensPerS))
	}
	parts = append(parts, tokenCount(st.Tokens, st.ThinkingTokens))
	if o := st.Ollama; o != nil && time.Duration(o.LoadDurationNs) >= figures.ColdLoad {
		parts = append(parts, fmt.Sprintf("model load %.1f s", time.Duration(o.LoadDurationNs).Seconds()))
	}
	return strings.Join(head, " · "), strings.Join(parts, " · ")
}

// liveFigures are the figures of a stream still going, from its events.
func (p *Pane) liveFigures() string {
	var parts []string
	thinking := p.thought.tokens
	if p.tokens > 0 {
		parts = append(parts, p.ttftWords(figures.TTFT(p.startMs, p.firstMs)))
	}
	// Tokens per second count the reasoning's tokens too, as the server's
	// figure does.
	if n, first := p.tokens+thinking, figures.FirstGenerated(thinking, p.tokens, p.thought.firstMs, p.firstMs); figures.RateShown(n, p.lastMs-first) {
		parts = append(parts, fmt.Sprintf("%.1f tok/s", figures.TokensPerS(n, first, p.lastMs, 0)))
	}
	if p.tokens+thinking == 0 {
		return ""
	}
	return strings.Join(append(parts, tokenCount(p.tokens, thinking)), " · ")
}

// ttftWords is the time to the first token, and in a sync run, where the
// stream waited for its turn (every stream after the first), when that token came on the run's clock: what
// the user waited.
func (p *Pane) ttftWords(ttftMs float64) string {
	s := fmt.Sprintf("TTFT %.0f ms", ttftMs)
	if p.app.runMode == wire.ModeSync && slices.Index(p.app.runPanes, p) > 0 && p.firstMs > 0 {
		s += fmt.Sprintf(" · first token at %.2f s", p.firstMs/1000)
	}
	return s
}

// endingWords says how a stream that is done ended, in the user's words.
func (p *Pane) endingWords() string {
	switch p.reason {
	case wire.ReasonStop:
		return "finished"
	case wire.ReasonCancelled:
		return "stopped by you"
	case wire.ReasonLength:
		if p.asked > 0 && p.tokens+p.thought.tokens >= p.asked {
			return fmt.Sprintf("hit the %d-token limit", p.asked)
		}
		return "hit the context limit"
	case "":
		return "done"
	}
	return "done (" + p.reason + ")"
}

// lengthNote explains a stream that ended at a length limit it was not
// asked for: Ollama stops where the model's context window is full.
func (p *Pane) lengthNote() string {
	if p.reason != wire.ReasonLength || p.asked > 0 && p.tokens+p.thought.tokens >= p.asked {
		return ""
	}
	n := p.tokens + p.thought.tokens
	if p.asked > 0 {
		return fmt.Sprintf("Stopped after %d of the %d tokens asked: the model's context window (Ollama's num_ctx) is full.", n, p.asked)
	}
	return fmt.Sprintf("Stopped after %d tokens: the model's context window (Ollama's num_ctx) is full, or the model's own limit was reached.", n)
}

// tokenCount counts the answer's tokens, and the reasoning's beside them:
// "7 tokens + 19 thinking", or "19 thinking tokens" before the answer.
func tokenCount(answer, thinking int) string {
	switch {
	case thinking == 0:
		return figures.Plural(answer, "token")
	case answer == 0:
		return figures.Plural(thinking, "thinking token")
	}
	return figures.Plural(answer, "token") + fmt.Sprintf(" + %d thinking", thinking)
}

// phaseWords is what the status line says of a running stream's phase.
func phaseWords(phase string) string {
	if phase == wire.PhaseThinking {
		return "thinking…"
	}
	return phase
}

// queuedText is the status line of a queued stream: the longest of its
// wordings that fits the line after head, elapsed last.
func (p *Pane) queuedText(head []string, elapsed string) string {
	words := []string{
		"queued in Ollama: " + p.runModel + " is serving another stream",
		"queued in Ollama: serving another stream first",
		"queued in Ollama",
	}
	line := func(w string) string { return strings.Join(append(slices.Clone(head), w, elapsed), " · ") }
	width := p.status.Size().Width - 2*theme.InnerPadding()
	size := theme.Size(theme.SizeNameCaptionText)
	for _, w := range words {
		if text := line(w); width <= 0 || fyne.MeasureText(text, size, p.status.TextStyle).Width <= width {
			return text
		}
	}
	return line(words[len(words)-1])
}

func (p *Pane) updateStatus() {
	// Two lines always: the text below does not jump when figures come.
	state, figs := p.statusLines()
	if figs == "" {
		figs = " "
	}
	p.status.SetText(state + "\n" + figs)
	p.thought.update()
	p.statusAt = time.Now()
}
