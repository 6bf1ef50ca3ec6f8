package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// TestSSETokenTimes: each token event of a tapped SSE reply is timed by
// the blank line that ends it; other events are left out.
func TestSSETokenTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	reply := []string{
		"id: 0", "event: phase", `data: {"seq":0,"phase":"generating","t_ms":1}`, "",
		"id: 1", "event: token", `data: {"seq":1,"text":"lorem","t_ms":2}`, "",
		"id: 2", "event: token", `data: {"seq":2,"text":" ipsum","t_ms":3}`,
		"",
		"id: 3", "event: done", `data: {"seq":3,"t_ms":4,"reason":"stop"}`, "",
	}
	var lines []tapLine
	for i, l := range reply {
		lines = append(lines, tapLine{at: at(i), line: []byte(l)})
	}
	got := sseTokenTimes(lines)
	want := map[int64]time.Time{1: at(7), 2: at(11)}
	if len(got) != len(want) || !got[1].Equal(want[1]) || !got[2].Equal(want[2]) {
		t.Errorf("token times %v, want %v", got, want)
	}
}

// TestClockOffset: the page's clock is mapped through the sample with the
// shortest round trip, within half of it.
func TestClockOffset(t *testing.T) {
	samples := [][3]float64{
		{100, 1050, 104},   // round trip 4 ms: offset 948
		{200, 1149.5, 201}, // 1 ms: offset 949
		{300, 1262, 310},   // 10 ms
	}
	off, bound, err := clockOffset(samples)
	if err != nil || off != 949 || bound != 0.5 {
		t.Errorf("offset %v ± %v (%v), want 949 ± 0.5", off, bound, err)
	}
	if _, _, err := clockOffset(nil); err == nil {
		t.Error("no samples: no error")
	}
	if _, _, err := clockOffset([][3]float64{{5, 1, 4}}); err == nil {
		t.Error("a sample answered before it was asked: no error")
	}
}

