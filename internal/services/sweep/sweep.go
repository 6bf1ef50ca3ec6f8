// Package sweep runs a concurrency sweep and reads it: the same prompt on
// one model at 1, 2, 4, 8… streams at once, each step repeated, with per
// step the wall time, the aggregate and the per-stream tokens per second,
// the time to first token and the time the streams waited queued. From
// how the aggregate throughput grows with the streams it names what async
// buys that model server (figures.Regime): nearly everything when the
// streams only wait, less when they share the machine, nothing when the
// server takes them one at a time.
//
// Files: sweep.go the figures of a sweep and its sentences; run.go the
// driver that runs one through the server; chart.go its picture.
package sweep

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Limits of a sweep.
const (
	// MaxStreams is the most streams of one step: the server's default cap
	// of a run's streams.
	MaxStreams = 16
	// MaxRepeat is the most times one step is run.
	MaxRepeat = 20
)

// DefaultStreams are the steps of a sweep that does not say.
var DefaultStreams = []int{1, 2, 4, 8}

// DefaultPrompt is every stream's prompt when the sweep does not say: one
// that a model answers at length.
const DefaultPrompt = "Tell me a long story about a lighthouse keeper."

// DefaultMaxTokens is how many tokens each stream asks for when the sweep
// does not say: enough for a rate, short enough that eight queued streams
// of a slow model end within minutes.
const DefaultMaxTokens = 128

// Spec is what a sweep runs.
type Spec struct {
	// Model and Endpoint name the model, as a stream does (StreamSpec).
	Model    string `json:"model"`
	Endpoint string `json:"endpoint,omitempty"`
	// Prompt is every stream's prompt.
	Prompt string `json:"prompt"`
	// Streams are the numbers of streams at once of the steps, in order.
	Streams []int `json:"streams"`
	// Repeat is how many times each step runs.
	Repeat int `json:"repeat"`
	// Options are every stream's options; NumPredict is the tokens each
	// asks for.
	Options wire.Options `json:"options,omitzero"`
}

// Name is the model as `-m` names it: MODEL or MODEL@ENDPOINT.
func (s Spec) Name() string {
	return endpoints.ModelRef{Model: s.Model, Endpoint: s.Endpoint}.String()
}

// Check says what is wrong with s, in words a person can act on, or nil.
func (s Spec) Check() error {
	switch {
	case s.Model == "":
		return errors.New("a sweep needs a model")
	case strings.TrimSpace(s.Prompt) == "":
		return errors.New("a sweep needs a prompt")
	case len(s.Streams) == 0:
		return errors.New("a sweep needs at least one number of streams")
	case s.Repeat < 1 || s.Repeat > MaxRepeat:
		return fmt.Errorf("repeat %d: want 1 to %d", s.Repeat, MaxRepeat)
	}
	for i, n := range s.Streams {
		if n < 1 || n > MaxStreams {
			return fmt.Errorf("%d streams: want 1 to %d at once", n, MaxStreams)
		}
		if i > 0 && n <= s.Streams[i-1] {
			return fmt.Errorf("streams %v: want them increasing", s.Streams)
		}
	}
	return nil
}

