package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// Demo is the built-in source: scripted, deterministic streams that need no
// model. Its models are named "demo/...".
type Demo struct{}

var _ Source = Demo{}

// DemoPrefix starts the name of every demo model.
const DemoPrefix = wire.DemoPrefix

// Demo model names.
const (
	DemoHello  = wire.DemoHello
	DemoHamlet = wire.DemoHamlet
	DemoFlood  = wire.DemoFlood
	DemoEcho   = wire.DemoEcho
	DemoThink  = wire.DemoThink
	DemoTask1  = wire.DemoTask1
	DemoTask2  = wire.DemoTask2
)

// Defaults of the demo sources.
const (
	// DefaultFloodTokens is the length of demo/flood when num_predict is unset.
	DefaultFloodTokens = 1000
	// DefaultEchoRate is the pace of demo/echo in tokens per second when the
	// rate option is unset.
	DefaultEchoRate = 10
)

type demoModel struct {
	name        string
	description string
	thinks      bool
}

var demoModels = []demoModel{
	{DemoHello, `"Hello world" over about 2 s: "Hello" after 1 s, " world" after 2 s`, false},
	{DemoHamlet, `"To be, or not to be, that is the question." over about 3 s`, false},
	{DemoFlood, "a fast stream of many tokens for load tests; num_predict sets its length (default 1000), rate its tokens per second (default: as fast as possible)", false},
	{DemoEcho, "streams the prompt back word by word; rate sets its tokens per second (default 10, 0: as fast as possible)", false},
	{DemoTask1, "the lesson's task 1: three steps over 2 s, a token as each step ends (pair it with demo/task2)", false},
	{DemoTask2, "the lesson's task 2: two steps over 3 s, a token as each step ends: 5 s one after the other, 3 s side by side", false},
	{DemoThink, "a thinking model: reasons for about 2 s, then answers \"Hello! How can I help?\" over about 1 s; think false answers at once", true},
}

// Models lists the demo sources.
func (Demo) Models(context.Context) ([]wire.Model, error) {
	out := make([]wire.Model, 0, len(demoModels))
	for _, m := range demoModels {
		caps := []string{wire.CapabilityCompletion}
		if m.thinks {
			caps = append(caps, wire.CapabilityThinking)
		}
		out = append(out, wire.Model{Name: m.name, Source: wire.SourceDemo, Description: m.description, Capabilities: caps})
	}
	return out, nil
}

// DemoModelNames returns the names of the demo sources.
func DemoModelNames() []string {
	names := make([]string, 0, len(demoModels))
	for _, m := range demoModels {
		names = append(names, m.name)
	}
	return names
}

// Generate plays the script of req.Model. Tokens are scheduled against the
// stream's start, so delays do not drift.
func (Demo) Generate(ctx context.Context, req Request, emit Emitter) (Result, error) {
	var s script
	switch req.Model {
	case DemoHello:
		s = spread([]string{"Hello", " world"}, 2*time.Second)
	case DemoHamlet:
		s = spread(hamletTokens, 3*time.Second)
	case DemoFlood:
		n := DefaultFloodTokens
		if p := req.Options.NumPredict; p != nil && *p > 0 {
			n = *p
		}
		s = paced(n, floodToken, rateOf(req.Options, 0))
		// The flood's length is set by num_predict, so it ends with stop.
		return playScript(ctx, s, -1, emit)
	case DemoTask1:
		s = spread(task1Steps, 2*time.Second)
	case DemoTask2:
		s = spread(task2Steps, 3*time.Second)
	case DemoEcho:
		words := echoTokens(req.Prompt)
		s = paced(len(words), func(i int) string { return words[i] }, rateOf(req.Options, DefaultEchoRate))
	case DemoThink:
		if t := req.Options.Think; t != nil && *t == wire.ThinkOff {
			s = spread(thinkAnswer, time.Second)
			break
		}
		s = spread(append(slices.Clone(thinkReasoning), thinkAnswer...), 3*time.Second)
		s.thinking = func(i int) bool { return i < len(thinkReasoning) }
	default:
		return Result{}, modelNotFound(req.Model, "demo sources: "+strings.Join(DemoModelNames(), ", "))
	}
	limit := -1
	if p := req.Options.NumPredict; p != nil && *p >= 0 {
		limit = *p
	}
	return playScript(ctx, s, limit, emit)
}

