package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// longModel is a variant of the tiny model with a context of longNumCtx
// tokens. With one request at a time, Ollama lets it generate up to
// 10 × longNumCtx = 81,920 tokens, slower as the context fills (10,000
// tokens took 11.5 s here): a generation nobody stops keeps Ollama busy
// for a minute or more.
const (
	longModel  = "tokenloom-tiny-long"
	longNumCtx = 8192
	longCap    = 10 * longNumCtx
)

// Ollama's CPU, by which the tests tell whether it still generates: a
// generation of the tiny model takes about a core, an idle Ollama next to
// nothing. How much of a core a generation gets depends on the machine and
// on what else runs on it, so each test measures it (checkOllamaBusy) and
// calls Ollama idle when it uses under a quarter of that (checkOllamaIdle).
const (
	// cpuWindow is the time over which Ollama's CPU is measured.
	cpuWindow = 500 * time.Millisecond
	// minBusyCPU is the least CPU over cpuWindow that tells a generation:
	// its quarter, the most an idle Ollama may use, is still two ticks of
	// the kernel's CPU clock (10 ms) above the next to nothing it uses.
	minBusyCPU = 80 * time.Millisecond
	// fastestRate is twice the fastest rate ever measured for the tiny
	// model (14,000 tokens/s): the rest of a generation takes at least its
	// tokens at this rate, on any machine, and longer on a loaded one.
	fastestRate = 2 * 14000
)

// inFlight is more tokens than Ollama can have generated beyond those a test
// counted when the generation was stopped (on their way, in socket
// buffers): a sixth of a second at fastestRate.
const inFlight = 5000

// leftAtLeast is the least time a generation with tokens left would go on
// for, had nothing stopped it.
func leftAtLeast(tokens int) time.Duration {
	return time.Duration(float64(tokens) / fastestRate * float64(time.Second))
}

// startLongOllama starts an Ollama that serves one request at a time, with
// longModel.
func startLongOllama(t *testing.T) *ollamatest.Ollama {
	t.Helper()
	o := ollamatest.Start(t, ollamatest.WithEnv("OLLAMA_NUM_PARALLEL=1"))
	o.CreateModel(longModel, fmt.Sprintf("FROM %s\nPARAMETER num_ctx %d\n", o.Model(), longNumCtx))
	return o
}

// ollamaCPU is the CPU time Ollama and its runners use over d.
func ollamaCPU(t *testing.T, o *ollamatest.Ollama, d time.Duration) time.Duration {
	t.Helper()
	before, ok := o.CPU()
	if !ok {
		t.Fatal("cannot read Ollama's CPU time (no /proc?)")
	}
	time.Sleep(d)
	after, _ := o.CPU()
	return after - before
}

// checkOllamaBusy measures the CPU Ollama uses over cpuWindow while it
// generates, on this machine under its present load, and returns it for
// checkOllamaIdle. It fails the test if that is too little to tell a
// generation from an idle Ollama.
func checkOllamaBusy(t *testing.T, o *ollamatest.Ollama) time.Duration {
	t.Helper()
	busy := ollamaCPU(t, o, cpuWindow)
	t.Logf("while generating, Ollama used %v of CPU in %v", busy, cpuWindow)
	if busy < minBusyCPU {
		t.Fatalf("while generating, Ollama used only %v of CPU in %v (want ≥ %v): its CPU cannot tell a generation", busy, cpuWindow, minBusyCPU)
	}
	return busy
}

// checkOllamaIdle checks that Ollama stopped generating once what happened
// at at (a cancel, the exit of the process that was generating): measured
// window after window of cpuWindow, its CPU falls to a quarter of busy
// (what it used while generating, from checkOllamaBusy) before left has
// passed since at, left being the least time the rest of the generation
// would have taken. No time is guessed for the cancellation to reach the
// runner: had the generation gone on, it would have kept its CPU for all
// of left. (A request right after used to be the check, but Ollama 0.6.5 at
// times keeps its one slot for the model after a client went away
// mid-stream: the next request then waits in Ollama's scheduler although
// nothing generates.)
func checkOllamaIdle(t *testing.T, o *ollamatest.Ollama, what string, at time.Time, busy, left time.Duration) {
	t.Helper()
	for {
		used := ollamaCPU(t, o, cpuWindow)
		after := time.Since(at)
		if used <= busy/4 {
			t.Logf("in the %v up to %v after %s, Ollama used %v of CPU (%v while generating)", cpuWindow, after.Round(time.Millisecond), what, used, busy)
			return
		}
		if after+cpuWindow > left {
			t.Errorf("in the %v up to %v after %s, Ollama still used %v of CPU (%v while generating; want ≤ %v): it went on generating",
				cpuWindow, after.Round(time.Millisecond), what, used, busy, busy/4)
			return
		}
	}
}

