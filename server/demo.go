package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Demo is the built-in source: scripted, deterministic streams that need no
// model. Its models are named "demo/...". Most play a fixed schedule, as a
// remote server or a timer would: streams side by side do not slow one
// another. Two simulate a machine of their own for each run: demo/shared
// one engine whose capacity the run's streams share, demo/oneslot a server
// that answers one request at a time. Use it through NewDemo.
//
// Its scripts play on a Clock (WithClock): the times of its tokens and its
// own account of a stream's time come from it, so that on a fake clock a
// demo run takes no real time and its figures are exact.
type Demo struct {
	clock Clock
	// waits counts demo/oneslot's streams queued behind the one it serves.
	waits waitRoom

	mu      sync.Mutex
	engines map[engineKey]*demoEngine
}

var _ Source = (*Demo)(nil)

// NewDemo returns the demo source. Of the SourceOptions it takes WithClock.
func NewDemo(opts ...SourceOption) *Demo {
	return &Demo{clock: newSourceOptions(opts).clock, engines: map[engineKey]*demoEngine{}}
}

// Defaults of the demo sources.
const (
	// DefaultFloodTokens is the length of demo/flood when num_predict is unset.
	DefaultFloodTokens = 1000
	// DefaultEchoRate is the pace of demo/echo in tokens per second when the
	// rate option is unset.
	DefaultEchoRate = 10
	// DefaultEngineTokens is the length of demo/shared and demo/oneslot when
	// num_predict is unset.
	DefaultEngineTokens = 20
	// EngineRate is the capacity of demo/shared's engine and the pace of
	// demo/oneslot, in tokens per second: a stream alone gets all of it.
	EngineRate = 10
)

type demoModel struct {
	name        string
	description string
	thinks      bool
}

var demoModels = []demoModel{
	{wire.DemoHello, `"Hello world" over about 2 s: "Hello" after 1 s, " world" after 2 s`, false},
	{wire.DemoHamlet, `"To be, or not to be, that is the question." over about 3 s`, false},
	{wire.DemoFlood, "a fast stream of many tokens for load tests; num_predict sets its length (default 1000), rate its tokens per second (default: as fast as possible)", false},
	{wire.DemoEcho, "streams the prompt back word by word; rate sets its tokens per second (default 10, 0: as fast as possible)", false},
	{wire.DemoTask1, "the lesson's task 1: three steps over 2 s, a token as each step ends (pair it with demo/task2)", false},
	{wire.DemoTask2, "the lesson's task 2: two steps over 3 s, a token as each step ends: 5 s one after the other, 3 s side by side", false},
	{wire.DemoThink, "a thinking model: reasons for about 2 s, then answers \"Hello! How can I help?\" over about 1 s; think false answers at once", true},
	{wire.DemoShared, "counts on one engine of 10 tokens/s that the run's streams of it share: alone a stream gets all of it (20 tokens in 2 s), k at once get 1/k each; num_predict sets its length", false},
	{wire.DemoOneSlot, "counts at 10 tokens/s on a server that answers one request at a time: the run's other streams of it wait queued; num_predict sets its length (default 20)", false},
}

// Models lists the demo sources.
func (*Demo) Models(context.Context) ([]wire.Model, error) {
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
// stream's start, so delays do not drift. A stream that ends normally
// reports the demo's own clock: the time it queued (demo/oneslot) and the
// time it generated.
func (d *Demo) Generate(ctx context.Context, req Request, emit Emitter) (Result, error) {
	emit.Sent()
	start := d.clock.Now()
	var s script
	limit := -1
	if p := req.Options.NumPredict; p != nil && *p >= 0 {
		limit = *p
	}
	switch req.Model {
	case wire.DemoHello:
		s = spread([]string{"Hello", " world"}, 2*time.Second)
	case wire.DemoHamlet:
		s = spread(hamletTokens, 3*time.Second)
	case wire.DemoFlood:
		n := DefaultFloodTokens
		if p := req.Options.NumPredict; p != nil && *p > 0 {
			n = *p
		}
		s = paced(n, floodToken, rateOf(req.Options, 0))
		limit = -1 // the flood's length is set by num_predict, so it ends with stop
	case wire.DemoTask1:
		s = spread(task1Steps, 2*time.Second)
	case wire.DemoTask2:
		s = spread(task2Steps, 3*time.Second)
	case wire.DemoEcho:
		words := echoTokens(req.Prompt)
		s = paced(len(words), func(i int) string { return words[i] }, rateOf(req.Options, DefaultEchoRate))
	case wire.DemoThink:
		if t := req.Options.Think; t != nil && *t == wire.ThinkOff {
			s = spread(thinkAnswer, time.Second)
			break
		}
		s = spread(append(slices.Clone(thinkReasoning), thinkAnswer...), 3*time.Second)
		s.thinking = func(i int) bool { return i < len(thinkReasoning) }
	case wire.DemoShared, wire.DemoOneSlot:
		return d.onEngine(ctx, req, limit, emit)
	default:
		return Result{}, modelNotFound(req.Model, "demo sources: "+strings.Join(DemoModelNames(), ", "))
	}
	res, err := playScript(ctx, d.clock, s, limit, emit)
	if err == nil {
		res.Clock = &ServerClock{Generation: d.clock.Now().Sub(start)}
	}
	return res, err
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

// playScript emits the script's tokens at their times on clock; limit < 0
// means no token limit.
func playScript(ctx context.Context, clock Clock, s script, limit int, emit Emitter) (Result, error) {
	thinking := func(i int) bool { return s.thinking != nil && s.thinking(i) }
	if s.n > 0 && thinking(0) {
		emit.Phase(wire.PhaseThinking)
	} else {
		emit.Phase(wire.PhaseGenerating)
	}
	start := clock.Now()
	for i := range s.n {
		if limit >= 0 && i >= limit {
			return Result{Reason: wire.ReasonLength}, nil
		}
		// Sleep only when more than a millisecond ahead: fast floods would
		// otherwise spend their time in timers.
		if wait := s.at(i) - clock.Now().Sub(start); wait > time.Millisecond {
			if err := sleep(ctx, clock, wait); err != nil {
				return Result{}, err
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
