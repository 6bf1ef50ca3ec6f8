// Package bench measures Tokenloom's performance budgets (`tokenloom bench`):
//
//   - UI: streams × demo/flood at a set rate in a real window, the latency
//     from each token's arrival at the client to the frame that paints it
//     (ui/frame.Probe), the CPU time and peak RSS of that process;
//   - start-up: from launching the executable to the first frame of a
//     window whose two demo panes are ready to run;
//   - relay throughput: tokens per second through the embedded server and
//     one SSE client per stream over loopback, demo/flood as fast as it goes;
//   - relay overhead: per token, how much later the client has a token than
//     a reader of Ollama's NDJSON reply, measured on the same tokens by a
//     tap (a reverse proxy that notes when each line comes off the wire)
//     between the server and a real Ollama serving the tiny test model:
//     saturated (the model as fast as it goes, about 10,000 tokens per
//     second, both cores busy) and paced (the tap holds Ollama's lines and
//     releases them at a human rate, 8 streams × 50 tokens per second, the
//     case the 1 ms target is stated for);
//   - browser peer: the UI part's streams rendered by a minimal web page
//     (one element per stream, a text node appended per token from an
//     EventSource) in Chromium under the same display, latency from the
//     token's arrival at the browser to the first requestAnimationFrame
//     callback after its append;
//   - memory soak: 64 demo/flood streams of 250,000 events at once, as fast
//     as they go, against the server's log budget (server.Config.MaxLogBytes),
//     then the eviction of the runs: the peak RSS, and the RSS once the runs
//     are gone.
//
// The UI, start-up and soak parts run in child processes of the same
// executable (`tokenloom bench --child ui|startup|soak`), so that their
// figures are the app's or the server's alone. The UI, start-up and
// browser parts need a display; under CI, xvfb-run gives one.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ollama/ollama/envconfig"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// Targets are the performance budgets.
const (
	TargetUILatencyP99Ms  = 50.0
	TargetUILatencyGrowth = 1.5
	TargetCPUCores        = 1.0
	TargetRSSMB           = 300.0
	TargetStartupMs       = 1500.0
	TargetRelayTokensPerS = 100000.0
	// TargetRelayOverheadP99Ms bounds the paced relay overhead (streams at
	// a human rate); the saturated figure has no target.
	TargetRelayOverheadP99Ms = 1.0
	// TargetSoakPeakRSSMB bounds the soak's peak RSS: the server's log
	// budget (256 MiB) with the Go runtime's room to collect it.
	TargetSoakPeakRSSMB = 640.0
	// TargetSoakAfterRSSMB bounds the soak's RSS once its runs are
	// evicted: back near an idle server.
	TargetSoakAfterRSSMB = 64.0
)

// OverheadModel is the model the overhead part streams by default: the tiny
// test model (internal/testkit/testmodel) that scripts/bench.sh has a test Ollama
// serve.
const OverheadModel = "tokenloom-tiny"

// Config sets the size of each part.
type Config struct {
	// UI part: Streams panes of demo/flood at Rate tokens per second, Tokens
	// each, in a Width × Height window.
	Streams       int
	Rate          float64
	Tokens        int
	Width, Height int
	// Window is how many tokens at each end of a stream the growth of the
	// latency compares (fewer if a stream is shorter than 2 × Window).
	Window int
	// StartupRuns is how many launches the start-up figure is the median of
	// (after one launch that is not counted).
	StartupRuns int
	// Relay part: RelayStreams × RelayTokens tokens, RelayRounds times.
	RelayStreams, RelayTokens, RelayRounds int
	// Overhead part, saturated: OverheadRounds streams of OverheadTokens
	// tokens of Model, after one round that is not counted.
	Model                          string
	OverheadTokens, OverheadRounds int
	// Overhead part, paced: PacedStreams streams of PacedTokens tokens of
	// Model at once, whose lines the tap releases at PacedRate tokens per
	// second each.
	PacedStreams, PacedTokens int
	PacedRate                 float64
	// Soak part: SoakStreams streams of SoakEvents events each, at once.
	SoakStreams, SoakEvents int
	// Endpoints part: EndpointStreams streams of EndpointTokens tokens each,
	// at once, over two OpenAI-compatible endpoints.
	EndpointTokens int
	// Skip names parts not to run: "ui", "startup", "relay", "overhead",
	// "soak", "endpoints", "browser". The browser peer runs with the UI
	// part only: skipping "ui" skips it too.
	Skip []string
	// CPUProfile, if set, is where the UI part writes a CPU profile.
	CPUProfile string `json:",omitempty"`
	// MemProfile, if set, is where the UI part writes a heap profile at the
	// end of its run.
	MemProfile string `json:",omitempty"`
}