// TestCLIServeCancelsOllama interrupts `tokenloom serve` in the middle of an
// Ollama stream: it exits within exitBound, its follower gets the stream's
// cancelled end, and Ollama stops generating.
func TestCLIServeCancelsOllama(t *testing.T) {
	o := startLongOllama(t)
	p := startCLI(t, cliEnv(o.Host()), "serve", "--addr", "127.0.0.1:0")
	url := p.waitLine(t, listeningLine)[1]
	cl, err := client.New(url)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testContext(t)
	created, err := cl.StartRun(ctx, wire.RunRequest{Prompt: "one", Streams: []wire.StreamSpec{{Model: longModel, Options: counting(100000, 0)}}})
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	ch, err := cl.Subscribe(ctx, created.Streams[0].ID)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	evs := readTokens(t, ctx, ch, 200)
	busy := checkOllamaBusy(t, o)

	interrupted := time.Now()
	took := p.interrupt(t)
	t.Logf("serve exited %v after SIGINT, %d tokens into the stream", took, len(evs.tokens()))
	if took >= exitBound {
		t.Errorf("serve exited %v after SIGINT, want about a second (bound %v)", took, exitBound)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	for ev := range ch {
		evs = append(evs, ev)
	}
	n := len(evs.tokens())
	checkDone(t, "the followed stream", evs, testmodel.Counting(n), wire.ReasonCancelled)
	if n >= longCap {
		t.Errorf("the stream ran to Ollama's cap of %d tokens", longCap)
	}
	checkOllamaIdle(t, o, "SIGINT", interrupted, busy, leftAtLeast(longCap-n-inFlight))
}

// TestWindowQuitCancelsOllama runs the desktop app in a real window under
// Xvfb, with one pane on a long Ollama stream started at launch (--run),
// and sends it SIGTERM in the middle of the stream, which quits the app the
// way closing its window does (both end internal/commands/desktop.Run): it must exit
// within about a second (exitBound), having closed its request to Ollama,
// and Ollama must stop generating. A proxy between the app and Ollama tells
// when the stream is flowing and when the app closed the request.
func TestWindowQuitCancelsOllama(t *testing.T) {
	testenv.Long(t, "runs the app in a window")
	xvfb := testenv.NeedTool(t, "xvfb-run")
	o := startLongOllama(t)
	proxy := newWatchProxy(t, o.Host())

	home := t.TempDir()
	prefsDir := filepath.Join(home, ".config", "fyne", "com.github.tokenloom.tokenloom")
	if err := os.MkdirAll(prefsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	panes, _ := json.Marshal([]map[string]any{{"model": longModel, "max_tokens": 100000}})
	prefs, _ := json.Marshal(map[string]any{"panes": string(panes), "prompt": "one"})
	if err := os.WriteFile(filepath.Join(prefsDir, "preferences.json"), prefs, 0o644); err != nil {
		t.Fatal(err)
	}

	// The script runs inside the X server: start the app, wait for the
	// go-ahead file, then time the app's exit after SIGTERM.
	goAhead := filepath.Join(t.TempDir(), "go")
	script := `
"$TOKENLOOM" --run & pid=$!
while [ ! -e "$GO_AHEAD" ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
if ! kill -0 $pid 2>/dev/null; then wait $pid; echo "DIED=$?"; exit 0; fi
start=$(date +%s%N)
kill -TERM $pid
wait $pid
echo EXIT=$? MS=$(( ($(date +%s%N) - start) / 1000000 ))
`
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Patience)
	defer cancel()
	// xvfb-run -a races with another xvfb-run -a starting at the same
	// display (the window tests of two packages run at once): start apart.
	cmd := exec.CommandContext(ctx, xvfb, "-a", "-n", "190", "-s", "-screen 0 1280x800x24", "bash", "-c", script)
	cmd.Env = append(cliEnv(proxy.addr()), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"TOKENLOOM="+tokenloomBin, "GO_AHEAD="+goAhead)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Tokens are flowing once a chat request has received 8 KiB (about 60
	// chunks of Ollama's stream).
	chat := proxy.waitChat(t, 8<<10, exited, &out)
	busy := checkOllamaBusy(t, o)
	sent := time.Now()
	if err := os.WriteFile(goAhead, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("xvfb-run: %v\n%s", err, out.String())
	}
	log := out.String()
	m := regexp.MustCompile(`EXIT=(\d+) MS=(\d+)`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no exit line: the app was not running at the go-ahead:\n%s", log)
	}
	code, _ := strconv.Atoi(m[1])
	ms, _ := strconv.Atoi(m[2])
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0\n%s", code, log)
	}
	if took := time.Duration(ms) * time.Millisecond; took >= exitBound {
		t.Errorf("the app exited %v after SIGTERM, want about a second (bound %v)", took, exitBound)
	}
	// The app has exited: its connections are closed with it.
	select {
	case <-chat.closed:
	case <-time.After(testenv.Patience):
		t.Fatalf("the app exited but its request to Ollama is still open")
	}
	t.Logf("the app exited %d ms after SIGTERM (status %d); its chat request to Ollama, %d bytes in, was closed %v after the go-ahead",
		ms, code, chat.down.Load(), chat.closedAt.Sub(sent).Round(time.Millisecond))
	// Each chunk of Ollama's stream, one token, is over 100 bytes.
	checkOllamaIdle(t, o, "the go-ahead to quit", sent, busy, leftAtLeast(longCap-int(chat.down.Load()/100)-inFlight))
}

// watchProxy forwards TCP connections to an Ollama and watches them: the
// bytes of each answer, whether it carries a chat request, and when the
// client closed it.
type watchProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*watchedConn
	wake  chan struct{} // closed and replaced when a connection changes
}

