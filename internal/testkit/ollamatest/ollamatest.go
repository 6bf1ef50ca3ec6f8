// Package ollamatest runs a real Ollama server, loaded with the tiny
// deterministic model of package testmodel, for tests in other packages.
//
// Start finds the ollama binary, runs `ollama serve` on a free loopback port
// with a private models directory and HOME, waits until it answers, and
// creates the model. Everything is stopped when the test ends; the server's
// output is logged if the test failed.
//
// The binary is looked up in TOKENLOOM_OLLAMA_BIN, then PATH, then the cache
// that scripts/install-ollama.sh fills. Without one, tests are skipped, or
// fail when CI=true.
//
// The package needs a Unix-like system: the server runs in its own process
// group so that Kill and Stop also end the runner processes it spawns.
package ollamatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// BinEnv is the environment variable that names the ollama binary to use.
const BinEnv = "TOKENLOOM_OLLAMA_BIN"

// Version is the Ollama version the tests are written against and that
// scripts/install-ollama.sh installs.
const Version = "v0.11.4"

// CompatVersion is the oldest Ollama version Tokenloom supports, which
// scripts/install-ollama.sh installs beside Version for a short
// compatibility test (WithVersion).
const CompatVersion = "v0.6.5"

// InstallHint tells how to get an ollama binary; it is part of the skip and
// failure messages of Start.
const InstallHint = "run scripts/install-ollama.sh to build Ollama " + Version +
	" into the user cache, put ollama on PATH, or set " + BinEnv

// Waits for Ollama to be ready, to create a model, to stop and for its
// processes to be gone: each must happen, so each is bounded only by
// testenv.Patience, no guess at the machine's speed.
const (
	readyTimeout  = testenv.Patience
	createTimeout = testenv.Patience
	stopTimeout   = testenv.Patience
	goneTimeout   = testenv.Patience
	pollInterval  = 25 * time.Millisecond
)

// CachedBinary returns where scripts/install-ollama.sh puts the ollama
// binary: $(os.UserCacheDir)/tokenloom/ollama-<Version>/bin/ollama.
func CachedBinary() (string, error) { return cachedBinaryOf(Version) }

func cachedBinaryOf(version string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokenloom", "ollama-"+version, "bin", "ollama"), nil
}

// FindBinary returns the path of the ollama binary: the value of BinEnv if it
// is set (it must then name an executable file), else ollama on PATH, else
// CachedBinary. The error wraps fs.ErrNotExist when there is none.
func FindBinary() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("ollama"); err == nil {
		return filepath.Abs(p)
	}
	p, err := CachedBinary()
	if err != nil {
		return "", fmt.Errorf("ollama is not on PATH and the user cache directory is unknown: %w", err)
	}
	if err := checkExecutable(p); err != nil {
		return "", fmt.Errorf("ollama is not on PATH and %s is not usable: %w", p, err)
	}
	return p, nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("is a directory: %w", fs.ErrNotExist)
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("not executable: %w", fs.ErrPermission)
	}
	return nil
}

// Option configures Start.
type Option func(*config)

type config struct {
	env     []string
	version string
}

// WithVersion runs another Ollama version than Version, from where
// scripts/install-ollama.sh puts it (CompatVersion).
func WithVersion(version string) Option {
	return func(c *config) { c.version = version }
}

// WithEnv adds environment variables, each "KEY=VALUE", to the server's
// environment, for example "OLLAMA_NUM_PARALLEL=1". They override the ones
// Start sets itself.
func WithEnv(keyValues ...string) Option {
	return func(c *config) { c.env = append(c.env, keyValues...) }
}

// Ollama is a running Ollama server started by Start.
type Ollama struct {
	t     testing.TB
	bin   string
	host  string
	model string
	env   []string
	log   testenv.Buffer

	mu      sync.Mutex
	cmd     *exec.Cmd     // nil when not running
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's result, set before exited is closed
}