// DefaultConfig is the set-up the budgets are stated for.
func DefaultConfig() Config {
	return Config{
		Streams: 8, Rate: 200, Tokens: 20000, Width: 1280, Height: 800, Window: 1000,
		StartupRuns:  5,
		RelayStreams: 8, RelayTokens: 50000, RelayRounds: 3,
		Model: OverheadModel, OverheadTokens: 2000, OverheadRounds: 5,
		PacedStreams: 8, PacedTokens: 500, PacedRate: 50,
		SoakStreams: 64, SoakEvents: 250_000,
		EndpointTokens: 5000,
	}
}

// Figures are the results. The JSON keys are stable; figures of a part that
// did not run are null, with the reason in Notes.
type Figures struct {
	UILatencyP99Ms1k  *float64 `json:"ui_latency_p99_ms_1k"`
	UILatencyP99Ms20k *float64 `json:"ui_latency_p99_ms_20k"`
	UILatencyP99Ms    *float64 `json:"ui_latency_p99_ms"`
	UILatencyP50Ms    *float64 `json:"ui_latency_p50_ms"`
	UILatencyMaxMs    *float64 `json:"ui_latency_max_ms"`
	UITokens          int      `json:"ui_tokens"`
	UIFramesPerS      *float64 `json:"ui_frames_per_s"`
	UICPUMsPerFrame   *float64 `json:"ui_cpu_ms_per_frame"`
	CPUCores          *float64 `json:"cpu_cores"`
	RSSMB             *float64 `json:"rss_mb"`

	StartupMs     *float64  `json:"startup_ms"`
	StartupRunsMs []float64 `json:"startup_runs_ms"`

	RelayTokensPerS     *float64  `json:"relay_tokens_per_s"`
	RelayRoundsTokensPS []float64 `json:"relay_rounds_tokens_per_s"`

	RelayOverheadP50Ms  *float64 `json:"relay_overhead_p50_ms"`
	RelayOverheadP99Ms  *float64 `json:"relay_overhead_p99_ms"`
	RelayOverheadMaxMs  *float64 `json:"relay_overhead_max_ms"`
	RelayOverheadTokens int      `json:"relay_overhead_tokens"`

	// RelayOverheadPaced* are the relay overhead with Ollama's lines paced
	// to a human rate by the tap: from the tap's release of a line to the
	// client's receipt of its token.
	RelayOverheadPacedP50Ms  *float64 `json:"relay_overhead_paced_p50_ms"`
	RelayOverheadPacedP99Ms  *float64 `json:"relay_overhead_paced_p99_ms"`
	RelayOverheadPacedMaxMs  *float64 `json:"relay_overhead_paced_max_ms"`
	RelayOverheadPacedTokens int      `json:"relay_overhead_paced_tokens"`

	// BrowserLatency* are the browser peer's token-to-paint latency: from
	// the token's arrival at the browser to the first animation frame
	// after the page appended it; _1k and _20k over the first and the last
	// tokens of each stream, as for the UI. BrowserPageLatencyP99Ms starts
	// at the page's receipt of the token instead (its EventSource handler).
	BrowserLatencyP99Ms1k   *float64 `json:"browser_latency_p99_ms_1k"`
	BrowserLatencyP99Ms20k  *float64 `json:"browser_latency_p99_ms_20k"`
	BrowserLatencyP50Ms     *float64 `json:"browser_latency_p50_ms"`
	BrowserLatencyP99Ms     *float64 `json:"browser_latency_p99_ms"`
	BrowserLatencyMaxMs     *float64 `json:"browser_latency_max_ms"`
	BrowserPageLatencyP99Ms *float64 `json:"browser_page_latency_p99_ms"`
	BrowserTokens           int      `json:"browser_tokens"`
	BrowserFramesPerS       *float64 `json:"browser_frames_per_s"`
	// BrowserCPUCores is the CPU time of Chromium's processes over the
	// run's wall time; BrowserClockErrorMs bounds the error of the page's
	// clock mapped to the bench's.
	BrowserCPUCores     *float64 `json:"browser_cpu_cores"`
	BrowserClockErrorMs *float64 `json:"browser_clock_error_ms"`
	// BrowserEngine names Chromium's version and its WebGL renderer.
	BrowserEngine string `json:"browser_engine,omitempty"`
	// UIToBrowserP99 is ui_latency_p99_ms ÷ browser_latency_p99_ms.
	UIToBrowserP99 *float64 `json:"ui_to_browser_p99_ratio"`

	// EndpointsTokensPerS is the tokens per second of 32 streams over two
	// OpenAI-compatible endpoints at once.
	EndpointsTokensPerS *float64 `json:"endpoints_tokens_per_s"`

	SoakPeakRSSMB  *float64 `json:"soak_peak_rss_mb"`
	SoakAfterRSSMB *float64 `json:"soak_after_rss_mb"`
	SoakIdleRSSMB  *float64 `json:"soak_idle_rss_mb"`
	SoakPeakLogMB  *float64 `json:"soak_peak_log_mb"`
	SoakEvents     int64    `json:"soak_events"`
	SoakStopped    int      `json:"soak_streams_stopped"`
	SoakSeconds    float64  `json:"soak_seconds"`

	Config  Config          `json:"config"`
	Machine Machine         `json:"machine"`
	Targets map[string]bool `json:"targets_met"`
	Notes   []string        `json:"notes,omitempty"`
}