// watchedConn is one connection through a watchProxy.
type watchedConn struct {
	down     atomic.Int64 // bytes from Ollama to the client
	chat     atomic.Bool  // the client sent POST /api/chat on it
	closed   chan struct{}
	closedAt time.Time // when the client closed it; read after closed
}

func newWatchProxy(t *testing.T, target string) *watchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &watchProxy{ln: ln, target: target, wake: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *watchProxy) addr() string { return p.ln.Addr().String() }

func (p *watchProxy) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.wake)
	p.wake = make(chan struct{})
}

func (p *watchProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		wc := &watchedConn{closed: make(chan struct{})}
		p.mu.Lock()
		p.conns = append(p.conns, wc)
		p.mu.Unlock()
		p.wg.Add(1)
		go p.pipe(c, wc)
	}
}

func (p *watchProxy) pipe(c net.Conn, wc *watchedConn) {
	defer p.wg.Done()
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	var upEnded atomic.Bool // Ollama closed its side: so will the proxy
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				wc.down.Add(int64(n))
				p.changed()
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				upEnded.Store(true)
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if bytes.Contains(buf[:n], []byte("POST /api/chat ")) {
				wc.chat.Store(true)
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			if !upEnded.Load() {
				wc.closedAt = time.Now()
				close(wc.closed)
				p.changed()
			}
			return
		}
	}
}

// waitChat waits until a chat request has received at least n bytes, and
// returns its connection. It fails the test if the app exits first.
func (p *watchProxy) waitChat(t *testing.T, n int64, exited <-chan error, out *testenv.Buffer) *watchedConn {
	t.Helper()
	timeout := time.After(testenv.Patience)
	for {
		p.mu.Lock()
		wake := p.wake
		for _, wc := range p.conns {
			if wc.chat.Load() && wc.down.Load() >= n {
				p.mu.Unlock()
				return wc
			}
		}
		p.mu.Unlock()
		select {
		case <-wake:
		case err := <-exited:
			t.Fatalf("the app ended (%v) before its Ollama stream flowed:\n%s", err, out.String())
		case <-timeout:
			t.Fatalf("no Ollama stream from the app within %v:\n%s", testenv.Patience, out.String())
		}
	}
}