// ParseStreams reads "1,2,4,8".
func ParseStreams(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil {
			return nil, fmt.Errorf("streams %q: want numbers like 1,2,4,8", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Figures are what a sweep measures at a number of streams: of one step,
// or the median of a point's steps.
type Figures struct {
	// WallMs is the run's wall time.
	WallMs float64 `json:"wall_ms"`
	// AggregateTokensPerS is the finished streams' tokens (of the
	// reasoning and the answer) over the wall time: what the server
	// delivered to all streams together.
	AggregateTokensPerS float64 `json:"aggregate_tokens_per_s"`
	// PerStreamTokensPerS is the median stream's rate of generation (by
	// the server's clock where it gives one: Ollama's eval rate).
	PerStreamTokensPerS float64 `json:"per_stream_tokens_per_s"`
	// TTFTP50Ms and TTFTP95Ms are the streams' times to first token
	// (nearest rank).
	TTFTP50Ms float64 `json:"ttft_p50_ms"`
	TTFTP95Ms float64 `json:"ttft_p95_ms"`
	// QueuedMs is the time the streams waited in the server's queue,
	// together; Queued how many waited long enough to say
	// (figures.WasQueued).
	QueuedMs float64 `json:"queued_ms"`
	Queued   int     `json:"queued_streams"`
	// Failed counts the streams that failed or were stopped.
	Failed int `json:"failed"`
}

// Step is one run of a sweep: Streams streams at once, the Repeat-th time.
type Step struct {
	Streams int    `json:"streams"`
	Repeat  int    `json:"repeat"` // from 1
	Run     string `json:"run"`
	Figures
	// Tokens are the tokens the finished streams produced, Finished how
	// many finished.
	Tokens   int `json:"tokens"`
	Finished int `json:"finished"`
	// TTFTs are the finished streams' times to first token, for the
	// percentiles of a point over its repeats.
	TTFTs []float64 `json:"ttfts_ms,omitempty"`
}

// StepOf reads the step of a finished run t: n streams, the repeat-th
// time.
func StepOf(t *wire.Transcript, n, repeat int) Step {
	s := Step{Streams: n, Repeat: repeat, Run: t.ID}
	outs := figures.OutcomesOf(t)
	rt := figures.RunTimeOf(outs)
	s.WallMs = figures.RoundMs(rt.WallMs)
	var rates []float64
	for _, o := range outs {
		st := o.Stats
		if st == nil {
			s.Failed++
			continue
		}
		s.QueuedMs += st.QueuedMs
		if figures.WasQueued(st) {
			s.Queued++
		}
		if o.End != figures.EndNormal {
			s.Failed++
			continue
		}
		s.Finished++
		s.Tokens += st.Tokens + st.ThinkingTokens
		if st.Tokens > 0 {
			s.TTFTs = append(s.TTFTs, st.TTFTMs)
		}
		if r, ok := rateOf(st); ok {
			rates = append(rates, r)
		}
	}
	s.QueuedMs = figures.RoundMs(s.QueuedMs)
	if rt.WallMs > 0 {
		s.AggregateTokensPerS = round2(float64(s.Tokens) / (rt.WallMs / 1000))
	}
	s.PerStreamTokensPerS = round2(figures.Median(rates))
	s.TTFTP50Ms = figures.NearestRank(slices.Clone(s.TTFTs), 50)
	s.TTFTP95Ms = figures.NearestRank(slices.Clone(s.TTFTs), 95)
	return s
}

// rateOf is a stream's rate of generation: Ollama's eval rate, else the
// stream's tokens per second as the server measures them (unrounded: the
// stats' are to a tenth, too coarse for a slow stream's ratio).
func rateOf(st *wire.Stats) (float64, bool) {
	if o := st.Ollama; o != nil && o.EvalDurationNs > 0 && o.EvalCount > 0 {
		return float64(o.EvalCount) / (float64(o.EvalDurationNs) / 1e9), true
	}
	n := st.Tokens + st.ThinkingTokens
	first := st.StartMs + figures.FirstGenerated(st.ThinkingTokens, st.Tokens, st.ThinkingTTFTMs, st.TTFTMs)
	r := figures.TokensPerS(n, first, st.EndMs, st.DurationMs)
	return r, n > 0 && r > 0
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Point is a sweep's figures at one number of streams: the median of its
// repeats' steps, the percentiles of time to first token over all their
// streams, the most streams that queued in one of them and the failures
// of all.
type Point struct {
	Streams int `json:"streams"`
	Steps   int `json:"steps"`
	Figures
}

// Result is a sweep: what it ran and the steps it ran, in order.
type Result struct {
	// ID names the sweep in the history ("w_…").
	ID        string    `json:"id"`
	Spec      Spec      `json:"spec"`
	StartedAt time.Time `json:"started_at"`
	Steps     []Step    `json:"steps"`
	// Stopped is set when the sweep was stopped before its last step.
	Stopped bool `json:"stopped,omitempty"`
}

// Points are the figures at each number of streams that has steps, in the
// spec's order.
func (r *Result) Points() []Point {
	var out []Point
	for _, n := range r.Spec.Streams {
		var steps []Step
		for _, s := range r.Steps {
			if s.Streams == n {
				steps = append(steps, s)
			}
		}
		if len(steps) == 0 {
			continue
		}
		p := Point{Streams: n, Steps: len(steps)}
		var ttfts []float64
		of := func(f func(Step) float64) float64 {
			vs := make([]float64, len(steps))
			for i, s := range steps {
				vs[i] = f(s)
			}
			return figures.Median(vs)
		}
		p.WallMs = figures.RoundMs(of(func(s Step) float64 { return s.WallMs }))
		p.AggregateTokensPerS = round2(of(func(s Step) float64 { return s.AggregateTokensPerS }))
		p.PerStreamTokensPerS = round2(of(func(s Step) float64 { return s.PerStreamTokensPerS }))
		p.QueuedMs = figures.RoundMs(of(func(s Step) float64 { return s.QueuedMs }))
		for _, s := range steps {
			ttfts = append(ttfts, s.TTFTs...)
			p.Queued = max(p.Queued, s.Queued)
			p.Failed += s.Failed
		}
		p.TTFTP50Ms = figures.NearestRank(ttfts, 50)
		p.TTFTP95Ms = figures.NearestRank(ttfts, 95)
		out = append(out, p)
	}
	return out
}

// Shares of the ideal that name a regime.
const (
	// waitingShare: an aggregate at least this share of N times one
	// stream's grew as if the streams only waited.
	waitingShare = 0.8
	// flatGain: an aggregate at most this many times one stream's did
	// not grow.
	flatGain = 1.15
	// growStep: from one step to the next the aggregate grew when it
	// grew by more than this share.
	growStep = 0.1
	// asFast: a stream at this share of its rate alone kept its rate.
	asFast = 0.9
)

// Regime names what async bought the model server, from how the
// aggregate throughput grew with the streams: RegimeWaiting when it grew
// nearly as the streams (each ran as fast as alone), RegimeQueued when
// most streams of the last step waited in the server's queue (it took
// them in turn), RegimeSharing otherwise: it grew less than the streams,
// or not at all, without a queue (they shared the machine).
// RegimeUnknown with fewer than two points or a first point without
// tokens.
func (r *Result) Regime() figures.Regime {
	pts := r.Points()
	if len(pts) < 2 || pts[0].AggregateTokensPerS <= 0 || pts[0].Streams != 1 {
		return figures.RegimeUnknown
	}
	last := pts[len(pts)-1]
	switch gain := last.AggregateTokensPerS / pts[0].AggregateTokensPerS; {
	case gain >= waitingShare*float64(last.Streams):
		return figures.RegimeWaiting
	case 2*last.Queued >= last.Streams-1 && last.Queued > 0:
		return figures.RegimeQueued
	}
	return figures.RegimeSharing
}

// Sentences read the sweep's figures: how the aggregate grew against the
// ideal, how each stream's rate held, and why.
func (r *Result) Sentences() []string {
	pts := r.Points()
	if len(pts) == 0 {
		return []string{"The sweep has no step that ended."}
	}
	if pts[0].Streams != 1 || pts[0].AggregateTokensPerS <= 0 || len(pts) < 2 {
		return []string{"A sweep reads from 1 stream to more: run one with 1 and at least one more number of streams."}
	}
	one, last := pts[0], pts[len(pts)-1]
	gain := last.AggregateTokensPerS / one.AggregateTokensPerS
	perStream := func(p Point) string {
		if one.PerStreamTokensPerS <= 0 {
			return ""
		}
		return fmt.Sprintf("%.0f%%", 100*p.PerStreamTokensPerS/one.PerStreamTokensPerS)
	}
	var out []string
	switch r.Regime() {
	case figures.RegimeWaiting:
		s := fmt.Sprintf("Aggregate throughput grew with the streams: %.1f× at %d, where the ideal is %d×.", gain, last.Streams, last.Streams)
		if p := perStream(last); p != "" {
			s += fmt.Sprintf(" Each stream ran about as fast as alone (%s of its rate at 1 stream): the streams only waited, so async saved nearly everything.", p)
		}
		out = append(out, s)
	case figures.RegimeQueued:
		out = append(out, fmt.Sprintf("Aggregate throughput stayed about where 1 stream's is (%.2f× at %d, where the ideal is %d×): the server answers one request at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10), and at %d streams %d of them waited in its queue, %s in all.",
			gain, last.Streams, last.Streams, last.Streams, last.Queued, seconds(last.QueuedMs)))
		out = append(out, "Async buys nothing here: the streams took turns.")
	default:
		knee := kneeOf(pts)
		s := ""
		if gain <= flatGain {
			s = fmt.Sprintf("Aggregate throughput stayed at about 1 stream's (%.2f× at %d)", gain, last.Streams)
		} else if knee.Streams < last.Streams {
			s = fmt.Sprintf("Aggregate throughput grew to %.1f× at %d, then flattened (%.1f× at %d)", knee.AggregateTokensPerS/one.AggregateTokensPerS, knee.Streams, gain, last.Streams)
		} else {
			s = fmt.Sprintf("Aggregate throughput grew to %.1f× at %d, short of the ideal %d×", gain, last.Streams, last.Streams)
		}
		switch p := perStream(last); {
		case p == "":
		case last.PerStreamTokensPerS >= asFast*one.PerStreamTokensPerS:
			s += fmt.Sprintf(", though each stream kept its rate (%s of it alone)", p)
		default:
			s += fmt.Sprintf(", while each stream slowed to %s of its rate alone", p)
		}
		out = append(out, s+": the streams share the machine.")
	}
	return out
}

// kneeOf is the point after which the aggregate stops growing: the last
// point before the first step that grew by growStep or less.
func kneeOf(pts []Point) Point {
	for i := 1; i < len(pts); i++ {
		if pts[i].AggregateTokensPerS <= (1+growStep)*pts[i-1].AggregateTokensPerS {
			return pts[i-1]
		}
	}
	return pts[len(pts)-1]
}

func seconds(ms float64) string { return fmt.Sprintf("%.2f s", ms/1000) }