// Machine says where the figures come from.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryMB  int64  `json:"memory_mb"`
	OS        string `json:"os"`
	GoVersion string `json:"go"`
	Version   string `json:"tokenloom"`
	Date      string `json:"date"`
}

func (c Config) skips(part string) bool { return slices.Contains(c.Skip, part) }

// Run measures every part that c does not skip and prints the figures, as
// text or as one JSON object. It fails when a part cannot be measured; a
// missed target is reported, not an error.
func Run(ctx context.Context, c Config, version string, asJSON bool, stdout, stderr io.Writer) (*Figures, error) {
	f := &Figures{Config: c, Machine: machine(version), Targets: map[string]bool{}}
	progress := func(format string, args ...any) {
		fmt.Fprintf(stderr, "bench: "+format+"\n", args...)
	}
	if !c.skips("startup") {
		progress("start-up: %d launches", c.StartupRuns+1)
		if err := measureStartup(ctx, c, f); err != nil {
			return nil, fmt.Errorf("start-up: %w", err)
		}
	}
	if !c.skips("ui") {
		progress("UI: %d streams × %d tokens at %g tokens/s (about %.0f s)", c.Streams, c.Tokens, c.Rate, float64(c.Tokens)/c.Rate)
		if err := measureUI(ctx, c, f); err != nil {
			return nil, fmt.Errorf("UI: %w", err)
		}
	}
	if !c.skips("ui") && !c.skips("browser") {
		progress("browser peer: %d streams × %d tokens at %g tokens/s in Chromium (about %.0f s)", c.Streams, c.Tokens, c.Rate, float64(c.Tokens)/c.Rate)
		if err := measureBrowser(ctx, c, f); err != nil {
			return nil, fmt.Errorf("browser peer: %w", err)
		}
	}
	if !c.skips("relay") {
		progress("relay throughput: %d rounds of %d × %d tokens", c.RelayRounds, c.RelayStreams, c.RelayTokens)
		if err := measureRelay(ctx, c, f); err != nil {
			return nil, fmt.Errorf("relay throughput: %w", err)
		}
	}
	if !c.skips("overhead") {
		progress("relay overhead: %d rounds of %d tokens of %s, then %d streams × %d tokens paced at %g tokens/s (about %.0f s)",
			c.OverheadRounds+1, c.OverheadTokens, c.Model, c.PacedStreams, c.PacedTokens, c.PacedRate, float64(c.PacedTokens)/c.PacedRate)
		if err := measureOverhead(ctx, c, f); err != nil {
			return nil, fmt.Errorf("relay overhead: %w", err)
		}
	}
	if !c.skips("endpoints") {
		progress("endpoints: %d streams × %d tokens over two OpenAI-compatible endpoints", EndpointStreams, c.EndpointTokens)
		if err := measureEndpoints(ctx, c, f); err != nil {
			return nil, fmt.Errorf("endpoints: %w", err)
		}
	}
	if !c.skips("soak") {
		progress("memory soak: %d streams × %d events at once, then eviction", c.SoakStreams, c.SoakEvents)
		if err := measureSoak(ctx, c, f); err != nil {
			return nil, fmt.Errorf("memory soak: %w", err)
		}
	}
	if f.UILatencyP99Ms != nil && f.BrowserLatencyP99Ms != nil && *f.BrowserLatencyP99Ms > 0 {
		f.UIToBrowserP99 = ptr(round(*f.UILatencyP99Ms / *f.BrowserLatencyP99Ms, 2))
	}
	f.judge()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return f, enc.Encode(f)
	}
	f.print(stdout)
	return f, nil
}

