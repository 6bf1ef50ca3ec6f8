package sweep_test

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/services/sweep"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

func TestMain(m *testing.M) { testenv.VerifyTestMain(m) }

// result is a sweep of steps at 1, 2, 4 and 8 streams, one step each, of
// the aggregate and per-stream rates given, with queued streams at
// queued[i].
func result(agg, per []float64, queued []int) *sweep.Result {
	r := &sweep.Result{Spec: sweep.Spec{Model: "m", Prompt: "p", Streams: []int{1, 2, 4, 8}, Repeat: 1}}
	for i, n := range r.Spec.Streams {
		r.Steps = append(r.Steps, sweep.Step{Streams: n, Repeat: 1, Finished: n, Figures: sweep.Figures{
			AggregateTokensPerS: agg[i], PerStreamTokensPerS: per[i], Queued: queued[i], QueuedMs: 1000 * float64(queued[i])}})
	}
	return r
}

// TestRegimes: the sentences say how the aggregate grew and why, for
// each regime a sweep can show.
func TestRegimes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		r         *sweep.Result
		regime    figures.Regime
		sentences []string
	}{
		{"waiting", result([]float64{1.5, 3, 6, 11.9}, []float64{2.2, 2.2, 2.2, 2.2}, []int{0, 0, 0, 0}), figures.RegimeWaiting, []string{
			"Aggregate throughput grew with the streams: 7.9× at 8, where the ideal is 8×. Each stream ran about as fast as alone (100% of its rate at 1 stream): the streams only waited, so async saved nearly everything.",
		}},
		{"queued", result([]float64{9000, 9100, 8900, 9050}, []float64{9500, 9500, 9400, 9500}, []int{0, 1, 3, 7}), figures.RegimeQueued, []string{
			"Aggregate throughput stayed about where 1 stream's is (1.01× at 8, where the ideal is 8×): the server answers one request at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10), and at 8 streams 7 of them waited in its queue, 7.00 s in all.",
			"Async buys nothing here: the streams took turns.",
		}},
		{"one engine shared", result([]float64{10, 10, 9.9, 9.8}, []float64{10, 5, 2.5, 1.25}, []int{0, 0, 0, 0}), figures.RegimeSharing, []string{
			"Aggregate throughput stayed at about 1 stream's (0.98× at 8), while each stream slowed to 12% of its rate alone: the streams share the machine.",
		}},
		{"grew, then flattened", result([]float64{100, 150, 160, 162}, []float64{100, 75, 40, 20}, []int{0, 0, 0, 0}), figures.RegimeSharing, []string{
			"Aggregate throughput grew to 1.5× at 2, then flattened (1.6× at 8), while each stream slowed to 20% of its rate alone: the streams share the machine.",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Regime(); got != tt.regime {
				t.Errorf("regime %q, want %q", got, tt.regime)
			}
			if got := tt.r.Sentences(); !slices.Equal(got, tt.sentences) {
				t.Errorf("sentences\n%q\nwant\n%q", got, tt.sentences)
			}
		})
	}
	var none sweep.Result
	if s := none.Sentences(); len(s) != 1 || none.Regime() != figures.RegimeUnknown {
		t.Errorf("an empty sweep: %q", s)
	}
}

// TestPoints: a point is the median of its repeats; its time to first
// token the percentiles over all their streams.
func TestPoints(t *testing.T) {
	r := &sweep.Result{Spec: sweep.Spec{Streams: []int{1, 2}, Repeat: 3}, Steps: []sweep.Step{
		{Streams: 1, Figures: sweep.Figures{AggregateTokensPerS: 10, WallMs: 1000}, TTFTs: []float64{100}},
		{Streams: 1, Figures: sweep.Figures{AggregateTokensPerS: 12, WallMs: 900}, TTFTs: []float64{90}},
		{Streams: 1, Figures: sweep.Figures{AggregateTokensPerS: 30, WallMs: 400}, TTFTs: []float64{80}},
		{Streams: 2, Figures: sweep.Figures{AggregateTokensPerS: 20, WallMs: 1000, Queued: 1, Failed: 1}, TTFTs: []float64{100, 300}},
	}}
	p := r.Points()
	if len(p) != 2 || p[0].AggregateTokensPerS != 12 || p[0].WallMs != 900 || p[0].Steps != 3 || p[0].TTFTP50Ms != 90 || p[0].TTFTP95Ms != 100 ||
		p[1].Steps != 1 || p[1].TTFTP50Ms != 100 || p[1].TTFTP95Ms != 300 || p[1].Queued != 1 || p[1].Failed != 1 {
		t.Errorf("points %+v", p)
	}
}

