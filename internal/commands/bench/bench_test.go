package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	_ "github.com/tokenloom/tokenloom/internal/commands/localefix" // before Fyne reads the locale
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
	"github.com/tokenloom/tokenloom/server"
)

// TestMain checks for leaks; the package links Fyne's desktop driver,
// whose function queue starts with the program.
func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m, goleak.IgnoreTopFunction("fyne.io/fyne/v2/internal/async.(*UnboundedChan[...]).processing"))
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

// TestOverheadModel: the overhead part streams the model that the test
// Ollama serves.
func TestOverheadModel(t *testing.T) {
	if OverheadModel != testmodel.Name {
		t.Errorf("OverheadModel %q, the test model is %q", OverheadModel, testmodel.Name)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := DefaultConfig()
	bad.Streams, bad.Rate, bad.Skip = 9, 0, []string{"ui", "browser", "gpu"}
	bad.PacedTokens, bad.PacedRate = 5000, -1
	err := bad.Validate()
	for _, want := range []string{"streams 9", "rate 0", `unknown part "gpu"`, "paced-tokens 5000", "paced rate -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %q", err, want)
		}
	}
}

// TestJudge: a figure is judged against its target only when measured, and
// Met is false as soon as one misses.
func TestJudge(t *testing.T) {
	f := &Figures{Targets: map[string]bool{}}
	f.RelayTokensPerS = ptr(150000.0)
	f.StartupMs = ptr(900.0)
	f.judge()
	if len(f.Targets) != 2 || !f.Targets["relay_tokens_per_s"] || !f.Targets["startup_ms"] || !f.Met() {
		t.Fatalf("targets %v", f.Targets)
	}
	f.UILatencyP99Ms, f.UILatencyP99Ms1k, f.UILatencyP99Ms20k = ptr(45.0), ptr(40.0), ptr(61.0) // 1.525× the first
	f.judge()
	if !f.Targets["ui_latency_p99"] || f.Targets["ui_latency_growth"] || f.Met() {
		t.Errorf("targets %v: p99 45 ms meets 50 ms, growth from 40 to 61 ms (1.525×) misses 1.5×", f.Targets)
	}

	// The 1 ms target of the relay overhead is the paced figure's; the
	// saturated one has none.
	f = &Figures{Targets: map[string]bool{}}
	f.RelayOverheadP99Ms, f.RelayOverheadPacedP99Ms = ptr(14.5), ptr(0.8)
	f.judge()
	if len(f.Targets) != 1 || !f.Targets["relay_overhead_paced_p99_ms"] || !f.Met() {
		t.Errorf("targets %v: paced p99 0.8 ms meets 1 ms, saturated 14.5 ms is not judged", f.Targets)
	}
	f.RelayOverheadPacedP99Ms = ptr(1.2)
	f.judge()
	if f.Targets["relay_overhead_paced_p99_ms"] || f.Met() {
		t.Errorf("targets %v: paced p99 1.2 ms misses 1 ms", f.Targets)
	}
}

// TestLineReader: the tap notes every complete line, however the reads cut
// it, with the time of the read that completed it.
func TestLineReader(t *testing.T) {
	body := `{"message":{"content":" one"}}` + "\n" + `{"message":{"content":" two"}}` + "\n" + `{"done":true}` + "\n"
	tp := &tap{}
	r := tp.newLineReader(t.Context(), io.NopCloser(iotest.OneByteReader(strings.NewReader(body))), "k")
	before := time.Now()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	replies := tp.take()
	if len(replies) != 1 || replies[0].key != "k" {
		t.Fatalf("replies %v, want one keyed k", replies)
	}
	lines := replies[0].lines
	want := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		if string(l.line) != want[i] || l.at.Before(before) {
			t.Errorf("line %d = %q at %v, want %q", i, l.line, l.at, want[i])
		}
	}
	if len(tp.take()) != 0 {
		t.Error("take did not forget the lines")
	}
}

