package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/server"
)

// browserPage is the browser peer's page: one element per stream, a text
// node appended per token as it comes from an EventSource, and the time of
// the first requestAnimationFrame callback after each append.
//
//go:embed browser.html
var browserPage []byte

// chromiumNames are the names Chromium's executable goes by.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

// findChromium returns the path of the first of chromiumNames in PATH.
func findChromium() (string, bool) {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// browserResult is what the page posts back once every stream has ended.
// Its times are the page's clock, performance.now() in milliseconds.
type browserResult struct {
	// Clock are the page's clock samples before and after the run, each
	// [asked, bench, answered]: when the page asked for the bench's clock,
	// the bench's clock in its answer (ms since the part began), when the
	// answer came.
	Clock [][3]float64 `json:"clock"`
	// Frames are the times of the animation frame callbacks that followed
	// appends.
	Frames []float64 `json:"frames"`
	// Streams are the tokens of each stream, in the order they came.
	Streams []pageStream `json:"streams"`
	// Engine names the browser and its WebGL renderer.
	Engine string `json:"engine"`
	// Error, if set, says why the page could not measure.
	Error string `json:"error,omitempty"`
}

// pageStream is one stream's tokens as the page saw them.
type pageStream struct {
	// Seq is each token's sequence number (its SSE id), Received the time
	// its EventSource handler ran, Frame the index in Frames of the first
	// frame callback after it was appended.
	Seq      []int64   `json:"seq"`
	Received []float64 `json:"received"`
	Frame    []int     `json:"frame"`
}

// browserFigures are the browser peer's latencies.
type browserFigures struct {
	// Latency is from each token's arrival at the browser (the tap handing
	// its SSE event to the page's connection) to the first frame callback
	// after its append; Page from the page's own receipt of it.
	Latency, Page []time.Duration
	// FramesPerS are the frames with tokens per second.
	FramesPerS float64
	// ClockError bounds the error of the mapping of the page's clock to
	// the bench's, which Latency carries.
	ClockError time.Duration
	// CPUCores is the CPU time of every process of the browser from the
	// run's start to the page's report, over the wall time between them.
	CPUCores float64
	// Engine names the browser and its WebGL renderer.
	Engine string
}

// errBrowserStart is a Chromium that did not start or never loaded the
// page: the part is not measured, with a note.
var errBrowserStart = errors.New("chromium did not start")

// measureBrowser runs the browser peer: it needs a display and Chromium;
// without either the part is not measured and a note says why.
func measureBrowser(ctx context.Context, c Config, f *Figures) error {
	if os.Getenv("DISPLAY") == "" {
		f.Notes = append(f.Notes, "browser peer not measured: no display (DISPLAY is not set); run the bench under xvfb-run")
		return nil
	}
	exe, ok := findChromium()
	if !ok {
		f.Notes = append(f.Notes, "browser peer not measured: no Chromium ("+strings.Join(chromiumNames, ", ")+
			" in PATH); scripts/bench.sh installs Debian's chromium package")
		return nil
	}
	bf, err := browserRound(ctx, c, func(pageURL, spki string) (browserProcess, error) {
		return startChromium(exe, pageURL, spki, c.Width, c.Height)
	})
	if errors.Is(err, errBrowserStart) {
		f.Notes = append(f.Notes, "browser peer not measured: "+err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	f.setBrowserFigures(bf, c)
	return nil
}

// browserProcess is a browser that shows the page.
type browserProcess interface {
	// exited is closed once the browser has exited.
	exited() <-chan struct{}
	// why says how it exited, with the end of its output.
	why() string
	// stop ends it and every process it started, and waits for them.
	stop()
	// cpu is the CPU time its processes have used so far.
	cpu() time.Duration
}

// launcher opens pageURL in a browser that trusts the certificate whose
// public key has the base64 SHA-256 spki.
type launcher func(pageURL, spki string) (browserProcess, error)

// browserRound serves the page and the embedded server's SSE endpoint on
// one HTTPS origin (HTTP/2: eight EventSources on one connection, where
// HTTP/1.1 allows a browser six per host), opens the page with launch,
// starts the run when the page asks, and measures what the page posts
// back.
func browserRound(ctx context.Context, c Config, launch launcher) (*browserFigures, error) {
	e, err := embedded.Start(server.Config{})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	upstream, err := url.Parse(e.Server.URL())
	if err != nil {
		return nil, err
	}
	t := newTap(upstream, eventsKey)
	defer t.close()
	origin := time.Now()
	p := &pageServer{c: c, e: e, ctx: ctx, origin: origin, results: make(chan browserResult, 1)}
	cert, spki, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	srv, err := serveLoopback(p.handler(t.handler), &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return nil, err
	}
	defer srv.close()

	b, err := launch(srv.url+"/bench/", spki)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBrowserStart, err)
	}
	defer b.stop()
	p.setBrowser(b)

	length := time.Duration(float64(c.Tokens) / c.Rate * float64(time.Second))
	deadline := time.NewTimer(2*length + 2*time.Minute)
	defer deadline.Stop()
	var res browserResult
	select {
	case res = <-p.results:
	case <-b.exited():
		if !p.wasLoaded() {
			return nil, fmt.Errorf("%w: %s", errBrowserStart, b.why())
		}
		return nil, fmt.Errorf("the browser exited before the page reported: %s", b.why())
	case <-deadline.C:
		if !p.wasLoaded() {
			return nil, fmt.Errorf("%w: it never loaded the page\n%s", errBrowserStart, b.why())
		}
		return nil, fmt.Errorf("the page did not report within %v", 2*length+2*time.Minute)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	reported, cpuAtReport := time.Now(), b.cpu()
	if res.Error != "" {
		return nil, fmt.Errorf("the page: %s", res.Error)
	}
	ids := p.streamIDs()
	// A stream whose EventSource reconnected has a reply for each
	// connection, each going on after the other's last event.
	forwarded := map[string]map[int64]time.Time{}
	for _, r := range t.take() {
		if forwarded[r.key] == nil {
			forwarded[r.key] = map[int64]time.Time{}
		}
		maps.Copy(forwarded[r.key], sseTokenTimes(r.lines))
	}
	arrivals := make([]map[int64]float64, len(ids))
	for i, id := range ids {
		arrivals[i] = map[int64]float64{}
		for seq, at := range forwarded[id] {
			arrivals[i][seq] = msSince(origin, at)
		}
	}
	bf, err := browserLatencies(res, arrivals, c.Tokens)
	if err != nil {
		return nil, err
	}
	bf.Engine = res.Engine
	startedAt, cpuAtStart := p.startTimes()
	bf.CPUCores = (cpuAtReport - cpuAtStart).Seconds() / reported.Sub(startedAt).Seconds()
	return bf, nil
}

// setBrowserFigures sets the browser peer's figures from bf, a run of c.
func (f *Figures) setBrowserFigures(bf *browserFigures, c Config) {
	// Per stream, the first and the last Window tokens, as the UI part
	// compares them: does the page's cost grow with its text?
	w := min(c.Window, c.Tokens/2)
	var first, last []time.Duration
	for i := 0; i+c.Tokens <= len(bf.Latency); i += c.Tokens {
		s := bf.Latency[i : i+c.Tokens]
		first, last = append(first, s[:w]...), append(last, s[len(s)-w:]...)
	}
	f.BrowserLatencyP99Ms1k = ptr(round(ms(figures.NearestRank(first, 99)), 1))
	f.BrowserLatencyP99Ms20k = ptr(round(ms(figures.NearestRank(last, 99)), 1))
	f.BrowserTokens = len(bf.Latency)
	f.BrowserLatencyP50Ms = ptr(round(ms(figures.NearestRank(bf.Latency, 50)), 1))
	f.BrowserLatencyP99Ms = ptr(round(ms(figures.NearestRank(bf.Latency, 99)), 1))
	f.BrowserLatencyMaxMs = ptr(round(ms(figures.NearestRank(bf.Latency, 100)), 1))
	f.BrowserPageLatencyP99Ms = ptr(round(ms(figures.NearestRank(bf.Page, 99)), 1))
	f.BrowserFramesPerS = ptr(round(bf.FramesPerS, 1))
	f.BrowserCPUCores = ptr(round(bf.CPUCores, 2))
	f.BrowserClockErrorMs = ptr(round(ms(bf.ClockError), 3))
	f.BrowserEngine = bf.Engine
}

// msSince is at in milliseconds since origin.
func msSince(origin, at time.Time) float64 {
	return float64(at.Sub(origin)) / float64(time.Millisecond)
}

// eventsKey taps the replies of the SSE endpoint, keyed by stream ID.
func eventsKey(r *http.Request, _ []byte) (string, bool) {
	if r.URL.Path != "/events" {
		return "", false
	}
	return r.URL.Query().Get("stream"), true
}

// sseTokenTimes returns, per sequence number, when the tap passed on the
// blank line that ends each token event of an SSE reply: when the browser
// could dispatch it.
func sseTokenTimes(lines []tapLine) map[int64]time.Time {
	out := map[int64]time.Time{}
	var id, event string
	for _, l := range lines {
		field, value, _ := strings.Cut(string(l.line), ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			if event == "token" {
				if seq, err := strconv.ParseInt(id, 10, 64); err == nil {
					out[seq] = l.at
				}
			}
			id, event = "", ""
		case "id":
			id = value
		case "event":
			event = value
		}
	}
	return out
}

// clockOffset maps the page's clock to the bench's: bench ms = page ms +
// offset, from the sample with the shortest round trip (the bench read its
// clock somewhere within it: the error is at most half of it, returned as
// bound).
func clockOffset(samples [][3]float64) (offset, bound float64, err error) {
	if len(samples) == 0 {
		return 0, 0, errors.New("no clock samples")
	}
	best := samples[0]
	for _, s := range samples[1:] {
		if s[2]-s[0] < best[2]-best[0] {
			best = s
		}
	}
	if best[2] < best[0] {
		return 0, 0, fmt.Errorf("clock sample %v goes backwards", best)
	}
	return best[1] - (best[0]+best[2])/2, (best[2] - best[0]) / 2, nil
}

// browserLatencies measures each token of res: arrivals[i][seq] is when
// token seq of stream i reached the browser, in bench ms. Every stream
// must have tokens tokens, each painted, and the clock mapping must not
// put a paint before its token's arrival.
func browserLatencies(res browserResult, arrivals []map[int64]float64, tokens int) (*browserFigures, error) {
	offset, bound, err := clockOffset(res.Clock)
	if err != nil {
		return nil, err
	}
	if len(res.Streams) != len(arrivals) {
		return nil, fmt.Errorf("the page saw %d streams, the run had %d", len(res.Streams), len(arrivals))
	}
	out := &browserFigures{ClockError: time.Duration(bound * float64(time.Millisecond))}
	d := func(msv float64) time.Duration { return time.Duration(msv * float64(time.Millisecond)) }
	for i, s := range res.Streams {
		if len(s.Seq) != tokens || len(s.Received) != tokens || len(s.Frame) != tokens {
			return nil, fmt.Errorf("stream %d: the page has %d tokens, want %d", i, len(s.Seq), tokens)
		}
		for j, seq := range s.Seq {
			arrived, ok := arrivals[i][seq]
			if !ok {
				return nil, fmt.Errorf("stream %d: token %d (seq %d) reached the page but not through the tap", i, j, seq)
			}
			k := s.Frame[j]
			if k < 0 || k >= len(res.Frames) {
				return nil, fmt.Errorf("stream %d: token %d (seq %d) was never painted", i, j, seq)
			}
			painted := res.Frames[k]
			lat := painted + offset - arrived
			if lat < -bound {
				return nil, fmt.Errorf("stream %d: token %d painted %.3f ms before it arrived (clock offset %.3f ms ± %.3f)", i, j, -lat, offset, bound)
			}
			out.Latency = append(out.Latency, d(max(lat, 0)))
			out.Page = append(out.Page, d(painted-s.Received[j]))
		}
	}
	if n := len(res.Frames); n > 1 {
		out.FramesPerS = float64(n-1) / ((res.Frames[n-1] - res.Frames[0]) / 1000)
	}
	return out, nil
}

// pageServer serves the page and its routes beside the tap.
type pageServer struct {
	c       Config
	e       *embedded.Server
	ctx     context.Context
	origin  time.Time
	results chan browserResult

	mu         sync.Mutex
	browser    browserProcess
	loaded     bool // the page was asked for
	ids        []string
	startedAt  time.Time     // when the run started
	cpuAtStart time.Duration // the browser's CPU time then
}

func (p *pageServer) setBrowser(b browserProcess) {
	p.mu.Lock()
	p.browser = b
	p.mu.Unlock()
}

func (p *pageServer) startTimes() (time.Time, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startedAt, p.cpuAtStart
}

// handler serves /bench/ (the page), /bench/clock, /bench/start and
// /bench/results, and passes everything else to the tap.
func (p *pageServer) handler(tapped http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/{$}", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.loaded = true
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(browserPage) //nolint:errcheck // the page reports what it lacks
	})
	mux.HandleFunc("GET /bench/clock", func(w http.ResponseWriter, r *http.Request) {
		now := msSince(p.origin, time.Now())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"ms":%.4f}`, now)
	})
	mux.HandleFunc("POST /bench/start", func(w http.ResponseWriter, r *http.Request) {
		answer, err := p.start()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer) //nolint:errcheck // the page reports what it lacks
	})
	mux.HandleFunc("POST /bench/results", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 256<<20)).Decode(&res); err != nil {
			res = browserResult{Error: "unreadable results: " + err.Error()}
		}
		select {
		case p.results <- res:
		default: // only the first report counts
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", tapped)
	return mux
}

func (p *pageServer) wasLoaded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loaded
}

func (p *pageServer) streamIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ids
}

// startAnswer tells the page its streams.
type startAnswer struct {
	Streams []pageStreamSpec `json:"streams"`
}

type pageStreamSpec struct {
	ID    string `json:"id"`
	Color string `json:"color"`
}

// start starts the run the UI part runs: c.Streams demo/flood streams of
// c.Tokens tokens at c.Rate tokens per second. It starts it once.
func (p *pageServer) start() (startAnswer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids != nil {
		return startAnswer{}, errors.New("the run has started already")
	}
	req := wire.RunRequest{Prompt: "bench"}
	for range p.c.Streams {
		req.Streams = append(req.Streams, wire.StreamSpec{Model: wire.DemoFlood,
			Options: &wire.Options{NumPredict: &p.c.Tokens, Rate: &p.c.Rate}})
	}
	p.startedAt = time.Now()
	if p.browser != nil {
		p.cpuAtStart = p.browser.cpu()
	}
	created, err := p.e.Client.StartRun(p.ctx, req)
	if err != nil {
		return startAnswer{}, err
	}
	var answer startAnswer
	for i, st := range created.Streams {
		p.ids = append(p.ids, st.ID)
		rgb := palette.Of(i).RGB
		answer.Streams = append(answer.Streams, pageStreamSpec{ID: st.ID, Color: fmt.Sprintf("#%02x%02x%02x", rgb.R, rgb.G, rgb.B)})
	}
	return answer, nil
}

// selfSignedCert makes a certificate for 127.0.0.1 and returns it with the
// base64 SHA-256 of its public key, which Chromium is told to trust
// (--ignore-certificate-errors-spki-list).
func selfSignedCert() (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tokenloom bench"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, base64.StdEncoding.EncodeToString(sum[:]), nil
}

// chromium is a running Chromium, in a process group of its own.
type chromium struct {
	cmd     *exec.Cmd
	dir     string
	out     *tailBuffer
	done    chan struct{}
	err     error // the exit's, once done is closed
	stopped sync.Once
}

var _ browserProcess = (*chromium)(nil)

// startChromium opens pageURL in a Chromium app window of width × height
// at the screen's top left corner, with a new profile in a temporary
// folder.
func startChromium(exe, pageURL, spki string, width, height int) (*chromium, error) {
	dir, err := os.MkdirTemp("", "tokenloom-bench-chromium-")
	if err != nil {
		return nil, err
	}
	args := []string{
		"--user-data-dir=" + dir,
		"--no-first-run", "--no-default-browser-check", "--disable-default-apps", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-breakpad",
		"--password-store=basic", "--noerrdialogs", "--test-type",
		// The window is alone on a virtual screen, never focused: nothing
		// may throttle its frames or timers.
		"--disable-background-timer-throttling", "--disable-renderer-backgrounding",
		"--disable-backgrounding-occluded-windows", "--disable-features=CalculateNativeWinOcclusion,Translate,MediaRouter",
		"--ignore-certificate-errors-spki-list=" + spki,
		"--window-position=0,0", fmt.Sprintf("--window-size=%d,%d", width, height),
		"--app=" + pageURL,
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	ch := &chromium{cmd: exec.Command(exe, args...), dir: dir, out: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	ch.cmd.Stdout, ch.cmd.Stderr = ch.out, ch.out
	// Chromium's crash handler keeps its reports under the user's config
	// folder, not the profile: both go to the temporary folder, which also
	// names the handler's processes (they leave the process group).
	ch.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	ch.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := ch.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		ch.err = ch.cmd.Wait()
		close(ch.done)
	}()
	return ch, nil
}

func (ch *chromium) exited() <-chan struct{} { return ch.done }

func (ch *chromium) why() string {
	select {
	case <-ch.done:
		return fmt.Sprintf("chromium exited (%v)\n%s", ch.err, strings.TrimSpace(ch.out.String()))
	default:
		return "chromium is running\n" + strings.TrimSpace(ch.out.String())
	}
}

// stop ends Chromium and every process it started: its process group, and
// the crash handler that leaves the group but names the temporary folder.
// SIGTERM first, SIGKILL after 5 s; it returns once they are gone, and
// removes the folder.
func (ch *chromium) stop() {
	ch.stopped.Do(func() {
		pgid := ch.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM) //nolint:errcheck // gone already is fine
		select {
		case <-ch.done:
		case <-time.After(5 * time.Second):
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			left := processesNaming(ch.dir)
			if err := syscall.Kill(-pgid, syscall.SIGKILL); errors.Is(err, syscall.ESRCH) && len(left) == 0 {
				break
			}
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // gone already is fine
			}
			time.Sleep(20 * time.Millisecond)
		}
		<-ch.done
		os.RemoveAll(ch.dir)
	})
}

// processesNaming returns the processes whose command line contains s.
func processesNaming(s string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (ch *chromium) cpu() time.Duration { return groupCPU(ch.cmd.Process.Pid) }

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ).
const clockTicks = 100

// groupCPU is the CPU time used by the processes of process group pgid
// that are alive, and by their children that have ended and been waited
// for, from /proc.
func groupCPU(pgid int) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After the command's name in brackets: state, ppid, pgrp, ...;
		// utime, stime, cutime and cstime are fields 14 to 17.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = bytes.Clone(t.b[len(t.b)-t.max:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
