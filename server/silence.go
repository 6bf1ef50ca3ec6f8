package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Defaults of the silence limits of every model server: Ollama and the
// configured endpoints, of either kind (see Config.StartTimeout and
// Config.StallTimeout).
const (
	// DefaultStartTimeout is how long a stream waits for the first byte of
	// its model server's reply. A server answers nothing before the model
	// is loaded, the requests ahead of this one are served and the prompt
	// is read; a model of tens of gigabytes read from a slow disk, or a
	// long prompt on a CPU, takes minutes. Ollama's own
	// OLLAMA_LOAD_TIMEOUT gives up on a load that makes no progress for 5
	// minutes: twice that leaves it room to report its own error first.
	DefaultStartTimeout = 10 * time.Minute
	// DefaultStallTimeout is how long a stream waits for more bytes once
	// the reply has begun. Model servers send every token as it is made;
	// the slowest model a machine can run at all makes one every few
	// seconds, so a minute of silence means the server is stuck.
	DefaultStallTimeout = time.Minute
)

// silentError is the cause of a request to a model server cancelled
// because the server sent nothing for too long.
type silentError struct {
	after time.Duration // the silence that was too long
	began bool          // the reply had begun
}

func (e *silentError) Error() string {
	if e.began {
		return fmt.Sprintf("no bytes from the model server for %v in the middle of the reply", e.after)
	}
	return fmt.Sprintf("no reply from the model server for %v", e.after)
}

// silence watches the body of one request to a model server and cancels
// the request when no byte comes for longer than its limit: start until the first byte
// of the reply's body, stall between bytes after it. A limit <= 0 is none.
type silence struct {
	start, stall time.Duration
	cancel       context.CancelCauseFunc

	mu    sync.Mutex
	began bool      // a byte of the body arrived
	last  time.Time // when the last byte arrived, or the request was sent
	timer *time.Timer
	over  bool // fired or stopped
}

// watchSilence starts watching a request made now with ctx; it cancels
// ctx's request through cancel. Call stop when the request is over.
func watchSilence(ctx context.Context, start, stall time.Duration, cancel context.CancelCauseFunc) (context.Context, *silence) {
	s := &silence{start: start, stall: stall, cancel: cancel, last: time.Now()}
	if start > 0 {
		s.mu.Lock() // check may run before AfterFunc returns
		s.timer = time.AfterFunc(start, s.check)
		s.mu.Unlock()
	}
	return context.WithValue(ctx, silenceKey{}, s), s
}

// heard notes bytes of the reply.
func (s *silence) heard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over {
		return
	}
	s.last = time.Now()
	if s.began {
		return // the timer, when it fires, measures from last
	}
	s.began = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.stall > 0 {
		s.timer = time.AfterFunc(s.stall, s.check)
	}
}

// check runs when the timer fires: it cancels the request if the silence has
// lasted the limit, or waits for the rest of it.
func (s *silence) check() {
	s.mu.Lock()
	limit := s.start
	if s.began {
		limit = s.stall
	}
	if s.over || s.timer == nil || limit <= 0 {
		s.mu.Unlock()
		return
	}
	if quiet := time.Since(s.last); quiet < limit {
		s.timer.Reset(limit - quiet)
		s.mu.Unlock()
		return
	}
	s.over = true
	cause := &silentError{after: limit, began: s.began}
	s.mu.Unlock()
	s.cancel(cause)
}

// stop ends the watch.
func (s *silence) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.over = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

type silenceKey struct{}

// watchedTransport tells the silence of a request (if its context carries
// one) about every byte of the response body.
type watchedTransport struct {
	base *http.Transport
}

func (t watchedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if s, ok := r.Context().Value(silenceKey{}).(*silence); ok && err == nil {
		resp.Body = &heardBody{ReadCloser: resp.Body, s: s}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t watchedTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// heardBody is a response body that reports every read byte to a silence.
type heardBody struct {
	io.ReadCloser
	s *silence
}

func (b *heardBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.s.heard()
	}
	return n, err
}

// humanDuration writes d for a sentence: "10 minutes", "1 minute", "30 s",
// "250ms".
func humanDuration(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d > time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Minute:
		return "1 minute"
	case d > time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}