// fakeOllama answers /api/tags with model "m" and /api/chat with words, a
// line each 5 ms apart, then a final line; brk(n) breaks the connection of
// the nth chat after its first line.
func fakeOllama(words []string, brk func(n int) bool) *httptest.Server {
	var chats atomic.Int32
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/tags":
			fmt.Fprintln(w, `{"models":[{"name":"m:latest","model":"m:latest"}]}`)
		case "/api/chat":
			w.Header().Set("Content-Type", "application/x-ndjson")
			n := int(chats.Add(1))
			for _, word := range words {
				fmt.Fprintf(w, `{"model":"m","message":{"role":"assistant","content":%q},"done":false}`+"\n", word)
				w.(http.Flusher).Flush()
				if brk(n) {
					panic(http.ErrAbortHandler)
				}
				time.Sleep(5 * time.Millisecond)
			}
			fmt.Fprintf(w, `{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":%d}`+"\n", len(words))
		case "/api/ps":
			fmt.Fprintln(w, `{"models":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
}

// TestOverheadRoundAgainstFakeOllama runs one overhead round through the
// tap and the real embedded server against an NDJSON fake: every token is
// paired with its line, and a token missing from the tap is an error.
func TestOverheadRoundAgainstFakeOllama(t *testing.T) {
	words := []string{" two", " three", " four", " five"}
	e, tp := tappedServer(t, words)
	began := time.Now()
	timings, err := overheadRound(t.Context(), e, tp, "m", 1, len(words))
	if err != nil {
		t.Fatal(err)
	}
	round := time.Since(began)
	d := overheads(timings)
	if len(d) != len(words) {
		t.Fatalf("%d overheads, want %d", len(d), len(words))
	}
	// A token's overhead is the time from its line leaving the fake to the
	// token reaching the client: within the round, however slow the
	// machine.
	for i, v := range d {
		if v <= 0 || v > round {
			t.Errorf("token %d: overhead %v, the whole round took %v", i, v, round)
		}
	}
}

// TestMeasureOverhead runs the whole overhead part through the tap and the
// real embedded server against a fake Ollama: every round's tokens are
// measured; a reply that breaks fails the part.
func TestMeasureOverhead(t *testing.T) {
	for _, breaks := range []bool{false, true} {
		t.Run(fmt.Sprintf("breaks=%v", breaks), func(t *testing.T) {
			// The first round after the warm-up breaks, if breaks.
			fake := fakeOllama([]string{" a", " b", " c"}, func(n int) bool { return breaks && n == 2 })
			defer fake.Close()
			t.Setenv("OLLAMA_HOST", fake.URL)
			c := DefaultConfig()
			c.Model, c.OverheadTokens, c.OverheadRounds = "m", 3, 2
			c.PacedStreams, c.PacedRate = 2, 200
			f := &Figures{Targets: map[string]bool{}}
			err := measureOverhead(t.Context(), c, f)
			if breaks {
				if err == nil || !strings.Contains(err.Error(), "stopped answering") {
					t.Fatalf("a broken reply: err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Notes) != 0 {
				t.Errorf("notes %q", f.Notes)
			}
			if f.RelayOverheadTokens != 6 || f.RelayOverheadP99Ms == nil {
				t.Errorf("%d tokens measured, p99 %v", f.RelayOverheadTokens, f.RelayOverheadP99Ms)
			}
			// The fake sends its three words whatever num_predict asks.
			if f.RelayOverheadPacedTokens != 6 || f.RelayOverheadPacedP99Ms == nil {
				t.Errorf("paced: %d tokens measured, p99 %v", f.RelayOverheadPacedTokens, f.RelayOverheadPacedP99Ms)
			}
		})
	}
}

// TestEndpointsPart runs the endpoints part small: 32 streams over two
// endpoints, every token of each received.
func TestEndpointsPart(t *testing.T) {
	c := DefaultConfig()
	c.EndpointTokens = 300
	var f Figures
	if err := measureEndpoints(t.Context(), c, &f); err != nil {
		t.Fatal(err)
	}
	if f.EndpointsTokensPerS == nil || *f.EndpointsTokensPerS <= 0 {
		t.Fatalf("endpoints figure %v", f.EndpointsTokensPerS)
	}
	t.Logf("%d streams × %d tokens over two endpoints: %.0f tokens/s", EndpointStreams, c.EndpointTokens, *f.EndpointsTokensPerS)
}

// TestPrintOverheadAndBrowser: the text output says which relay overhead
// the target applies to, and puts the browser peer beside the UI figure
// with their ratio.
func TestPrintOverheadAndBrowser(t *testing.T) {
	f := &Figures{Config: DefaultConfig(), Targets: map[string]bool{}}
	f.RelayOverheadP50Ms, f.RelayOverheadP99Ms, f.RelayOverheadMaxMs, f.RelayOverheadTokens = ptr(0.3), ptr(14.5), ptr(30.0), 10000
	f.RelayOverheadPacedP50Ms, f.RelayOverheadPacedP99Ms, f.RelayOverheadPacedMaxMs, f.RelayOverheadPacedTokens = ptr(0.2), ptr(0.6), ptr(2.0), 4000
	f.BrowserLatencyP50Ms, f.BrowserLatencyP99Ms, f.BrowserLatencyMaxMs, f.BrowserTokens = ptr(12.0), ptr(40.0), ptr(80.0), 160000
	f.BrowserLatencyP99Ms1k, f.BrowserLatencyP99Ms20k = ptr(20.0), ptr(45.0)
	f.BrowserPageLatencyP99Ms, f.BrowserCPUCores, f.BrowserFramesPerS, f.BrowserClockErrorMs = ptr(16.0), ptr(0.9), ptr(50.0), ptr(0.4)
	f.UIToBrowserP99 = ptr(2.0)
	f.judge()
	var b strings.Builder
	f.print(&b)
	out := b.String()
	for _, want := range []string{
		"paced, 8 streams × 50 tokens/s (4000 tokens), from the tap's release of a line\n    p50 / p99 / max  0.200 / 0.600 / 2.000 ms (target p99 ≤ 1)  ok",
		"saturated, 1 stream as fast as the model goes, both cores busy (10000 tokens)\n    p50 / p99 / max  0.300 / 14.500 / 30.000 ms (no target)",
		"token to frame p99, every token                       40.0 ms",
		"token to frame p99, first / last 1000 tokens of each stream  20.0 / 45.0 ms",
		"token to frame p50 / max                              12.0 / 80.0 ms",
		"UI p99 ÷ browser p99                                  2.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text lacks %q:\n%s", want, out)
		}
	}
}

// tappedServer starts the embedded server against a fake Ollama that
// answers words, through a tap; all are closed at the end of the test.
func tappedServer(t *testing.T, words []string) (*embedded.Server, *tap) {
	t.Helper()
	fake := fakeOllama(words, func(int) bool { return false })
	t.Cleanup(fake.Close)
	base, _ := url.Parse(fake.URL)
	tp, err := startTap(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tp.close)
	e, err := embedded.Start(server.Config{OllamaURL: tp.url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, tp
}
