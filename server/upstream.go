package server

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// The upstream of a stream is the reply of the server behind its source, as
// it came off the wire. For OpenAI-compatible endpoints, whose replies are
// themselves Server-Sent Events, each stream keeps the newest
// wire.MaxUpstreamLines data lines (GET /api/streams/{id}/upstream), so
// that the two SSE hops can be shown one above the other.

// upstreamRecorder is an Emitter that keeps the raw data lines of its
// upstream's reply. Sources call Upstream on the stream's goroutine.
type upstreamRecorder interface {
	// Upstream keeps one data line (after "data: "), stamped now; data is
	// copied.
	Upstream(data []byte)
}

// maxUpstreamBytes caps the memory of one stream's upstream lines; the
// oldest are dropped beyond it as beyond wire.MaxUpstreamLines.
const maxUpstreamBytes = 1 << 20

// upstreamLineOverhead is what a kept line costs beside its text.
const upstreamLineOverhead = 64

// upstreamLog is a ring of a stream's newest upstream lines, guarded by the
// stream's mu.
type upstreamLog struct {
	buf          []wire.UpstreamLine // the ring; grows up to wire.MaxUpstreamLines
	start, count int                 // buf[start] is the oldest of count lines
	next         int64               // the N of the next line
	bytes        int64
	// dropped counts lines no longer kept: pushed out, or refused for want
	// of room in the server's log budget.
	dropped int64
}

func upstreamCost(data string) int64 { return int64(len(data)) + upstreamLineOverhead }

// at returns the i-th oldest kept line.
func (u *upstreamLog) at(i int) wire.UpstreamLine { return u.buf[(u.start+i)%len(u.buf)] }

// push keeps line; there is room for one more (count < wire.MaxUpstreamLines).
func (u *upstreamLog) push(line wire.UpstreamLine) {
	if u.count == len(u.buf) {
		grown := make([]wire.UpstreamLine, min(max(16, 2*len(u.buf)), wire.MaxUpstreamLines))
		for i := range u.count {
			grown[i] = u.at(i)
		}
		u.buf, u.start = grown, 0
	}
	u.buf[(u.start+u.count)%len(u.buf)] = line
	u.count++
}

// dropOldest frees the oldest kept line and reports its cost.
func (u *upstreamLog) dropOldest() int64 {
	c := upstreamCost(u.buf[u.start].Data)
	u.buf[u.start] = wire.UpstreamLine{}
	u.start = (u.start + 1) % len(u.buf)
	u.count--
	u.bytes -= c
	u.dropped++
	return c
}

// Upstream keeps one line of the stream's upstream reply, charged to the
// server's log budget like its events. A line that finds no room is
// dropped: the stream itself goes on.
func (s *stream) Upstream(data []byte) {
	t := s.run.since()
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &s.upstream
	line := wire.UpstreamLine{N: u.next, TMs: t, Data: string(data)}
	u.next++
	cost := upstreamCost(line.Data)
	for u.count > 0 && (u.count >= wire.MaxUpstreamLines || u.bytes+cost > maxUpstreamBytes) {
		c := u.dropOldest()
		s.bytes -= c
		s.budget.give(c)
	}
	if cost > maxUpstreamBytes || !s.budget.take(cost) {
		u.dropped++
		return
	}
	u.bytes += cost
	s.bytes += cost
	u.push(line)
}

// upstreamAfter returns the kept lines whose N is above after, oldest
// first, the N of the next line, how many were dropped, and whether the
// stream has ended.
func (s *stream) upstreamAfter(after int64) (lines []wire.UpstreamLine, next, dropped int64, finished bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &s.upstream
	lines = []wire.UpstreamLine{}
	for i := range u.count {
		if l := u.at(i); l.N > after {
			lines = append(lines, l)
		}
	}
	return lines, u.next, u.dropped, s.settled
}

// handleUpstream serves GET /api/streams/{id}/upstream[?after=N].
func (s *Server) handleUpstream(w http.ResponseWriter, r *http.Request) {
	st := s.lookupStream(r.PathValue("id"))
	if st == nil {
		writeError(w, http.StatusNotFound, "unknown stream "+strconv.Quote(r.PathValue("id")), "stream ids come from POST /api/runs")
		return
	}
	after := int64(-1)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 {
			writeError(w, http.StatusBadRequest, "invalid after "+strconv.Quote(v), "after is the n of the last line you have, or -1 for all")
			return
		}
		after = n
	}
	out := wire.UpstreamFrames{Stream: st.id, Endpoint: st.spec.Endpoint}
	if e := s.endpoints[st.spec.Endpoint]; e != nil {
		out.Kind = e.cfg.Kind
	}
	out.Lines, out.Next, out.Dropped, out.Finished = st.upstreamAfter(after)
	writeJSON(w, http.StatusOK, out)
}

// upstreamTap watches one request's reply on its way to the client
// library: its status and, for an error, the start of its body; for an SSE
// reply, its data lines (handed to record, if set), whether "data: [DONE]"
// came, and whether the reply broke off in the middle of an event. It is
// used by the goroutine that makes the request and reads the reply.
type upstreamTap struct {
	record func([]byte)
	redact func([]byte) []byte

	status   int
	errBody  []byte // the first maxErrBody bytes of an error's body
	line     []byte // the line being read, not yet ended
	pending  bool   // a data line since the last blank line: an event not yet dispatched
	done     bool   // data: [DONE] came
	lastData []byte // the last data line, for the message of one that cannot be read
	eof      bool   // the reply's body ended cleanly
}

const maxErrBody = 4 << 10

type tapKey struct{}

// brokeOff reports whether the body ended in the middle of a line or of an
// event.
func (t *upstreamTap) brokeOff() bool {
	return t.eof && (len(t.line) > 0 || t.pending)
}

// feed takes bytes of the reply's body.
func (t *upstreamTap) feed(p []byte) {
	if t.status >= 400 {
		if room := maxErrBody - len(t.errBody); room > 0 {
			t.errBody = append(t.errBody, p[:min(room, len(p))]...)
		}
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			return
		}
		t.line = append(t.line, p[:i]...)
		t.endLine(bytes.TrimSuffix(t.line, []byte("\r")))
		t.line = t.line[:0]
		p = p[i+1:]
	}
}

func (t *upstreamTap) endLine(line []byte) {
	if len(line) == 0 {
		t.pending = false
		return
	}
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return
	}
	data = bytes.TrimPrefix(data, []byte(" "))
	t.pending = true
	if bytes.Equal(data, []byte("[DONE]")) {
		t.done = true
	}
	if t.redact != nil {
		data = t.redact(data)
	}
	t.lastData = append(t.lastData[:0], data[:min(len(data), 300)]...)
	if t.record != nil {
		t.record(data)
	}
}

// tapTransport hands the reply of a request whose context carries an
// upstreamTap to that tap.
type tapTransport struct {
	next http.RoundTripper
}

func (t tapTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if tap, ok := r.Context().Value(tapKey{}).(*upstreamTap); ok && err == nil {
		tap.status = resp.StatusCode
		resp.Body = &tappedBody{ReadCloser: resp.Body, tap: tap}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t tapTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type tappedBody struct {
	io.ReadCloser
	tap *upstreamTap
}

func (b *tappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.tap.feed(p[:n])
	if err == io.EOF {
		b.tap.eof = true
	}
	return n, err
}
