package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/r3labs/sse/v2"
)

// subscription is one GET /events request. It owns a private r3labs stream,
// so that r3labs's per-stream queue (which blocks every subscriber behind a
// slow one) only ever holds one subscriber.
type subscription struct {
	subscribed   chan struct{} // closed by OnSubscribe: r3labs registered the subscriber
	unsubscribed chan struct{} // closed by OnUnsubscribe: r3labs let go of it
}

// handleEvents serves GET /events?stream=ID. It answers every event of the
// stream after Last-Event-ID (from seq 0 without it), then ends the response
// after the terminal event.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("stream")
	if id == "" {
		writeError(w, http.StatusBadRequest, "missing stream", "ask for /events?stream=ID with a stream id from POST /api/runs")
		return
	}
	st := s.lookupStream(id)
	if st == nil {
		writeError(w, http.StatusNotFound, "unknown stream "+strconv.Quote(id), "stream ids come from POST /api/runs; finished runs are kept for a while, then dropped")
		return
	}
	next := int64(0)
	// An empty Last-Event-ID is no id, as an EventSource that has none
	// would send it.
	if h := r.Header.Values("Last-Event-ID"); len(h) > 1 || len(h) == 1 && h[0] != "" {
		last, valid := parseLastEventID(h[0], s.cfg.MaxStreamEvents)
		if !valid || len(h) > 1 {
			writeError(w, http.StatusBadRequest, "bad Last-Event-ID "+strconv.Quote(strings.Join(h, ", ")),
				fmt.Sprintf("send the id of the last event received: a number from 0 to %d, digits only", s.cfg.MaxStreamEvents-1))
			return
		}
		next = last + 1
	}
	// A finished stream that has nothing after Last-Event-ID answers 204,
	// which tells a browser's EventSource to stop reconnecting.
	if n, settled := st.length(); settled && next >= n {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.follow(w, r, st, next)
}

// parseLastEventID reads a Last-Event-ID: the decimal digits of a sequence
// number below max, nothing else (no sign, no space, no other digits).
func parseLastEventID(h string, max int) (int64, bool) {
	if h == "" || len(h) > len(strconv.Itoa(max)) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n < int64(max)
}

// follow streams st's events from seq next on, through a private r3labs
// stream, until the terminal event, the client leaving or the server
// closing.
func (s *Server) follow(w http.ResponseWriter, r *http.Request, st *stream, next int64) {
	id := st.id
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.handlers.Add(1)
		s.following++
	}
	s.mu.Unlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, "the server is shutting down", "")
		return
	}
	defer s.handlers.Done()
	defer func() {
		// The last subscriber of a dropped run lets go of its log here.
		s.mu.Lock()
		s.following--
		s.maybeReleaseLocked()
		s.mu.Unlock()
	}()
	if _, ok := w.(http.Flusher); !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported by this connection", "")
		return
	}

	rid := id + "#" + strconv.FormatInt(s.subSeq.Add(1), 10)
	sub := &subscription{subscribed: make(chan struct{}), unsubscribed: make(chan struct{})}
	s.subs.Store(rid, sub)
	defer s.subs.Delete(rid)
	s.sse.CreateStream(rid)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stopOnClose := context.AfterFunc(s.life, cancel)
	defer stopOnClose()

	fed := make(chan struct{})
	go func() {
		defer close(fed)
		// A panic here would take the whole process down: end this
		// subscriber's response instead.
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic feeding a subscriber", "stream", st.id, "panic", v, "stack", string(debug.Stack()))
				cancel()
			}
		}()
		s.feed(ctx, rid, st, next, sub)
	}()

	// r3labs reads the stream id from the query: point it at the private
	// stream. It also parses Last-Event-ID for its own replay, which is off:
	// the header is ours, already checked.
	r2 := r.WithContext(ctx)
	u := *r.URL
	u.RawQuery = url.Values{"stream": {rid}}.Encode()
	r2.URL = &u
	r2.Header = r.Header.Clone()
	r2.Header.Del("Last-Event-ID")
	rec := &statusRecorder{ResponseWriter: w}
	s.sse.ServeHTTP(rec, r2)

	// r3labs's ServeHTTP returns after the end marker or on cancel; its
	// watcher goroutine then unregisters the subscriber, which needs the
	// r3labs stream alive: remove the stream only after that. A 200 means
	// the subscriber was registered.
	cancel()
	<-fed
	if rec.status == http.StatusOK {
		<-sub.unsubscribed
	}
	s.sse.RemoveStream(rid)
}

// statusRecorder notes the status r3labs answers with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Flush passes r3labs's flushes through.
func (w *statusRecorder) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// feed publishes the stream's events from seq next on into the private
// r3labs stream rid, then an empty event, which makes r3labs end the
// response.
func (s *Server) feed(ctx context.Context, rid string, st *stream, next int64, sub *subscription) {
	select {
	case <-sub.subscribed:
	case <-ctx.Done():
		return
	}
	for {
		evs, wake, done := st.eventsFrom(next)
		for _, e := range evs {
			if ctx.Err() != nil {
				return
			}
			s.sse.Publish(rid, &sse.Event{
				ID:    strconv.AppendInt(nil, next, 10),
				Event: []byte(e.typ.String()),
				Data:  e.data,
			})
			next++
		}
		if done {
			s.sse.Publish(rid, &sse.Event{})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}