// script is n tokens, each with its time after the start, made as they
// are played: a long flood holds no list of its tokens.
type script struct {
	n     int
	token func(i int) string
	at    func(i int) time.Duration
	// thinking tells the tokens of the reasoning from those of the answer;
	// nil: all answer.
	thinking func(i int) bool
}

// spread places tokens evenly so that the last one lands at total.
func spread(tokens []string, total time.Duration) script {
	n := len(tokens)
	return script{n: n, token: func(i int) string { return tokens[i] },
		at: func(i int) time.Duration { return total * time.Duration(i+1) / time.Duration(n) }}
}

// paced places n tokens at rate tokens per second; rate 0 means all at
// once.
func paced(n int, token func(int) string, rate float64) script {
	return script{n: n, token: token, at: func(i int) time.Duration {
		if rate > 0 {
			return durationOf(float64(i+1) / rate)
		}
		return 0
	}}
}

func rateOf(o wire.Options, def float64) float64 {
	if o.Rate != nil {
		return *o.Rate
	}
	return def
}

// playScript emits the script's tokens at their times; limit < 0 means no
// token limit.
func playScript(ctx context.Context, s script, limit int, emit Emitter) (Result, error) {
	thinking := func(i int) bool { return s.thinking != nil && s.thinking(i) }
	if s.n > 0 && thinking(0) {
		emit.Phase(wire.PhaseThinking)
	} else {
		emit.Phase(wire.PhaseGenerating)
	}
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := range s.n {
		if limit >= 0 && i >= limit {
			return Result{Reason: wire.ReasonLength}, nil
		}
		// Sleep only when more than a millisecond ahead: fast floods would
		// otherwise spend their time in timers.
		if wait := s.at(i) - time.Since(start); wait > time.Millisecond {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return Result{}, ctx.Err()
			case <-timer.C:
			}
		} else if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if thinking(i) {
			emit.Thinking(s.token(i))
			continue
		}
		if i > 0 && thinking(i-1) {
			emit.Phase(wire.PhaseGenerating) // the answer begins
		}
		emit.Token(s.token(i))
	}
	return Result{Reason: wire.ReasonStop}, nil
}

var (
	thinkReasoning = []string{"The", " user", " says", " hi", ".", " A", " greeting", " back", ",", " short", " and", " friendly", ",", " then", " an", " offer", " to", " help", "."}
	thinkAnswer    = []string{"Hello", "!", " How", " can", " I", " help", "?"}
)

// The lesson's tasks, a token a step: what each step did, as it ends.
var (
	task1Steps = []string{"task 1: step 1/3 done · ", "step 2/3 done · ", "step 3/3 done: task 1 finished"}
	task2Steps = []string{"task 2: step 1/2 done · ", "step 2/2 done: task 2 finished"}
)

var hamletTokens = []string{"To", " be", ",", " or", " not", " to", " be", ",", " that", " is", " the", " question", "."}

var floodWords = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do
	eiusmod tempor incididunt ut labore et dolore magna aliqua`)

// floodToken is token i of demo/flood: deterministic words, a line break
// after every twelfth.
func floodToken(i int) string {
	w := floodWords[i%len(floodWords)]
	switch {
	case i%12 == 11:
		return " " + w + "\n"
	case i%12 == 0:
		return w
	default:
		return " " + w
	}
}

// echoTokens splits the prompt before each space, the way language models
// tokenise words: "a b  c" -> "a", " b", " ", " c". Joining them gives the
// prompt back exactly.
func echoTokens(prompt string) []string {
	var out []string
	start := 0
	for i := 1; i < len(prompt); i++ {
		if prompt[i] == ' ' {
			out = append(out, prompt[start:i])
			start = i
		}
	}
	if start < len(prompt) {
		out = append(out, prompt[start:])
	}
	return slices.Clip(out)
}
