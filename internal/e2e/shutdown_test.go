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
	"github.com/tokenloom/tokenloom/internal/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testenv"
	"github.com/tokenloom/tokenloom/internal/testmodel"
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
// nothing.
const (
	idleSettle = 300 * time.Millisecond // for a cancellation to reach the runner
	idleCPU    = 200 * time.Millisecond // at most, over a second, when idle
	busyCPU    = 400 * time.Millisecond // at least, over a second, when generating
)

// startLongOllama starts an Ollama that serves one request at a time, with
// longModel.
func startLongOllama(t *testing.T) *ollamatest.Ollama {
	t.Helper()
	o := ollamatest.Start(t, ollamatest.WithEnv("OLLAMA_NUM_PARALLEL=1"))
	o.CreateModel(longModel, fmt.Sprintf("FROM %s\nPARAMETER num_ctx %d\n", o.Model(), longNumCtx))
	return o
}

// ollamaCPU is the CPU time Ollama and its runner use over d.
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

// checkOllamaBusy checks that Ollama is generating, as seen by its CPU: the
// proof that checkOllamaIdle can tell.
func checkOllamaBusy(t *testing.T, o *ollamatest.Ollama) {
	t.Helper()
	busy := ollamaCPU(t, o, time.Second)
	t.Logf("while generating, Ollama used %v of CPU in a second", busy)
	if busy < busyCPU {
		t.Errorf("while generating, Ollama used only %v of CPU in a second (want ≥ %v): its CPU cannot tell a generation", busy, busyCPU)
	}
}

// checkOllamaIdle checks that Ollama stopped generating once the process
// that was generating ended (what): shortly after, over a second, Ollama
// and its runner use next to no CPU, where the generation, had it gone on,
// would take about a core for a minute or more. (A request right after
// used to be the check, but Ollama 0.6.5 at times keeps its one slot for
// the model after a client went away mid-stream: the next request then
// waits in Ollama's scheduler although nothing generates.)
func checkOllamaIdle(t *testing.T, o *ollamatest.Ollama, what string) {
	t.Helper()
	time.Sleep(idleSettle)
	busy := ollamaCPU(t, o, time.Second)
	t.Logf("in the second after %s (and %v), Ollama used %v of CPU", what, idleSettle, busy)
	if busy > idleCPU {
		t.Errorf("in the second after %s, Ollama used %v of CPU (want ≤ %v): it went on generating", what, busy, idleCPU)
	}
}

// TestCLIServeCancelsOllama interrupts `tokenloom serve` in the middle of an
// Ollama stream: it exits within sigintBound, its follower gets the stream's
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
	created, err := cl.StartRun(ctx, client.RunRequest{Prompt: "one", Streams: []client.StreamSpec{{Model: longModel, Options: counting(100000, 0)}}})
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	subCtx, stopSub := context.WithTimeout(ctx, 10*time.Second)
	defer stopSub()
	ch, err := cl.Subscribe(subCtx, created.Streams[0].ID)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	evs := readTokens(t, ctx, ch, 200)
	checkOllamaBusy(t, o)

	took := p.interrupt(t)
	t.Logf("serve exited %v after SIGINT, %d tokens into the stream", took, len(evs.tokens()))
	if took >= sigintBound {
		t.Errorf("serve exited %v after SIGINT, want < %v", took, sigintBound)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	for ev := range ch {
		evs = append(evs, ev)
	}
	n := len(evs.tokens())
	checkDone(t, "the followed stream", evs, testmodel.Counting(n), client.ReasonCancelled)
	if n >= longCap {
		t.Errorf("the stream ran to Ollama's cap of %d tokens", longCap)
	}
	checkOllamaIdle(t, o, "serve exited")
}

// TestWindowQuitCancelsOllama runs the desktop app in a real window under
// Xvfb, with one pane on a long Ollama stream started at launch (--run),
// and sends it SIGTERM in the middle of the stream, which quits the app the
// way closing its window does (both end internal/desktop.Run): it must exit
// within a second, having closed its request to Ollama, and Ollama must stop
// generating. A proxy between the app and Ollama tells when the stream is
// flowing and when the app closed the request.
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
	ctx, cancel := context.WithTimeout(t.Context(), 2*streamTimeout)
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
	if ms >= 1000 {
		t.Errorf("the app exited %d ms after SIGTERM, want < 1000 ms", ms)
	}
	select {
	case <-chat.closed:
	case <-time.After(2 * time.Second):
		t.Fatalf("the app exited but its request to Ollama is still open")
	}
	t.Logf("the app exited %d ms after SIGTERM (status %d); its chat request to Ollama, %d bytes in, was closed %v after the go-ahead",
		ms, code, chat.down.Load(), chat.closedAt.Sub(sent).Round(time.Millisecond))
	checkOllamaIdle(t, o, "the app quit")
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
	timeout := time.After(streamTimeout)
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
			t.Fatalf("no Ollama stream from the app within %v:\n%s", streamTimeout, out.String())
		}
	}
}
