package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/r3labs/sse/v2"
	"gopkg.in/cenkalti/backoff.v1"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Event is one decoded event of a stream.
type Event struct {
	// Stream is the stream's id.
	Stream string
	// Type is EventPhase, EventThinking, EventToken, EventDone or
	// EventError.
	Type string
	// Seq is the event's sequence number in its stream, from 0.
	Seq int64
	// TMs is the server's arrival time of the event, in milliseconds since
	// the run started.
	TMs float64
	// Phase is set on phase events, Text on thinking and token events,
	// Reason and Stats on done, Message and Hint on errors.
	Phase   string
	Text    string
	Reason  string
	Stats   *wire.Stats
	Message string
	Hint    string
	// Local marks an error event made by this client, not sent by the
	// server: the connection was lost for good, the stream vanished, or the
	// server sent something unreadable. Its Seq follows the last one
	// received.
	Local bool
	// Received is when this client decoded the event.
	Received time.Time
	// Raw is the event's data line as received (nil on local events).
	Raw []byte
}

// Terminal reports whether the event ends its stream.
func (e Event) Terminal() bool { return e.Type == wire.EventDone || e.Type == wire.EventError }

// Subscribe follows a stream from its first event. The channel delivers
// every event in order, each once, and is closed after the terminal event
// (done or error) or when ctx ends; the caller must read it until it is
// closed or cancel ctx. When the connection drops, the subscription
// reconnects with Last-Event-ID, backing off and bound to ctx; if the server
// stays out of reach (see WithReconnect) or the stream vanishes, the channel
// gets a Local error event and closes. The error return is for a
// subscription that could not start at all: an unknown stream (*APIError
// 404), an answer that is not an event stream, or a server that cannot be
// reached. A first connection cut before its answer is tried again like a
// reconnection.
//
// Each subscription uses its own r3labs/sse client: one shared client would
// share its Last-Event-ID between streams.
func (c *Client) Subscribe(ctx context.Context, streamID string) (<-chan Event, error) {
	s := &subscription{
		c:     c,
		id:    streamID,
		ctx:   ctx,
		out:   make(chan Event, 256),
		ready: make(chan error, 1),
		last:  -1,
	}
	go s.run()
	if err := <-s.ready; err != nil {
		return nil, err
	}
	return s.out, nil
}

// subscription is the state of one Subscribe. All of it is used by the
// goroutine of run only: r3labs calls the validator and the handler on the
// goroutine that called SubscribeWithContext.
type subscription struct {
	c     *Client
	id    string
	ctx   context.Context
	out   chan Event
	ready chan error // gets exactly one value: nil once connected, or why not

	readySent  bool
	last       int64  // seq of the last event delivered
	terminal   bool   // the terminal event was delivered
	fatal      error  // the stream cannot go on: 4xx on reconnection
	badEvent   error  // the connection's last event was unreadable
	badBytes   string // that event as received
	lastBad    string // the unreadable event that ended the connection before
	badStreak  int    // connections in a row that ended on that same unreadable event without progress
	contact    time.Time
	cancelConn context.CancelFunc
}

// maxBadEvents is how many connections in a row may end on the same
// unreadable event before the subscription gives up. r3labs hands over the
// partial frame of a cut connection as an event, so one unreadable event
// usually means a cut, healed by resuming.
const maxBadEvents = 3

func (s *subscription) run() {
	defer close(s.out)
	sc := sse.NewClient(s.c.base.JoinPath("/events").String(), sse.ClientMaxBufferSize(s.c.maxEventSize))
	sc.Connection = s.c.http
	// r3labs's own retry loop neither stops with ctx nor reconnects after a
	// clean EOF: it makes one attempt, and the loop below does the rest.
	sc.ReconnectStrategy = &backoff.StopBackOff{}
	sc.ResponseValidator = s.validate

	delay := s.c.retryMin
	s.contact = time.Now()
	for {
		connCtx, cancel := context.WithCancel(s.ctx)
		s.cancelConn = cancel
		// r3labs records the id of every event it reads, also of those
		// dropped above: resume after the last one delivered.
		if s.last >= 0 {
			sc.LastEventID.Store([]byte(strconv.FormatInt(s.last, 10)))
		} else {
			sc.LastEventID.Store([]byte(nil))
		}
		before := s.last
		s.badEvent = nil
		err := sc.SubscribeWithContext(connCtx, s.id, s.handle)
		cancel()

		switch {
		case !s.readySent:
			if err == nil {
				err = fmt.Errorf("subscribe to stream %s: the server closed the connection", s.id)
			}
			// A connection made but broken before the answer (cut in
			// the middle of its headers) is tried again, like a
			// reconnection; a refusal or an answer of the server's is
			// final.
			if s.ctx.Err() == nil && brokenBeforeAnswer(err) && time.Since(s.contact) <= s.c.giveUpAfter && s.sleep(delay) {
				delay = min(delay*2, s.c.retryMax)
				continue
			}
			s.ready <- unwrapPermanent(err)
			return
		case s.terminal, s.ctx.Err() != nil:
			return
		case s.fatal != nil:
			s.fail(s.fatal.Error(), "")
			return
		}
		if s.last > before {
			delay = s.c.retryMin
			s.badStreak, s.lastBad = 0, ""
		}
		if s.badEvent != nil {
			// A cut leaves a different partial frame each time; a server
			// that sends an unreadable event sends the same one again.
			if s.badBytes != s.lastBad {
				s.badStreak, s.lastBad = 0, s.badBytes
			}
			if s.badStreak++; s.badStreak >= maxBadEvents {
				s.fail(s.badEvent.Error(), "the server sent an event this client cannot read; is it a Tokenloom server of the same version?")
				return
			}
		}
		if time.Since(s.contact) > s.c.giveUpAfter {
			msg := fmt.Sprintf("lost the connection to the Tokenloom server at %s", s.c.base)
			if err != nil {
				msg += ": " + err.Error()
			}
			s.fail(msg, "check that the server is still running")
			return
		}
		if !s.sleep(delay) {
			return
		}
		delay = min(delay*2, s.c.retryMax)
	}
}