func measureStartup(ctx context.Context, c Config, f *Figures) error {
	for i := range c.StartupRuns + 1 {
		start := time.Now()
		var ready time.Duration
		err := child(ctx, ChildStartup, c, func(at time.Time, text string) {
			if text == readyLine && ready == 0 {
				ready = at.Sub(start)
			}
		})
		if err != nil {
			return err
		}
		if ready == 0 {
			return fmt.Errorf("launch %d: the window never said it was ready", i+1)
		}
		if i > 0 { // the first launch warms the caches
			f.StartupRunsMs = append(f.StartupRunsMs, ms(ready))
		}
	}
	f.StartupMs = ptr(median(f.StartupRunsMs))
	return nil
}

// childResult runs part in a child process and returns the result it
// prints, one JSON line.
func childResult[T any](ctx context.Context, part string, c Config) (*T, error) {
	var res *T
	err := child(ctx, part, c, func(_ time.Time, text string) {
		var r T
		if json.Unmarshal([]byte(text), &r) == nil {
			res = &r
		}
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("no result from the %s part", part)
	}
	return res, nil
}

func measureUI(ctx context.Context, c Config, f *Figures) error {
	res, err := childResult[uiResult](ctx, ChildUI, c)
	if err != nil {
		return err
	}
	w := min(c.Window, c.Tokens/2)
	var first, last, all []time.Duration
	for i, s := range res.Samples {
		if len(s) != c.Tokens {
			return fmt.Errorf("stream %d: %d of %d tokens painted", i, len(s), c.Tokens)
		}
		for j, ns := range s {
			d := time.Duration(ns)
			all = append(all, d)
			if j < w {
				first = append(first, d)
			}
			if j >= len(s)-w {
				last = append(last, d)
			}
		}
	}
	f.UITokens = len(all)
	f.UILatencyP99Ms1k = ptr(ms(figures.NearestRank(first, 99)))
	f.UILatencyP99Ms20k = ptr(ms(figures.NearestRank(last, 99)))
	f.UILatencyP99Ms = ptr(ms(figures.NearestRank(all, 99)))
	f.UILatencyP50Ms = ptr(ms(figures.NearestRank(all, 50)))
	f.UILatencyMaxMs = ptr(ms(figures.NearestRank(all, 100)))
	f.CPUCores = ptr(round(res.CPUSeconds/res.WallSeconds, 3))
	if res.Frames > 0 {
		f.UIFramesPerS = ptr(round(float64(res.Frames)/res.WallSeconds, 1))
		f.UICPUMsPerFrame = ptr(round(res.CPUSeconds*1000/float64(res.Frames), 1))
	}
	f.RSSMB = ptr(round(float64(res.PeakRSSBytes)/(1<<20), 1))
	return nil
}

func measureRelay(ctx context.Context, c Config, f *Figures) error {
	e, err := embedded.Start(server.Config{})
	if err != nil {
		return err
	}
	defer e.Close()
	for range c.RelayRounds {
		r, err := relayRound(ctx, e, c.RelayStreams, c.RelayTokens)
		if err != nil {
			return err
		}
		f.RelayRoundsTokensPS = append(f.RelayRoundsTokensPS, math.Round(r))
	}
	f.RelayTokensPerS = ptr(median(f.RelayRoundsTokensPS))
	return nil
}

func measureSoak(ctx context.Context, c Config, f *Figures) error {
	res, err := childResult[soakResult](ctx, ChildSoak, c)
	if err != nil {
		return err
	}
	mb := func(b int64) *float64 { return ptr(round(float64(b)/(1<<20), 1)) }
	f.SoakPeakRSSMB, f.SoakAfterRSSMB, f.SoakIdleRSSMB = mb(res.PeakRSSBytes), mb(res.AfterRSSBytes), mb(res.IdleRSSBytes)
	f.SoakPeakLogMB = mb(res.PeakLogBytes)
	f.SoakEvents, f.SoakStopped, f.SoakSeconds = res.Events, res.Stopped, res.Seconds
	return nil
}

func measureOverhead(ctx context.Context, c Config, f *Figures) error {
	base := envconfig.Host()
	if ok, note := ollamaHasModel(ctx, base, c.Model); !ok {
		f.Notes = append(f.Notes, "relay overhead not measured: "+note+
			"; scripts/bench.sh runs the bench against a test Ollama with that model")
		return nil
	}
	t, err := startTap(base)
	if err != nil {
		return err
	}
	defer t.close()
	e, err := embedded.Start(server.Config{OllamaURL: t.url})
	if err != nil {
		return err
	}
	defer e.Close()
	var all []time.Duration
	for i := range c.OverheadRounds + 1 {
		timings, err := overheadRound(ctx, e, t, c.Model, 1, c.OverheadTokens)
		if err != nil {
			return err
		}
		if i > 0 { // the first round loads the model
			all = append(all, overheads(timings)...)
		}
	}
	f.RelayOverheadTokens = len(all)
	f.RelayOverheadP50Ms = ptr(round(ms(figures.NearestRank(all, 50)), 3))
	f.RelayOverheadP99Ms = ptr(round(ms(figures.NearestRank(all, 99)), 3))
	f.RelayOverheadMaxMs = ptr(round(ms(figures.NearestRank(all, 100)), 3))

	timings, err := pacedRound(ctx, e, t, c, newPacing(server.RealClock{}, c.PacedStreams, c.PacedRate))
	if err != nil {
		return fmt.Errorf("paced: %w", err)
	}
	paced := overheads(timings)
	f.RelayOverheadPacedTokens = len(paced)
	f.RelayOverheadPacedP50Ms = ptr(round(ms(figures.NearestRank(paced, 50)), 3))
	f.RelayOverheadPacedP99Ms = ptr(round(ms(figures.NearestRank(paced, 99)), 3))
	f.RelayOverheadPacedMaxMs = ptr(round(ms(figures.NearestRank(paced, 100)), 3))
	return nil
}

// pacedRound runs c.PacedStreams streams of c.PacedTokens tokens at once
// with the tap pacing their lines by p. A round that has not ended long
// after its paced length fails: a reply that never reaches the tap would
// otherwise hold the others for ever.
func pacedRound(ctx context.Context, e *embedded.Server, t *tap, c Config, p *pacing) ([]tokenTiming, error) {
	t.pace(p)
	defer t.pace(nil)
	length := time.Duration(float64(c.PacedTokens) / c.PacedRate * float64(time.Second))
	ctx, cancel := context.WithTimeoutCause(ctx, 4*length+2*time.Minute,
		errors.New("the paced round did not end in 4 times its length and 2 minutes"))
	defer cancel()
	timings, err := overheadRound(ctx, e, t, c.Model, c.PacedStreams, c.PacedTokens)
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return timings, err
}

// judge notes which measured figures meet their targets.
func (f *Figures) judge() {
	check := func(name string, v *float64, ok func(float64) bool) {
		if v != nil {
			f.Targets[name] = ok(*v)
		}
	}
	below := func(limit float64) func(float64) bool { return func(v float64) bool { return v <= limit } }
	check("ui_latency_p99", f.UILatencyP99Ms, below(TargetUILatencyP99Ms))
	check("ui_latency_growth", f.UILatencyP99Ms20k, func(v float64) bool { return v <= TargetUILatencyGrowth**f.UILatencyP99Ms1k })
	check("cpu_cores", f.CPUCores, func(v float64) bool { return v < TargetCPUCores })
	check("rss_mb", f.RSSMB, below(TargetRSSMB))
	check("startup_ms", f.StartupMs, below(TargetStartupMs))
	check("relay_tokens_per_s", f.RelayTokensPerS, func(v float64) bool { return v >= TargetRelayTokensPerS })
	check("relay_overhead_paced_p99_ms", f.RelayOverheadPacedP99Ms, below(TargetRelayOverheadP99Ms))
	check("soak_peak_rss_mb", f.SoakPeakRSSMB, below(TargetSoakPeakRSSMB))
	check("soak_after_rss_mb", f.SoakAfterRSSMB, below(TargetSoakAfterRSSMB))
}

// Met says whether every measured figure meets its target.
func (f *Figures) Met() bool {
	for _, ok := range f.Targets {
		if !ok {
			return false
		}
	}
	return true
}

func (f *Figures) print(w io.Writer) {
	m := f.Machine
	fmt.Fprintf(w, "Tokenloom %s bench on %s (%d cores, %d MB), %s, %s, %s\n\n",
		m.Version, m.CPU, m.Cores, m.MemoryMB, m.OS, m.GoVersion, m.Date)
	mark := func(name string) string {
		ok, measured := f.Targets[name]
		switch {
		case !measured:
			return ""
		case ok:
			return "  ok"
		default:
			return "  MISSED"
		}
	}
	c := f.Config
	if f.UILatencyP99Ms1k != nil {
		w0 := min(c.Window, c.Tokens/2)
		fmt.Fprintf(w, "UI: %d streams × %d tokens at %g tokens/s, %d×%d window (%d tokens painted)\n",
			c.Streams, c.Tokens, c.Rate, c.Width, c.Height, f.UITokens)
		fmt.Fprintf(w, "  token to screen p99, every token                    %6.1f ms   (target ≤ %g)%s\n", *f.UILatencyP99Ms, TargetUILatencyP99Ms, mark("ui_latency_p99"))
		fmt.Fprintf(w, "  token to screen p99, first %d tokens of each stream  %6.1f ms\n", w0, *f.UILatencyP99Ms1k)
		fmt.Fprintf(w, "  token to screen p99, last %d tokens of each stream   %6.1f ms   (target ≤ %g× the first)%s\n", w0, *f.UILatencyP99Ms20k, TargetUILatencyGrowth, mark("ui_latency_growth"))
		fmt.Fprintf(w, "  token to screen p50 / max                           %6.1f / %.1f ms\n", *f.UILatencyP50Ms, *f.UILatencyMaxMs)
		fmt.Fprintf(w, "  CPU                                                 %6.2f cores (target < %g)%s\n", *f.CPUCores, TargetCPUCores, mark("cpu_cores"))
		if f.UIFramesPerS != nil {
			fmt.Fprintf(w, "  frames painting tokens                              %6.1f per s, %.1f ms of CPU each\n", *f.UIFramesPerS, *f.UICPUMsPerFrame)
		}
		fmt.Fprintf(w, "  peak RSS                                            %6.0f MB   (target ≤ %g)%s\n", *f.RSSMB, TargetRSSMB, mark("rss_mb"))
	}
	if f.BrowserLatencyP99Ms != nil {
		fmt.Fprintf(w, "Browser peer: the same streams in a minimal page in Chromium, %d×%d (%d tokens painted)\n  %s\n", c.Width, c.Height, f.BrowserTokens, f.BrowserEngine)
		w0 := min(c.Window, c.Tokens/2)
		fmt.Fprintf(w, "  token to frame p99, every token                     %6.1f ms\n", *f.BrowserLatencyP99Ms)
		fmt.Fprintf(w, "  token to frame p99, first / last %d tokens of each stream  %.1f / %.1f ms\n", w0, *f.BrowserLatencyP99Ms1k, *f.BrowserLatencyP99Ms20k)
		fmt.Fprintf(w, "  token to frame p50 / max                            %6.1f / %.1f ms\n", *f.BrowserLatencyP50Ms, *f.BrowserLatencyMaxMs)
		fmt.Fprintf(w, "  from the page's receipt of the token, p99           %6.1f ms (clock mapping ± %.2f ms)\n", *f.BrowserPageLatencyP99Ms, *f.BrowserClockErrorMs)
		fmt.Fprintf(w, "  CPU                                                 %6.2f cores, %.1f frames with tokens per s\n", *f.BrowserCPUCores, *f.BrowserFramesPerS)
		if f.UIToBrowserP99 != nil {
			fmt.Fprintf(w, "  UI p99 ÷ browser p99                                %6.2f\n", *f.UIToBrowserP99)
		}
	}
	if f.StartupMs != nil {
		fmt.Fprintf(w, "Start-up to a ready window with two demo panes, median of %d  %6.0f ms   (target ≤ %g)%s\n  launches: %v ms\n",
			len(f.StartupRunsMs), *f.StartupMs, TargetStartupMs, mark("startup_ms"), f.StartupRunsMs)
	}
	if f.RelayTokensPerS != nil {
		fmt.Fprintf(w, "Relay throughput, %d × %d demo/flood tokens, median of %d  %9.0f tokens/s (target ≥ %g)%s\n  rounds: %v\n",
			c.RelayStreams, c.RelayTokens, len(f.RelayRoundsTokensPS), *f.RelayTokensPerS, TargetRelayTokensPerS, mark("relay_tokens_per_s"), f.RelayRoundsTokensPS)
	}
	if f.EndpointsTokensPerS != nil {
		fmt.Fprintf(w, "Endpoints, %d streams × %d tokens over two OpenAI-compatible endpoints  %9.0f tokens/s\n",
			EndpointStreams, c.EndpointTokens, *f.EndpointsTokensPerS)
	}
	if f.RelayOverheadP99Ms != nil {
		fmt.Fprintf(w, "Relay overhead over reading Ollama directly (%s through a tap), per token\n", c.Model)
		if f.RelayOverheadPacedP99Ms != nil {
			fmt.Fprintf(w, "  paced, %d streams × %g tokens/s (%d tokens), from the tap's release of a line\n", c.PacedStreams, c.PacedRate, f.RelayOverheadPacedTokens)
			fmt.Fprintf(w, "    p50 / p99 / max  %.3f / %.3f / %.3f ms (target p99 ≤ %g)%s\n",
				*f.RelayOverheadPacedP50Ms, *f.RelayOverheadPacedP99Ms, *f.RelayOverheadPacedMaxMs, TargetRelayOverheadP99Ms, mark("relay_overhead_paced_p99_ms"))
		}
		fmt.Fprintf(w, "  saturated, 1 stream as fast as the model goes, both cores busy (%d tokens)\n", f.RelayOverheadTokens)
		fmt.Fprintf(w, "    p50 / p99 / max  %.3f / %.3f / %.3f ms (no target)\n",
			*f.RelayOverheadP50Ms, *f.RelayOverheadP99Ms, *f.RelayOverheadMaxMs)
	}
	if f.SoakPeakRSSMB != nil {
		fmt.Fprintf(w, "Memory soak, %d demo/flood streams × %d events at once (%d events in %.1f s; %d streams stopped by the log budget)\n",
			c.SoakStreams, c.SoakEvents, f.SoakEvents, f.SoakSeconds, f.SoakStopped)
		fmt.Fprintf(w, "  peak RSS                          %6.0f MB   (target ≤ %g; logs at most %.0f MB)%s\n", *f.SoakPeakRSSMB, TargetSoakPeakRSSMB, *f.SoakPeakLogMB, mark("soak_peak_rss_mb"))
		fmt.Fprintf(w, "  RSS 1 s after the runs' eviction  %6.0f MB   (target ≤ %g; idle %.0f MB)%s\n", *f.SoakAfterRSSMB, TargetSoakAfterRSSMB, *f.SoakIdleRSSMB, mark("soak_after_rss_mb"))
	}
	for _, n := range f.Notes {
		fmt.Fprintln(w, "Note:", n)
	}
	if f.Met() {
		fmt.Fprintln(w, "\nEvery measured figure meets its target.")
	} else {
		fmt.Fprintln(w, "\nSome figures miss their targets (marked MISSED).")
	}
}

func machine(version string) Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion: runtime.Version(), Version: version, Date: time.Now().UTC().Format(time.DateOnly)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryMB = kb / 1024
		}
	}
	return m
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func ptr[T any](v T) *T { return &v }