// TestBrowserLatencies: a token's latency is its frame's time, mapped to
// the bench's clock, minus its arrival; what the page reports is checked.
func TestBrowserLatencies(t *testing.T) {
	// The page's clock reads 1000 ms behind the bench's (± 0.5 ms).
	clock := [][3]float64{{10, 1010.5, 11}}
	good := func() browserResult {
		return browserResult{
			Clock:  clock,
			Frames: []float64{20, 36.5},
			Streams: []pageStream{
				{Seq: []int64{1, 2}, Received: []float64{18, 30}, Frame: []int{0, 1}},
				{Seq: []int64{1, 2}, Received: []float64{19, 35}, Frame: []int{0, 1}},
			},
		}
	}
	arrivals := func() []map[int64]float64 {
		return []map[int64]float64{{1: 1017, 2: 1029}, {1: 1018.5, 2: 1034}}
	}
	bf, err := browserLatencies(good(), arrivals(), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{3 * time.Millisecond, 7500 * time.Microsecond, 1500 * time.Microsecond, 2500 * time.Microsecond}
	wantPage := []time.Duration{2 * time.Millisecond, 6500 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond}
	if fmt.Sprint(bf.Latency) != fmt.Sprint(want) || fmt.Sprint(bf.Page) != fmt.Sprint(wantPage) {
		t.Errorf("latencies %v and from the page %v, want %v and %v", bf.Latency, bf.Page, want, wantPage)
	}
	if bf.ClockError != 500*time.Microsecond || math.Abs(bf.FramesPerS-1000/16.5) > 1e-9 {
		t.Errorf("clock error %v, %v frames per s", bf.ClockError, bf.FramesPerS)
	}

	for _, tc := range []struct {
		name  string
		spoil func(*browserResult, []map[int64]float64)
		want  string
	}{
		{"a token short", func(r *browserResult, _ []map[int64]float64) {
			s := &r.Streams[1]
			s.Seq, s.Received, s.Frame = s.Seq[:1], s.Received[:1], s.Frame[:1]
		}, "stream 1: the page has 1 tokens, want 2"},
		{"a stream short", func(r *browserResult, _ []map[int64]float64) { r.Streams = r.Streams[:1] }, "the page saw 1 streams, the run had 2"},
		{"never painted", func(r *browserResult, _ []map[int64]float64) { r.Streams[0].Frame[1] = -1 }, "token 1 (seq 2) was never painted"},
		{"not through the tap", func(_ *browserResult, a []map[int64]float64) { delete(a[1], 2) }, "reached the page but not through the tap"},
		{"painted before it came", func(_ *browserResult, a []map[int64]float64) { a[0][1] = 1021 }, "painted 1.000 ms before it arrived"},
		{"no clock", func(r *browserResult, _ []map[int64]float64) { r.Clock = nil }, "no clock samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, a := good(), arrivals()
			tc.spoil(&r, a)
			if _, err := browserLatencies(r, a, 2); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBrowserPartNotes: without a display or without Chromium the part is
// not measured, its figures stay null and a note says why.
func TestBrowserPartNotes(t *testing.T) {
	for _, tc := range []struct {
		name, display, path, want string
	}{
		{"no display", "", os.Getenv("PATH"), "no display"},
		{"no chromium", ":99", t.TempDir(), "no Chromium"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DISPLAY", tc.display)
			t.Setenv("PATH", tc.path)
			f := &Figures{Targets: map[string]bool{}}
			if err := measureBrowser(t.Context(), DefaultConfig(), f); err != nil {
				t.Fatal(err)
			}
			if f.BrowserLatencyP99Ms != nil || len(f.Notes) != 1 || !strings.Contains(f.Notes[0], tc.want) {
				t.Errorf("p99 %v, notes %q; want no figure and a note saying %q", f.BrowserLatencyP99Ms, f.Notes, tc.want)
			}
		})
	}
}

// goPage does in Go what browser.html does in Chromium: it loads the page,
// samples the bench's clock, starts the run, follows every stream through
// the tap over HTTP/2, "paints" each token 2 ms after it came, samples the
// clock again and reports. It trusts only the certificate it was given.
type goPage struct {
	done   chan struct{}
	cancel context.CancelFunc
	err    error
	proto  []string // the protocol of each stream's connection
}

func (g *goPage) exited() <-chan struct{} { return g.done }
func (g *goPage) why() string             { return fmt.Sprint(g.err) }
func (g *goPage) cpu() time.Duration      { return 0 }
func (g *goPage) stop() {
	g.cancel()
	<-g.done
}

func launchGoPage(ctx context.Context, g **goPage) launcher {
	return func(pageURL, spki string) (browserProcess, error) {
		ctx, cancel := context.WithCancel(ctx)
		*g = &goPage{done: make(chan struct{}), cancel: cancel}
		page := *g
		go func() {
			defer close(page.done)
			page.err = page.run(ctx, pageURL, spki)
			<-ctx.Done() // a browser stays until it is stopped
		}()
		return page, nil
	}
}

func (g *goPage) run(ctx context.Context, pageURL, spki string) error {
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // the certificate is checked by its public key, as Chromium is told to
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if base64.StdEncoding.EncodeToString(sum[:]) != spki {
				return errors.New("not the certificate the bench named")
			}
			return nil
		},
	}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	base := strings.TrimSuffix(pageURL, "/bench/")
	origin := time.Now()
	now := func() float64 { return msSince(origin, time.Now()) }
	get := func(method, path string, body io.Reader, v any) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %s %s %v", method, path, resp.Status, b, err)
		}
		if v != nil {
			return json.Unmarshal(b, v)
		}
		return nil
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", pageURL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if html := string(b); !strings.Contains(html, "new EventSource(") || !strings.Contains(html, "requestAnimationFrame(frame)") {
		return errors.New("the page does not follow the streams as it should")
	}
	var res browserResult
	sample := func() error {
		for range 10 {
			asked := now()
			var answer struct{ Ms float64 }
			if err := get("GET", "/bench/clock", nil, &answer); err != nil {
				return err
			}
			res.Clock = append(res.Clock, [3]float64{asked, answer.Ms, now()})
		}
		return nil
	}
	if err := sample(); err != nil {
		return err
	}
	var start startAnswer
	if err := get("POST", "/bench/start", nil, &start); err != nil {
		return err
	}
	res.Streams = make([]pageStream, len(start.Streams))
	g.proto = make([]string, len(start.Streams))
	var mu sync.Mutex
	errs := make([]error, len(start.Streams))
	var wg sync.WaitGroup
	for i, spec := range start.Streams {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events?stream="+spec.ID, nil)
			resp, err := hc.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			g.proto[i] = resp.Proto
			sc := bufio.NewScanner(resp.Body)
			var event, data string
			for sc.Scan() {
				field, value, _ := strings.Cut(sc.Text(), ": ")
				switch field {
				case "event":
					event = value
				case "data":
					data = value
				case "":
					if event == "done" {
						return
					}
					if event == "token" {
						received := now()
						var d struct{ Seq int64 }
						if err := json.Unmarshal([]byte(data), &d); err != nil {
							errs[i] = err
							return
						}
						mu.Lock()
						s := &res.Streams[i]
						s.Seq, s.Received = append(s.Seq, d.Seq), append(s.Received, received)
						s.Frame = append(s.Frame, len(res.Frames))
						res.Frames = append(res.Frames, received+2)
						mu.Unlock()
					}
					event, data = "", ""
				}
			}
			errs[i] = fmt.Errorf("stream %d ended without done: %v", i, sc.Err())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := sample(); err != nil {
		return err
	}
	body, _ := json.Marshal(res)
	if err := get("POST", "/bench/results", bytes.NewReader(body), nil); err != nil && ctx.Err() == nil {
		return err // else the bench had the report and stopped the page before its answer came
	}
	return nil
}

// TestBrowserRoundWithGoPage runs the browser part's server side for real
// (the embedded server, the tap over HTTPS and HTTP/2, the page's routes,
// the clock mapping) with goPage in Chromium's place: every token of every
// stream is measured, from its arrival to its "paint" 2 ms after the page
// had it, give or take the clock mapping's error; the streams share one
// HTTP/2 connection.
func TestBrowserRoundWithGoPage(t *testing.T) {
	c := DefaultConfig()
	c.Streams, c.Tokens, c.Rate = 8, 50, 500
	var page *goPage
	bf, err := browserRound(t.Context(), c, launchGoPage(t.Context(), &page))
	if err != nil {
		t.Fatalf("%v (the page: %v)", err, page.err)
	}
	if page.err != nil {
		t.Fatal(page.err)
	}
	if len(bf.Latency) != c.Streams*c.Tokens {
		t.Fatalf("%d tokens measured, want %d", len(bf.Latency), c.Streams*c.Tokens)
	}
	for i, p := range page.proto {
		if p != "HTTP/2.0" {
			t.Errorf("stream %d over %s, want HTTP/2.0", i, p)
		}
	}
	for i, d := range bf.Latency {
		// From the page's receipt: 2 ms; from the arrival: that and the
		// way from the tap to the page, which the clock mapping may put
		// up to its error too early.
		if page := bf.Page[i]; (page-2*time.Millisecond).Abs() > time.Microsecond || d < page-bf.ClockError-time.Microsecond {
			t.Errorf("token %d: %v from its arrival, %v from the page's receipt (clock ± %v)", i, d, page, bf.ClockError)
		}
	}
}

// startXvfb starts a virtual display of width × height on a free display
// number and returns its name; it stops with the test.
func startXvfb(t *testing.T, width, height int) string {
	t.Helper()
	xvfb := testenv.NeedTool(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Xvfb writes the display's number once it accepts clients.
	line, err := bufio.NewReader(r).ReadString('\n')
	if _, convErr := strconv.Atoi(strings.TrimSpace(line)); err != nil || convErr != nil {
		t.Fatalf("Xvfb gave no display (%v %q)\n%s", err, line, out.String())
	}
	return ":" + strings.TrimSpace(line)
}

// TestBrowserPartInChromium runs the browser part in a real Chromium under
// a virtual display, small: every token is measured, and once the part is
// over no process of Chromium's is left and its profile is gone. In CI it
// must run (scripts/test.sh installs chromium).
func TestBrowserPartInChromium(t *testing.T) {
	testenv.NeedTool(t, "chromium")
	c := DefaultConfig()
	c.Streams, c.Tokens, c.Rate = 3, 200, 200
	t.Setenv("DISPLAY", startXvfb(t, c.Width, c.Height))
	exe, _ := findChromium()
	var ch *chromium
	bf, err := browserRound(t.Context(), c, func(pageURL, spki string) (browserProcess, error) {
		var err error
		ch, err = startChromium(exe, pageURL, spki, c.Width, c.Height)
		return ch, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bf.Latency) != c.Streams*c.Tokens {
		t.Fatalf("%d tokens measured, want %d", len(bf.Latency), c.Streams*c.Tokens)
	}
	for i := range bf.Latency {
		if bf.Page[i] < 0 || bf.Latency[i] < bf.Page[i]-bf.ClockError-time.Microsecond {
			t.Errorf("token %d: %v from its arrival, %v from the page's receipt (clock ± %v)", i, bf.Latency[i], bf.Page[i], bf.ClockError)
		}
	}
	if bf.FramesPerS <= 0 || bf.CPUCores <= 0 {
		t.Errorf("%v frames per s, %v cores", bf.FramesPerS, bf.CPUCores)
	}
	if err := syscall.Kill(-ch.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Chromium's process group %d is still there (%v)", ch.cmd.Process.Pid, err)
	}
	if left := processesNaming(ch.dir); len(left) != 0 {
		t.Errorf("processes %v of Chromium's are still there", left)
	}
	if _, err := os.Stat(ch.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Chromium's profile %s is still there (%v)", ch.dir, err)
	}
	t.Logf("%d tokens: p50 %v, p99 %v; from the page's receipt p99 %v; clock ± %v; %.1f frames per s, %.2f cores", len(bf.Latency),
		figures.NearestRank(bf.Latency, 50), figures.NearestRank(bf.Latency, 99), figures.NearestRank(bf.Page, 99), bf.ClockError, bf.FramesPerS, bf.CPUCores)
}

// TestSetBrowserFigures: the browser peer's figures, with its first and
// last tokens of each stream compared as the UI part does.
func TestSetBrowserFigures(t *testing.T) {
	c := DefaultConfig()
	c.Streams, c.Tokens, c.Window = 2, 4, 1
	msd := func(v ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	bf := &browserFigures{
		Latency:    msd(10, 1, 2, 30, 20, 3, 4, 40),
		Page:       msd(1, 1, 1, 1, 1, 1, 1, 5),
		FramesPerS: 59.94, ClockError: 400 * time.Microsecond, CPUCores: 1.234, Engine: "Chrome/156",
	}
	f := &Figures{}
	f.setBrowserFigures(bf, c)
	got := fmt.Sprintln(*f.BrowserLatencyP99Ms1k, *f.BrowserLatencyP99Ms20k, *f.BrowserLatencyP99Ms, *f.BrowserLatencyP50Ms,
		*f.BrowserLatencyMaxMs, *f.BrowserPageLatencyP99Ms, f.BrowserTokens, *f.BrowserFramesPerS, *f.BrowserClockErrorMs, *f.BrowserCPUCores, f.BrowserEngine)
	if want := "20 40 40 4 40 5 8 59.9 0.4 1.23 Chrome/156\n"; got != want {
		t.Errorf("figures %s, want %s", got, want)
	}
}
