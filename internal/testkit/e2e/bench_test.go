package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// benchFullEnv, set to 1, makes TestBenchCommand measure at the full size
// of the performance budgets and write the figures to build/bench.json
// (scripts/bench.sh does this).
const benchFullEnv = "TOKENLOOM_BENCH_FULL"

// benchKeys are the keys `tokenloom bench --json` promises, each a number
// once its part has run.
var benchKeys = []string{"ui_latency_p99_ms_1k", "ui_latency_p99_ms_20k", "relay_tokens_per_s",
	"relay_overhead_p99_ms", "rss_mb", "startup_ms", "cpu_cores"}

// TestBenchCommand runs `tokenloom bench --json` in a real window under
// Xvfb against a real Ollama serving the tiny model: every part runs (none
// is skipped), every promised figure is a number, and the counts show that
// every token was measured. In the test suite the sizes are small; the
// figures are checked for being measured, not against the budgets.
func TestBenchCommand(t *testing.T) {
	testenv.Long(t, "runs the app in a window and a real Ollama")
	xvfb := testenv.NeedTool(t, "xvfb-run")
	o := ollamatest.Start(t)

	args := []string{"bench", "--json"}
	full := os.Getenv(benchFullEnv) == "1"
	if !full {
		args = append(args, "--streams", "3", "--rate", "200", "--tokens", "400", "--startup-runs", "1",
			"--relay-tokens", "5000", "--relay-rounds", "1", "--overhead-tokens", "300", "--overhead-rounds", "2")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	// Displays apart from the other window tests' (xvfb-run -a races).
	cmd := exec.CommandContext(ctx, xvfb, append([]string{"-a", "-n", "290", "-s", "-screen 0 1920x1080x24", tokenloomBin}, args...)...)
	home := t.TempDir()
	cmd.Env = cliEnv(o.Host(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var stdout bytes.Buffer
	var stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokenloom bench: %v\n%s", err, stderr.String())
	}
	t.Logf("tokenloom bench:\n%s", stdout.String())

	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("bench output is not one JSON object: %v", err)
	}
	for _, k := range benchKeys {
		v, ok := got[k].(float64)
		if !ok || !(v > 0) {
			t.Errorf("%s = %v, want a number above 0", k, got[k])
		}
	}
	if notes := got["notes"]; notes != nil {
		t.Errorf("notes %v: a part was not measured", notes)
	}
	cfg, _ := got["config"].(map[string]any)
	num := func(m map[string]any, k string) float64 { v, _ := m[k].(float64); return v }
	if want := num(cfg, "Streams") * num(cfg, "Tokens"); num(got, "ui_tokens") != want {
		t.Errorf("ui_tokens %v, want every token painted: %v", got["ui_tokens"], want)
	}
	if want := num(cfg, "OverheadTokens") * num(cfg, "OverheadRounds"); num(got, "relay_overhead_tokens") != want {
		t.Errorf("relay_overhead_tokens %v, want %v", got["relay_overhead_tokens"], want)
	}
	if p50, p99 := num(got, "ui_latency_p50_ms"), num(got, "ui_latency_p99_ms_1k"); p50 > p99 {
		t.Errorf("latency p50 %v above p99 %v", p50, p99)
	}
	if p50, p99 := num(got, "relay_overhead_p50_ms"), num(got, "relay_overhead_p99_ms"); p50 > p99 {
		t.Errorf("overhead p50 %v above p99 %v", p50, p99)
	}
	if full {
		if err := os.MkdirAll(filepath.Join("..", "..", "..", "build"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "..", "build", "bench.json"), stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBenchWithoutOllama: without an Ollama that serves the model, the
// relay overhead is not measured, its figure is null and a note says why;
// the other parts still run (the soak at a small size).
func TestBenchWithoutOllama(t *testing.T) {
	out, errOut, code := runCLI(t, cliEnv(closedPort(t)), "bench", "--json", "--skip", "ui,startup",
		"--relay-tokens", "2000", "--relay-rounds", "1", "--soak-streams", "4", "--soak-events", "20000")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v, ok := got["relay_overhead_p99_ms"]; !ok || v != nil {
		t.Errorf("relay_overhead_p99_ms = %v (present %v), want null", v, ok)
	}
	if v, _ := got["relay_tokens_per_s"].(float64); !(v > 0) {
		t.Errorf("relay_tokens_per_s = %v, want measured", got["relay_tokens_per_s"])
	}
	for _, k := range []string{"soak_peak_rss_mb", "soak_after_rss_mb", "soak_peak_log_mb"} {
		if v, _ := got[k].(float64); !(v > 0) {
			t.Errorf("%s = %v, want measured", k, got[k])
		}
	}
	if v, _ := got["soak_events"].(float64); v != 4*20000 {
		t.Errorf("soak_events = %v, want every event of 4 streams of 20,000", got["soak_events"])
	}
	notes, _ := got["notes"].([]any)
	if len(notes) != 1 {
		t.Fatalf("notes %v, want one about the missing Ollama", got["notes"])
	}
	if s, _ := notes[0].(string); !bytes.Contains([]byte(s), []byte("no Ollama at")) {
		t.Errorf("note %q does not say that there is no Ollama", s)
	}
}