func TestSpecCheck(t *testing.T) {
	ok := sweep.Spec{Model: "m", Prompt: "p", Streams: []int{1, 2}, Repeat: 1}
	for _, tt := range []struct {
		name string
		edit func(*sweep.Spec)
		want string
	}{
		{"fine", func(*sweep.Spec) {}, ""},
		{"no model", func(s *sweep.Spec) { s.Model = "" }, "needs a model"},
		{"no prompt", func(s *sweep.Spec) { s.Prompt = " " }, "needs a prompt"},
		{"no streams", func(s *sweep.Spec) { s.Streams = nil }, "at least one"},
		{"too many", func(s *sweep.Spec) { s.Streams = []int{1, 17} }, "17 streams: want 1 to 16"},
		{"zero", func(s *sweep.Spec) { s.Streams = []int{0, 1} }, "0 streams"},
		{"not increasing", func(s *sweep.Spec) { s.Streams = []int{2, 1} }, "increasing"},
		{"repeat", func(s *sweep.Spec) { s.Repeat = 0 }, "repeat 0"},
	} {
		s := ok
		tt.edit(&s)
		err := s.Check()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if got, err := sweep.ParseStreams("1, 2,4,8"); err != nil || !slices.Equal(got, []int{1, 2, 4, 8}) {
		t.Errorf("ParseStreams: %v, %v", got, err)
	}
	if _, err := sweep.ParseStreams("1,two"); err == nil {
		t.Error("ParseStreams took 1,two")
	}
}

// startServer runs the embedded server with the demo sources on
// loopback, and a client of it.
func startServer(t *testing.T) *client.Client {
	t.Helper()
	emb, err := embedded.Start(server.Config{OllamaURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return emb.Client
}

// startClocked is startServer on a fake clock that plays the runs as the
// sweep starts them (fakeclock.Play): a sweep of demo sources takes no
// real time, and its figures are exact.
func startClocked(t *testing.T) *client.Client {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	emb, err := embedded.Start(server.Config{OllamaURL: "http://127.0.0.1:1", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	clock.PlayDuring(t, emb.Server)
	return emb.Client
}

// TestRun sweeps the lesson's first task at 1 and 2 streams through the
// real server on a fake clock: the hooks follow each step in order, and
// the figures are the task's schedule (three tokens, one every 2/3 s, over
// exactly 2 s): the aggregate doubles with the streams, each stream keeps
// its rate, none queues, and the regime is waiting (at 1, 2, 4 and 8
// streams, and the other regimes: TestRunDemos).
func TestRun(t *testing.T) {
	cl := startClocked(t)
	var started, stepped []int
	var events int
	r, err := sweep.Run(t.Context(), cl, sweep.Spec{Model: wire.DemoTask1, Prompt: "go", Streams: []int{1, 2}, Repeat: 1}, sweep.Hooks{
		Started: func(k, total, n, repeat int, created *wire.RunCreated) {
			if total != 2 || len(created.Streams) != n || repeat != 1 || len(stepped) != k {
				t.Errorf("step %d of %d: %d streams started, want %d", k, total, len(created.Streams), n)
			}
			started = append(started, n)
		},
		Event: func(client.IndexedEvent) { events++ },
		Stepped: func(r *sweep.Result) {
			stepped = append(stepped, r.Steps[len(r.Steps)-1].Streams)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, []int{1, 2}) || !slices.Equal(stepped, []int{1, 2}) || events != 3*(3+2) || r.Stopped {
		t.Errorf("started %v, stepped %v, %d events, stopped %v", started, stepped, events, r.Stopped)
	}
	// Each stream: 3 tokens in 2 s, the first at 2/3 s (the server keeps
	// whole microseconds), generated at 3 tokens over the 4/3 s from the
	// first to the last: 2.25 tokens/s, at 1 stream and at 2. The
	// aggregate: 3 tokens, then 6, over the run's 2 s.
	ttft := float64((2 * time.Second / 3).Microseconds()) / 1000
	want := []sweep.Point{
		{Streams: 1, Steps: 1, Figures: sweep.Figures{WallMs: 2000, AggregateTokensPerS: 1.5, PerStreamTokensPerS: 2.25, TTFTP50Ms: ttft, TTFTP95Ms: ttft}},
		{Streams: 2, Steps: 1, Figures: sweep.Figures{WallMs: 2000, AggregateTokensPerS: 3, PerStreamTokensPerS: 2.25, TTFTP50Ms: ttft, TTFTP95Ms: ttft}},
	}
	if p := r.Points(); !reflect.DeepEqual(p, want) {
		t.Errorf("points\n%+v\nwant\n%+v", p, want)
	}
	for i, s := range r.Steps {
		if s.Tokens != 3*s.Streams || s.Finished != s.Streams || s.Failed != 0 || s.Run == "" || s.Repeat != 1 {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	wantSentences := []string{
		"Aggregate throughput grew with the streams: 2.0× at 2, where the ideal is 2×. Each stream ran about as fast as alone (100% of its rate at 1 stream): the streams only waited, so async saved nearly everything.",
	}
	if got := r.Sentences(); r.Regime() != figures.RegimeWaiting || !slices.Equal(got, wantSentences) {
		t.Errorf("regime %q, sentences\n%q\nwant %q,\n%q", r.Regime(), got, figures.RegimeWaiting, wantSentences)
	}
}

// TestRunDemos sweeps the three regimes of the demo sources at 1, 2, 4
// and 8 streams on a fake clock, as tokenloom sweep does (the binary's
// --json is in internal/testkit/e2e): every figure of every point is the
// one the demo's schedule gives, and so the regime.
func TestRunDemos(t *testing.T) {
	cl := startClocked(t)
	ns := []int{1, 2, 4, 8}
	// ms is the server's milliseconds of a time (whole microseconds).
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	tick := time.Second / server.EngineRate
	for _, tt := range []struct {
		model  string
		tokens int // 0: the model's own length
		regime figures.Regime
		point  func(n int) sweep.Figures
	}{
		// The lesson's task: three tokens spread over 2 s, whatever the
		// streams beside it; the aggregate grows as the streams.
		{wire.DemoTask1, 0, figures.RegimeWaiting, func(n int) sweep.Figures {
			first := ms(2 * time.Second / 3)
			return sweep.Figures{WallMs: 2000, AggregateTokensPerS: 1.5 * float64(n), PerStreamTokensPerS: 2.25, TTFTP50Ms: first, TTFTP95Ms: first}
		}},
		// One engine of EngineRate ticks a second, handed out in turn: the
		// 5n tokens take 5n ticks, stream i (from 1) gets ticks i, i+n, …,
		// so each slows to 1/n of its rate and the aggregate stays.
		{wire.DemoShared, 5, figures.RegimeSharing, func(n int) sweep.Figures {
			return sweep.Figures{WallMs: ms(5 * time.Duration(n) * tick), AggregateTokensPerS: server.EngineRate,
				PerStreamTokensPerS: round2(5 / (ms(4*time.Duration(n)*tick) / 1000)),
				TTFTP50Ms:           ms(time.Duration((n+1)/2) * tick), TTFTP95Ms: ms(time.Duration(n) * tick)}
		}},
		// One slot: the streams are answered in turn, 5 ticks each, the
		// others queued; each keeps its rate, the aggregate stays.
		{wire.DemoOneSlot, 5, figures.RegimeQueued, func(n int) sweep.Figures {
			var queued time.Duration // stream i waits for the i-1 before it
			for i := range n {
				queued += time.Duration(i) * 5 * tick
			}
			return sweep.Figures{WallMs: ms(5 * time.Duration(n) * tick), AggregateTokensPerS: server.EngineRate,
				PerStreamTokensPerS: round2(5 / (ms(4*tick) / 1000)),
				TTFTP50Ms:           ms(time.Duration((n+1)/2-1)*5*tick + tick), TTFTP95Ms: ms(time.Duration(n-1)*5*tick + tick),
				QueuedMs: ms(queued), Queued: n - 1}
		}},
	} {
		t.Run(tt.model, func(t *testing.T) {
			spec := sweep.Spec{Model: tt.model, Prompt: "go", Streams: ns, Repeat: 1}
			if tt.tokens > 0 {
				spec.Options.NumPredict = new(tt.tokens)
			}
			r, err := sweep.Run(t.Context(), cl, spec, sweep.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			var want []sweep.Point
			for _, n := range ns {
				want = append(want, sweep.Point{Streams: n, Steps: 1, Figures: tt.point(n)})
			}
			if p := r.Points(); !reflect.DeepEqual(p, want) {
				t.Errorf("points\n%+v\nwant\n%+v", p, want)
			}
			if r.Regime() != tt.regime {
				t.Errorf("regime %q, want %q", r.Regime(), tt.regime)
			}
			t.Logf("%q", r.Sentences())
		})
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// TestRunStopped: a sweep stopped in a step cancels its run and keeps the
// steps that ended.
func TestRunStopped(t *testing.T) {
	cl := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runID string
	r, err := sweep.Run(ctx, cl, sweep.Spec{Model: wire.DemoFlood, Prompt: "go", Streams: []int{1, 2}, Repeat: 1,
		Options: wire.Options{NumPredict: new(100000), Rate: new(100.0)}}, sweep.Hooks{
		Started: func(k, _, _, _ int, created *wire.RunCreated) { runID = created.ID },
		Event: func(ev client.IndexedEvent) {
			if ev.Type == wire.EventToken {
				cancel()
			}
		},
	})
	if err != nil || !r.Stopped || len(r.Steps) != 0 {
		t.Fatalf("stopped sweep: %+v, %v", r, err)
	}
	testenv.Eventually(t, "the step's run to end", func() bool {
		tr, err := cl.Run(t.Context(), runID)
		return err == nil && tr.Finished
	})
}

// TestRunUnknownModel: a sweep of a model that does not exist ends at its
// first step with the server's word for it.
func TestRunUnknownModel(t *testing.T) {
	cl := startServer(t)
	r, err := sweep.Run(t.Context(), cl, sweep.Spec{Model: "demo/nope", Prompt: "go", Streams: []int{1, 2}, Repeat: 1}, sweep.Hooks{})
	if err == nil || !strings.Contains(err.Error(), `model "demo/nope" not found`) || len(r.Steps) != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
}
