package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/desktop"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/ui"
	"github.com/tokenloom/tokenloom/ui/frame"
)

// Child parts: `tokenloom bench --child PART` runs one part in a process of
// its own, so that its memory, CPU time and start-up are the app's alone.
const (
	ChildUI      = "ui"
	ChildStartup = "startup"
)

// readyLine is what a start-up child prints once its window is ready.
const readyLine = "ready"

// uiResult is what the UI child prints: one JSON line.
type uiResult struct {
	// Samples are the token latencies in ns, indexed [stream][token].
	Samples [][]int64 `json:"samples"`
	// CPUSeconds is the process's CPU time (user + system, every thread)
	// from the window being ready to the frame with the run's last tokens;
	// WallSeconds the wall time between the two.
	CPUSeconds  float64 `json:"cpu_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	// PeakRSSBytes is the process's peak resident set size (VmHWM).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Frames is how many frames painted tokens.
	Frames int `json:"frames"`
}

// scenario is the window set-up of the UI part: streams panes of demo/flood.
func scenario(c Config) *ui.Scenario {
	sc := &ui.Scenario{Prompt: "bench", Size: fyne.NewSize(float32(c.Width), float32(c.Height))}
	for range c.Streams {
		sc.Panes = append(sc.Panes, ui.PaneConfig{Model: wire.DemoFlood, MaxTokens: &c.Tokens, Rate: &c.Rate})
	}
	return sc
}

// RunChild runs one part of the bench in this process and prints its
// result to stdout. It needs a display.
func RunChild(ctx context.Context, part string, c Config, version string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := desktop.Options{Version: version, Stderr: stderr}
	switch part {
	case ChildStartup:
		o.Scenario = &ui.Scenario{Prompt: ui.DefaultPrompt, Panes: ui.DefaultPanes,
			Size: fyne.NewSize(float32(c.Width), float32(c.Height))}
		o.Probe = frame.NewProbe(func(time.Time) {
			fmt.Fprintln(stdout, readyLine)
			cancel()
		}, nil)
		if code := desktop.Run(ctx, o); code != 0 {
			return fmt.Errorf("the app exited with status %d", code)
		}
		return nil
	case ChildUI:
		if c.CPUProfile != "" {
			f, err := os.Create(c.CPUProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		var (
			res       uiResult
			readyAt   time.Time
			readyCPU  time.Duration
			completed bool
		)
		o.Scenario = scenario(c)
		o.AutoRun = true
		o.Probe = frame.NewProbe(func(painted time.Time) {
			readyAt, readyCPU = painted, frame.ProcessCPU()
		}, func() {
			res.CPUSeconds = (frame.ProcessCPU() - readyCPU).Seconds()
			res.WallSeconds = time.Since(readyAt).Seconds()
			completed = true
			cancel()
		})
		if code := desktop.Run(ctx, o); code != 0 {
			return fmt.Errorf("the app exited with status %d", code)
		}
		if !completed {
			return errors.New("the window closed before the run ended")
		}
		res.Samples = make([][]int64, c.Streams)
		for _, s := range o.Probe.Samples() {
			if s.Stream < 0 || s.Stream >= c.Streams || s.Token != len(res.Samples[s.Stream]) {
				return fmt.Errorf("token %d of stream %d painted out of order", s.Token, s.Stream)
			}
			res.Samples[s.Stream] = append(res.Samples[s.Stream], s.Latency.Nanoseconds())
		}
		res.PeakRSSBytes = peakRSS()
		res.Frames = o.Probe.Frames()
		if c.MemProfile != "" {
			if err := writeHeapProfile(c.MemProfile); err != nil {
				return err
			}
		}

		return json.NewEncoder(stdout).Encode(res)
	case ChildSoak:
		return runSoak(ctx, c, stdout)
	default:
		return fmt.Errorf("unknown bench part %q (want %s, %s or %s)", part, ChildUI, ChildStartup, ChildSoak)
	}
}

// childArgs are the arguments that run part in a child process.
func childArgs(part string, c Config) []string {
	return []string{"bench", "--child", part,
		"--streams", strconv.Itoa(c.Streams), "--rate", strconv.FormatFloat(c.Rate, 'g', -1, 64),
		"--tokens", strconv.Itoa(c.Tokens),
		"--soak-streams", strconv.Itoa(c.SoakStreams), "--soak-events", strconv.Itoa(c.SoakEvents),
		"--size", fmt.Sprintf("%dx%d", c.Width, c.Height), "--cpuprofile", c.CPUProfile, "--memprofile", c.MemProfile}
}

// child runs part in a child process of this executable. It calls line
// for every line the child prints, with the time it was read, and returns
// the child's standard error with its failure.
func child(ctx context.Context, part string, c Config, line func(at time.Time, text string)) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, childArgs(part, c)...)
	// The window keeps its runs, as it does for users, in a history of its
	// own: the bench's floods stay out of the user's.
	dir, err := os.MkdirTemp("", "tokenloom-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd.Env = append(os.Environ(), history.EnvVar+"="+filepath.Join(dir, "history.db"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 256<<20)
	for sc.Scan() {
		line(time.Now(), sc.Text())
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("bench part %s: %w\n%s", part, err, strings.TrimSpace(errBuf.String()))
	}
	return scanErr
}

// writeHeapProfile writes the heap profile (the live heap after a
// collection) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
