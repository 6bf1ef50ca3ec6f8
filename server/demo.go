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
type Demo struct {
	mu      sync.Mutex
	engines map[engineKey]*demoEngine
}

var _ Source = (*Demo)(nil)

// NewDemo returns the demo source.
func NewDemo() *Demo { return &Demo{engines: map[engineKey]*demoEngine{}} }

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
	start := time.Now()
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
	res, err := playScript(ctx, s, limit, emit)
	if err == nil {
		res.Clock = &ServerClock{Generation: time.Since(start)}
	}
	return res, err
}

// engineKey names the simulated machine of a run's streams of one model.
type engineKey struct{ run, model string }

// demoEngine is the simulated machine of demo/shared or demo/oneslot in one
// run.
type demoEngine struct {
	users int // the streams using it
	// shared: the next tick of the engine not yet taken
	mu   sync.Mutex
	next time.Time
	// oneslot: holds a token while a stream is answered
	slot chan struct{}
}

// engine returns the engine of key, made on first use; release it with
// the function returned.
func (d *Demo) engine(key engineKey) (*demoEngine, func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.engines[key]
	if e == nil {
		e = &demoEngine{slot: make(chan struct{}, 1)}
		d.engines[key] = e
	}
	e.users++
	return e, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if e.users--; e.users == 0 {
			delete(d.engines, key)
		}
	}
}

// tick takes the engine's next free tick: one every 1/EngineRate seconds,
// handed out in turn, so that k streams asking at once get one in k each.
func (e *demoEngine) tick() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next = later(e.next, time.Now()).Add(time.Second / EngineRate)
	return e.next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// onEngine counts on the run's engine of req.Model: demo/shared takes each
// token's tick of the shared engine; demo/oneslot waits queued for the one
// slot, then counts at EngineRate.
func (d *Demo) onEngine(ctx context.Context, req Request, limit int, emit Emitter) (Result, error) {
	start := time.Now()
	e, release := d.engine(engineKey{req.Run, req.Model})
	defer release()
	n := DefaultEngineTokens
	if limit >= 0 {
		n = limit
	}
	var clock ServerClock
	if req.Model == wire.DemoOneSlot {
		select {
		case e.slot <- struct{}{}:
		default:
			emit.Phase(wire.PhaseQueued)
			select {
			case e.slot <- struct{}{}:
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
			clock.Queued = time.Since(start)
		}
		defer func() { <-e.slot }()
	}
	emit.Phase(wire.PhaseGenerating)
	began := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := range n {
		at := began.Add(time.Duration(i+1) * time.Second / EngineRate)
		if req.Model == wire.DemoShared {
			at = e.tick()
		}
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return Result{}, ctx.Err()
			case <-timer.C:
			}
		}
		emit.Token(countWord(i))
	}
	clock.Generation = time.Since(began)
	reason := wire.ReasonStop
	if limit >= 0 {
		reason = wire.ReasonLength
	}
	return Result{Reason: reason, Clock: &clock}, nil
}

// countWord is token i of the engines' counting: " one", " two", …
// " twenty", then again.
func countWord(i int) string { return " " + countWords[i%len(countWords)] }

var countWords = strings.Fields(`one two three four five six seven eight nine ten
	eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty`)

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