// parts are the names Skip takes.
var parts = []string{"ui", "startup", "relay", "overhead", "soak", "endpoints", "browser"}

// Validate says what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	in := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %d out of range %d to %d", name, v, lo, hi))
		}
	}
	in("streams", c.Streams, 1, 8)
	in("tokens", c.Tokens, 1, 200000)
	in("startup-runs", c.StartupRuns, 1, 100)
	in("relay-tokens", c.RelayTokens, 1, 200000)
	in("relay-rounds", c.RelayRounds, 1, 100)
	in("overhead-tokens", c.OverheadTokens, 1, 10000)
	in("overhead-rounds", c.OverheadRounds, 1, 100)
	in("paced-streams", c.PacedStreams, 1, 16)
	in("paced-tokens", c.PacedTokens, 1, 2000)
	in("soak-streams", c.SoakStreams, 1, 64)
	in("soak-events", c.SoakEvents, 3, 250_000)
	in("endpoint-tokens", c.EndpointTokens, 1, 200000)
	if !(c.Rate > 0) || c.Rate > 100000 {
		errs = append(errs, fmt.Errorf("rate %g out of range: more than 0, at most 100000 tokens/s", c.Rate))
	}
	if !(c.PacedRate > 0) || c.PacedRate > 1000 {
		errs = append(errs, fmt.Errorf("paced rate %g out of range: more than 0, at most 1000 tokens/s", c.PacedRate))
	}
	for _, s := range c.Skip {
		if !slices.Contains(parts, s) {
			errs = append(errs, fmt.Errorf("unknown part %q to skip (parts: %s)", s, strings.Join(parts, ", ")))
		}
	}
	return errors.Join(errs...)
}
