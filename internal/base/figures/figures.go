// Package figures computes the timing figures of streams and runs: time to
// first token (TTFT), tokens per second, inter-token latency percentiles,
// and a run's wall time against the time of its streams. It is the one home
// of those formulas: the server's stats, the app's live status line and
// stats table, the terminal summary, the Markdown report and the bench all
// compute with it. It depends on package wire only.
//
// Times are milliseconds of run time (t_ms) unless a name says otherwise.
package figures

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TTFT is the time to first token: from the stream's start (its turn, in
// sync mode) at startMs to its first token at firstMs.
func TTFT(startMs, firstMs float64) float64 { return firstMs - startMs }

// TokensPerS is tokens per second of generation: tokens divided by the time
// from the first token (firstMs) to the end (endMs), or by durationMs, the
// stream's whole time, for a single token or when no time passed after the
// first one. It is 0 when there is no time to divide by. Unrounded.
func TokensPerS(tokens int, firstMs, endMs, durationMs float64) float64 {
	gen := (endMs - firstMs) / 1000
	if tokens == 1 || gen <= 0 {
		gen = durationMs / 1000
	}
	if gen <= 0 {
		return 0
	}
	return float64(tokens) / gen
}

// MinRateSpanMs is the shortest time, in milliseconds, over which tokens
// per second are shown. Tokens that arrive within a few milliseconds of
// one another (a burst: a fast model, or tokens that waited in a buffer)
// give rates of hundreds of thousands of tokens per second that measure
// the buffer, not the model.
const MinRateSpanMs = 100

// RateShown reports whether a rate of tokens over spanMs, the time from
// the first generated token to the last, means something and is worth
// showing: at least two tokens (one token has no rate) over at least
// MinRateSpanMs. The app's stats table and status lines and the terminal
// summary all show a rate only then.
func RateShown(tokens int, spanMs float64) bool {
	return tokens >= 2 && spanMs >= MinRateSpanMs
}

// StatsRateShown is RateShown for a stream's final stats: its tokens of the
// answer and the reasoning, from the first of them to the last.
func StatsRateShown(st *wire.Stats) bool {
	first := st.StartMs + FirstGenerated(st.ThinkingTokens, st.Tokens, st.ThinkingTTFTMs, st.TTFTMs)
	return RateShown(st.Tokens+st.ThinkingTokens, st.LastTokenMs-first)
}

// Timing is the TTFT and the tokens per second of a stream that has ended,
// as the server puts them in its stats: tokens tokens, the stream's start at
// startMs, its first token at firstMs and its end at endMs. The TTFT is
// rounded to the microsecond (RoundMs), tokens per second to one decimal;
// the duration a single token is divided by is RoundMs(endMs-startMs), the
// stats' duration_ms. Both are 0 without tokens.
func Timing(tokens int, startMs, firstMs, endMs float64) (ttftMs, tokensPerS float64) {
	if tokens <= 0 {
		return 0, 0
	}
	ttftMs = RoundMs(TTFT(startMs, firstMs))
	tokensPerS = roundRate(TokensPerS(tokens, firstMs, endMs, RoundMs(endMs-startMs)))
	return ttftMs, tokensPerS
}

// Thinking is the figures of a stream that thought before it answered, as
// the server puts them in its stats: thinkTokens thinking tokens from
// thinkFirstMs on, answerTokens answer tokens from answerFirstMs on, the
// stream's start at startMs and its end at endMs. ttftMs is the time to the
// first thinking token, thinkingMs the time from it to the answer's first
// token (or to the end, without an answer), tokensPerS the tokens of both
// per second after the first of them: thinking's figures rounded as Timing
// rounds.
func Thinking(thinkTokens, answerTokens int, startMs, thinkFirstMs, answerFirstMs, endMs float64) (ttftMs, thinkingMs, tokensPerS float64) {
	ttftMs, thinkingMs, tokensPerS = thinking(thinkTokens, answerTokens, startMs, thinkFirstMs, answerFirstMs, endMs, RoundMs(endMs-startMs))
	return RoundMs(ttftMs), RoundMs(thinkingMs), roundRate(tokensPerS)
}

// thinking is the one formula of a thinking stream's figures, unrounded
// (Thinking rounds them for the server's stats, FromMarks keeps them as
// they are): the time from startMs to the first of thinkTokens thinking
// tokens at thinkFirstMs, the time from it to the first of answerTokens
// answer tokens at answerFirstMs (or to endMs without an answer), and the
// tokens of both kinds per second after the first of either (TokensPerS,
// with durationMs the stream's whole time). The first two are 0 without
// thinking tokens, the third without tokens.
func thinking(thinkTokens, answerTokens int, startMs, thinkFirstMs, answerFirstMs, endMs, durationMs float64) (ttftMs, thinkingMs, tokensPerS float64) {
	if n := max(thinkTokens, 0) + answerTokens; n > 0 {
		tokensPerS = TokensPerS(n, FirstGenerated(thinkTokens, answerTokens, thinkFirstMs, answerFirstMs), endMs, durationMs)
	}
	if thinkTokens <= 0 {
		return 0, 0, tokensPerS
	}
	until := endMs
	if answerTokens > 0 {
		until = answerFirstMs
	}
	return TTFT(startMs, thinkFirstMs), max(until-thinkFirstMs, 0), tokensPerS
}

// FirstGenerated is when a stream generated its first token, of the
// reasoning or of the answer: the earlier of thinkFirstMs, the first of
// thinkTokens thinking tokens, and answerFirstMs, the first of answerTokens
// answer tokens; a kind without tokens does not count (answerFirstMs is
// returned when neither has any). Times on any one clock will do: t_ms, or
// TTFTs from the stream's start.
func FirstGenerated(thinkTokens, answerTokens int, thinkFirstMs, answerFirstMs float64) float64 {
	if thinkTokens > 0 && (answerTokens <= 0 || thinkFirstMs < answerFirstMs) {
		return thinkFirstMs
	}
	return answerFirstMs
}

// roundRate rounds tokens per second to one decimal, as the server's stats
// give them.
func roundRate(perS float64) float64 { return math.Round(perS*10) / 10 }

// ThoughtFor sums up a stream's reasoning as the app's fold line and the
// Markdown report both say it: "Thought for 12.4 s · 312 tokens", for
// tokens thinking tokens over ms milliseconds (Stream.ThinkingMs, the stats'
// thinking_ms).
func ThoughtFor(ms float64, tokens int) string {
	return fmt.Sprintf("Thought for %.1f s · %s", ms/1000, Plural(tokens, "token"))
}

// Plural counts n of word, which takes an s for any number but 1: "1
// token", "0 tokens", "12 tokens".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// RoundMs rounds a time in milliseconds to the microsecond, the precision
// of t_ms.
func RoundMs(ms float64) float64 { return math.Round(ms*1000) / 1000 }

// Median is the middle of xs (the mean of the two middle values of an
// even number), 0 for none. It leaves xs as they are.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// NearestRank returns the p-th percentile of xs by the nearest-rank method:
// of the n values sorted in increasing order, the one at rank
// ceil(p/100 × n), so it is always a value that occurred, never an
// interpolation. It returns the zero value for no values. It sorts xs.
func NearestRank[T cmp.Ordered](xs []T, p float64) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p * float64(len(xs)) / 100)) // p*n is exact for whole p
	return xs[min(max(rank, 1), len(xs))-1]
}
