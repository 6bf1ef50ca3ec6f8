package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/services/sweep"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
)

// sweepLines runs `tokenloom sweep --json` and returns its step objects
// and its sweep object.
func sweepLines(t *testing.T, host string, args ...string) ([]sweep.Step, sweepObject) {
	t.Helper()
	stdout, stderr, code := runCLI(t, cliEnv(host), append([]string{"sweep", "--json", "--no-history"}, args...)...)
	if code != 0 {
		t.Fatalf("tokenloom sweep %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
	}
	var steps []sweep.Step
	var sw sweepObject
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var head struct{ Event string }
		if err := json.Unmarshal([]byte(l), &head); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		switch head.Event {
		case "step":
			var s sweep.Step
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, s)
		case "sweep":
			if err := json.Unmarshal([]byte(l), &sw); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("line %q: unknown event", l)
		}
	}
	if len(steps) == 0 || sw.Regime == "" {
		t.Fatalf("no steps or no sweep in %q", stdout)
	}
	return steps, sw
}

// sweepObject is the last line of `tokenloom sweep --json`.
type sweepObject struct {
	Regime    string        `json:"regime"`
	Sentences []string      `json:"sentences"`
	Points    []sweep.Point `json:"points"`
}

// TestSweepDemos: `tokenloom sweep --json` at 1, 2, 4 and 8 streams, a
// line for each step and the sweep's last: the lesson's task only waits,
// the shared engine's streams split it. The binary runs on the machine's
// clock, whose speed no test may count on: this checks what does not
// depend on it, the steps, that every stream finished, that none queued
// (neither source has a queue), and the regimes (whose thresholds are several times apart,
// not a few percent). The exact figures of these sweeps are tested on a
// fake clock in internal/services/sweep (TestRunDemos).
func TestSweepDemos(t *testing.T) {
	host := closedPort(t)
	for _, tt := range []struct {
		model  string
		args   []string
		regime string
	}{
		{"demo/task1", nil, "waiting"},
		{"demo/shared", []string{"--max-tokens", "5"}, "sharing"},
	} {
		steps, sw := sweepLines(t, host, append([]string{"-m", tt.model}, tt.args...)...)
		var ns []int
		for _, s := range steps {
			ns = append(ns, s.Streams)
			if s.Repeat != 1 || s.Run == "" || s.Finished != s.Streams || s.Failed != 0 || s.Tokens == 0 || s.WallMs <= 0 || s.AggregateTokensPerS <= 0 || len(s.TTFTs) != s.Streams {
				t.Errorf("%s step %+v: want every stream finished with tokens", tt.model, s)
			}
			if s.QueuedMs != 0 || s.Queued != 0 {
				t.Errorf("%s step %+v: want none queued", tt.model, s)
			}
		}
		var pts []int
		for _, p := range sw.Points {
			pts = append(pts, p.Streams)
		}
		if want := []int{1, 2, 4, 8}; !slices.Equal(ns, want) || !slices.Equal(pts, want) {
			t.Errorf("%s: steps at %v, points at %v; want %v", tt.model, ns, pts, want)
		}
		// The regime and sentences are those the printed steps imply (the
		// values themselves, on the demo's schedule, are tested on a fake
		// clock in internal/services/sweep: here the clock is real).
		r := &sweep.Result{Spec: sweep.Spec{Streams: ns}, Steps: steps}
		if r.Regime().String() != sw.Regime || !slices.Equal(r.Sentences(), sw.Sentences) || sw.Regime == "" {
			t.Errorf("%s: regime %q, sentences %q; the steps imply %q, %q (expected on an idle machine: %q)", tt.model, sw.Regime, sw.Sentences, r.Regime(), r.Sentences(), tt.regime)
		}
		t.Logf("%s: %q", tt.model, sw.Sentences)
	}
}

// TestSweepOneSlot: the tiny model on a real Ollama at one slot: however
// many streams at once, the aggregate stays flat, and the others queue.
func TestSweepOneSlot(t *testing.T) {
	o := ollamatest.Start(t)
	host := strings.TrimPrefix(o.URL(), "http://")
	runJSON(t, host, "-m", o.Model(), "-p", "The") // loads the model
	steps, sw := sweepLines(t, host, "-m", o.Model(), "-p", "one", "--max-tokens", "2500")
	// The aggregate rate is not held to a bound: one step may run on a
	// busier machine than the next. The queue and the regime tell.
	for _, s := range steps {
		if s.Finished != s.Streams {
			t.Errorf("step %+v: want every stream finished", s)
		}
		if s.Streams > 1 && s.Queued != s.Streams-1 {
			t.Errorf("step %+v: %d streams queued, want all but one", s, s.Queued)
		}
	}
	if sw.Regime != "queued" || !strings.Contains(strings.Join(sw.Sentences, " "), "one request at a time") {
		t.Errorf("regime %q: %q", sw.Regime, sw.Sentences)
	}
	t.Logf("%q", sw.Sentences)
}