// Start runs `ollama serve` on a free port of 127.0.0.1 with an empty models
// directory and creates the testmodel model in it. The server is stopped when
// the test and its subtests end. If there is no ollama binary, Start skips
// the test, or fails it when the environment variable CI is true.
func Start(t testing.TB, opts ...Option) *Ollama {
	t.Helper()
	var c config
	for _, opt := range opts {
		opt(&c)
	}
	bin, err := FindBinary()
	if c.version != "" && c.version != Version {
		if bin, err = cachedBinaryOf(c.version); err == nil {
			err = checkExecutable(bin)
		}
	}
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("ollamatest: no ollama binary in CI (%v); %s", err, InstallHint)
		}
		t.Skipf("ollamatest: no ollama binary (%v); %s", err, InstallHint)
	}

	modelDir := t.TempDir()
	if _, _, err := testmodel.Write(modelDir); err != nil {
		t.Fatalf("ollamatest: %v", err)
	}
	o := &Ollama{
		t:     t,
		bin:   bin,
		model: testmodel.Name,
		env: append(ollamaFreeEnv(),
			"OLLAMA_MODELS="+t.TempDir(),
			"HOME="+t.TempDir(), // ollama serve writes a key pair to ~/.ollama
			"GIN_MODE=release",  // no route listing in the log
		),
	}
	o.env = append(o.env, c.env...)
	t.Cleanup(func() {
		o.Stop()
		if t.Failed() {
			t.Logf("ollamatest: log of ollama serve on %s:\n%s", o.host, o.Log())
		}
	})

	begin := time.Now()
	o.startOnFreePort()
	started := time.Now()
	o.create(modelDir)
	t.Logf("ollamatest: %s serving on %s after %v, model %s created in %v",
		bin, o.host, started.Sub(begin).Round(time.Millisecond),
		o.model, time.Since(started).Round(time.Millisecond))
	return o
}

// ollamaFreeEnv returns the environment of this process without any OLLAMA_
// variables, so that the developer's settings do not leak into the server.
func ollamaFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OLLAMA_") {
			env = append(env, kv)
		}
	}
	return env
}

// startOnFreePort starts the server on a port that was free a moment ago,
// trying again with another port if it was taken in between.
func (o *Ollama) startOnFreePort() {
	o.t.Helper()
	const attempts = 3
	for i := 1; ; i++ {
		port, err := freePort()
		if err != nil {
			o.t.Fatalf("ollamatest: %v", err)
		}
		o.host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = o.serve()
		if err == nil {
			return
		}
		if i < attempts && strings.Contains(o.Log(), "address already in use") {
			o.t.Logf("ollamatest: port %d was taken, trying another one", port)
			continue
		}
		o.t.Fatalf("ollamatest: %v", err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serve starts `ollama serve` on o.host and waits until it answers. On error
// the server is not running.
func (o *Ollama) serve() error {
	cmd := exec.Command(o.bin, "serve")
	cmd.Env = append(append([]string(nil), o.env...), "OLLAMA_HOST="+o.host)
	cmd.Stdout = &o.log
	cmd.Stderr = &o.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Runners inherit the output pipe; don't wait forever for them to close it.
	cmd.WaitDelay = goneTimeout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s serve: %w", o.bin, err)
	}
	exited := make(chan struct{})
	o.mu.Lock()
	o.cmd, o.exited = cmd, exited
	o.mu.Unlock()
	go func() {
		err := cmd.Wait()
		o.mu.Lock()
		o.waitErr = err
		o.mu.Unlock()
		close(exited)
	}()

	if err := o.waitReady(exited); err != nil {
		o.Kill()
		return err
	}
	return nil
}

func (o *Ollama) waitReady(exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get(o.URL() + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		select {
		case <-exited:
			o.mu.Lock()
			werr := o.waitErr
			o.mu.Unlock()
			return fmt.Errorf("ollama serve on %s exited before it answered: %v", o.host, werr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ollama serve on %s did not answer within %v: %v", o.host, readyTimeout, err)
		}
	}
}

// create runs `ollama create` with the Modelfile in dir.
func (o *Ollama) create(dir string) {
	o.t.Helper()
	o.createIn(o.model, dir)
}

// CreateModel creates the model name on the server from the text of a
// Modelfile, typically a variant of the tiny model:
//
//	o.CreateModel("tiny-long", "FROM "+o.Model()+"\nPARAMETER num_ctx 8192\n")
func (o *Ollama) CreateModel(name, modelfile string) {
	o.t.Helper()
	dir := o.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, testmodel.ModelfileName), []byte(modelfile), 0o644); err != nil {
		o.t.Fatalf("ollamatest: %v", err)
	}
	o.createIn(name, dir)
}

// createIn runs `ollama create name` with the Modelfile in dir.
func (o *Ollama) createIn(name, dir string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, "create", name, "-f", testmodel.ModelfileName)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), o.env...), "OLLAMA_HOST="+o.host)
	if out, err := cmd.CombinedOutput(); err != nil {
		o.t.Fatalf("ollamatest: ollama create %s: %v\n%s", name, err, out)
	}
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (o *Ollama) URL() string { return "http://" + o.host }

