package e2e

import (
	"encoding/json"
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

// aggregateAt is the aggregate tokens/s of the step of n streams.
func aggregateAt(t *testing.T, steps []sweep.Step, n int) float64 {
	t.Helper()
	for _, s := range steps {
		if s.Streams == n {
			return s.AggregateTokensPerS
		}
	}
	t.Fatalf("no step of %d streams in %+v", n, steps)
	return 0
}

// TestSweepDemos: `tokenloom sweep --json` at 1, 2, 4 and 8 streams. The
// lesson's task only waits: its aggregate grows with the streams. The
// shared engine's streams split it: the aggregate stays where one
// stream's is.
func TestSweepDemos(t *testing.T) {
	host := closedPort(t)
	steps, sw := sweepLines(t, host, "-m", "demo/task1")
	if one, eight := aggregateAt(t, steps, 1), aggregateAt(t, steps, 8); eight < 3.5*one || sw.Regime != "waiting" {
		t.Errorf("demo/task1: aggregate %.2f at 1, %.2f at 8 (regime %s): want at least 3.5×", one, eight, sw.Regime)
	}
	steps, sw = sweepLines(t, host, "-m", "demo/shared", "--max-tokens", "5")
	if one, eight := aggregateAt(t, steps, 1), aggregateAt(t, steps, 8); eight < 0.9*one || eight > 1.1*one || sw.Regime != "sharing" {
		t.Errorf("demo/shared: aggregate %.2f at 1, %.2f at 8 (regime %s): want within 10%%", one, eight, sw.Regime)
	}
	for _, s := range steps {
		if s.QueuedMs != 0 || s.Finished != s.Streams {
			t.Errorf("demo/shared step %+v: want every stream finished, none queued", s)
		}
	}
	t.Logf("%q", sw.Sentences)
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