// sleep waits d; it reports false if ctx ended first.
func (s *subscription) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// brokenBeforeAnswer tells an error of a connection that was made and then
// broke before the server's answer could be read, from a connection that
// could not be made (the server is not there) and from an answer.
func brokenBeforeAnswer(err error) bool {
	var urlErr *url.Error
	if !errors.As(err, &urlErr) { // the validator's errors are answers
		return false
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.As(err, &dnsErr),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// validate checks the answer to each (re)connection.
func (s *subscription) validate(_ *sse.Client, resp *http.Response) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK && mt == "text/event-stream" {
		s.contact = time.Now()
		if !s.readySent {
			s.readySent = true
			s.ready <- nil
		}
		return nil
	}
	// r3labs does not close the body of a refused answer.
	defer resp.Body.Close()
	var err error = apiError(resp)
	if resp.StatusCode == http.StatusOK {
		err = fmt.Errorf("%s does not answer like a Tokenloom server (Content-Type %q)", s.c.base, resp.Header.Get("Content-Type"))
	}
	if resp.StatusCode < 500 {
		if s.readySent {
			s.fatal = fmt.Errorf("stream %s is no longer available: %w", s.id, err)
		}
		return backoff.Permanent(err)
	}
	return err
}

// handle receives each event r3labs reads, in order.
func (s *subscription) handle(msg *sse.Event) {
	if s.terminal || s.fatal != nil || s.badEvent != nil || s.ctx.Err() != nil {
		return
	}
	ev, err := decodeEvent(s.id, msg)
	if err != nil {
		// Most likely the partial frame of a cut connection: resume.
		s.badEvent = err
		s.badBytes = string(msg.ID) + "\x00" + string(msg.Event) + "\x00" + string(msg.Data)
		s.cancelConn()
		return
	}
	switch {
	case ev.Seq <= s.last:
		return // a duplicate after a reconnection
	case ev.Seq != s.last+1:
		// A gap: reconnect and resume after the last event delivered.
		s.cancelConn()
		return
	}
	select {
	case s.out <- ev:
	case <-s.ctx.Done():
		s.cancelConn()
		return
	}
	s.last = ev.Seq
	if ev.Terminal() {
		s.terminal = true
		s.cancelConn()
	}
}

// fail delivers a local error event, unless ctx has ended.
func (s *subscription) fail(msg, hint string) {
	ev := Event{Stream: s.id, Type: wire.EventError, Seq: s.last + 1, Message: msg, Hint: hint, Local: true, Received: time.Now()}
	select {
	case s.out <- ev:
	case <-s.ctx.Done():
	}
}

func unwrapPermanent(err error) error {
	if p, ok := err.(*backoff.PermanentError); ok {
		return p.Err
	}
	return err
}

// missingField names the field an event of type typ must have and d lacks,
// or returns "".
func missingField(typ string, d wire.EventData) string {
	switch {
	case typ == wire.EventPhase && d.Phase == "":
		return "its phase"
	case (typ == wire.EventToken || typ == wire.EventThinking) && d.Text == "":
		return "text"
	case typ == wire.EventDone && d.Reason != wire.ReasonStop && d.Reason != wire.ReasonLength && d.Reason != wire.ReasonCancelled:
		return "a known reason"
	case typ == wire.EventError && d.Message == "":
		return "a message"
	}
	return ""
}

// decodeEvent turns an SSE event into an Event; it refuses an event of an
// unknown type, data that is not the contract's JSON, an id that is not
// the data's seq, and an event without the field its type must have.
func decodeEvent(streamID string, msg *sse.Event) (Event, error) {
	typ := string(msg.Event)
	switch typ {
	case wire.EventPhase, wire.EventThinking, wire.EventToken, wire.EventDone, wire.EventError:
	default:
		return Event{}, fmt.Errorf("stream %s: unknown event type %q from the server", streamID, typ)
	}
	var d wire.EventData
	if err := json.Unmarshal(msg.Data, &d); err != nil {
		return Event{}, fmt.Errorf("stream %s: unreadable %s event from the server: %v", streamID, typ, err)
	}
	if id := string(msg.ID); id != strconv.FormatInt(d.Seq, 10) {
		return Event{}, fmt.Errorf("stream %s: event id %q does not match its seq %d", streamID, id, d.Seq)
	}
	if missing := missingField(typ, d); missing != "" {
		return Event{}, fmt.Errorf("stream %s: %s event %d from the server without %s", streamID, typ, d.Seq, missing)
	}
	raw := make([]byte, len(msg.Data))
	copy(raw, msg.Data)
	return Event{
		Stream: streamID, Type: typ, Seq: d.Seq, TMs: d.TMs,
		Phase: d.Phase, Text: d.Text, Reason: d.Reason, Stats: d.Stats,
		Message: d.Message, Hint: d.Hint,
		Received: time.Now(), Raw: raw,
	}, nil
}