// Host returns the server's address, 127.0.0.1:PORT, in the form that
// OLLAMA_HOST takes.
func (o *Ollama) Host() string { return o.host }

// Model returns the name of the tiny model created on the server.
func (o *Ollama) Model() string { return o.model }

// CreateThinker creates the thinking variant of the tiny model
// (testmodel.ThinkingName) and returns its name.
func (o *Ollama) CreateThinker() string {
	o.t.Helper()
	o.CreateModel(testmodel.ThinkingName, "FROM "+o.model+"\n"+testmodel.ThinkingTemplate+"\n")
	return testmodel.ThinkingName
}

// Log returns what the server and its runners have written so far.
func (o *Ollama) Log() string { return o.log.String() }

// PID returns the process ID of `ollama serve`, which is also the ID of the
// process group that holds it and its runners, or 0 when it is not running.
func (o *Ollama) PID() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd == nil {
		return 0
	}
	return o.cmd.Process.Pid
}

// Kill ends the server and its runners at once with SIGKILL, as in a crash,
// and waits until they are gone. It does nothing if the server is not running.
func (o *Ollama) Kill() {
	o.t.Helper()
	o.end(false)
}

// Stop asks the server to shut down with SIGTERM, kills it and its runners if
// they are still there after 10 s, and waits until they are gone. It does
// nothing if the server is not running. Start arranges for Stop to be called
// when the test ends.
func (o *Ollama) Stop() {
	o.t.Helper()
	o.end(true)
}

// Restart starts the server again after Kill or Stop, on the same address
// and with the same models, and waits until it answers.
func (o *Ollama) Restart() {
	o.t.Helper()
	if o.PID() != 0 {
		o.t.Fatalf("ollamatest: Restart: ollama serve on %s is still running", o.host)
	}
	if err := o.serve(); err != nil {
		o.t.Fatalf("ollamatest: Restart: %v", err)
	}
}

func (o *Ollama) end(graceful bool) {
	o.t.Helper()
	o.mu.Lock()
	cmd, exited := o.cmd, o.exited
	o.cmd = nil
	o.mu.Unlock()
	if cmd == nil {
		return
	}
	pgid := cmd.Process.Pid
	if graceful {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			o.t.Errorf("ollamatest: ollama serve on %s ignored SIGTERM for %v", o.host, stopTimeout)
		}
	}
	// Also ends runners that survived a graceful shutdown.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
	if err := waitGroupGone(pgid, goneTimeout); err != nil {
		o.t.Errorf("ollamatest: %v", err)
	}
}

// waitGroupGone waits until no live process is left in process group pgid.
func waitGroupGone(pgid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		live := liveGroupMembers(pgid)
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of group %d still alive after %v", live, pgid, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// liveGroupMembers returns the IDs of the processes in process group pgid
// that have not exited. Zombies, which have exited but not yet been reaped
// by their new parent, do not count. Without /proc it can only tell whether
// the group has any process at all, and then returns []int{pgid}.
func liveGroupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if syscall.Kill(-pgid, 0) == nil {
			return []int{pgid}
		}
		return nil
	}
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, group, ok := procStat(pid)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			live = append(live, pid)
		}
	}
	return live
}

// procStat reads the state and process group of pid from /proc/PID/stat.
func procStat(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...", where comm may contain spaces
	// and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgid, err = strconv.Atoi(f[2])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pgid, true
}

// CPU returns the CPU time (user and system) used so far by `ollama serve`
// and its runners: the processes of its process group, read from /proc.
// It reports false where there is no /proc (not Linux) or Ollama is not
// running.
func (o *Ollama) CPU() (time.Duration, bool) {
	o.mu.Lock()
	cmd := o.cmd
	o.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, false
	}
	pgid := cmd.Process.Pid // started with Setpgid
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return 0, false
	}
	var ticks int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended
		}
		// pid (comm) state ppid pgrp … utime stime: fields after the
		// command name, which may hold spaces and parentheses.
		end := bytes.LastIndexByte(b, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(string(b[end+1:]))
		if len(f) < 13 {
			continue
		}
		if pgrp, _ := strconv.Atoi(f[2]); pgrp != pgid {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += utime + stime
	}
	// /proc counts in USER_HZ, which Linux fixes at 100 per second.
	return time.Duration(ticks) * 10 * time.Millisecond, true
}
