package server

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// connSlack is how many connections beyond Config.MaxConns are still read,
// to be answered 503 with a reason; beyond that, a connection is closed as
// soon as it is accepted.
const connSlack = 64

// connLimiter is a listener that counts its open connections and marks
// those beyond the cap; the guard answers their requests 503.
type connLimiter struct {
	net.Listener
	max  int64
	open atomic.Int64
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: int64(max)}
}

// Accept returns the next connection; it closes at once those beyond the
// cap and its slack.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		n := l.open.Add(1)
		if n > l.max+connSlack {
			l.open.Add(-1)
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, l: l, over: n > l.max}, nil
	}
}

// connContext marks the context of a connection beyond the cap
// (http.Server.ConnContext).
func (l *connLimiter) connContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*countedConn); ok && cc.over {
		return context.WithValue(ctx, overCapKey{}, true)
	}
	return ctx
}

type overCapKey struct{}

// overCap reports whether a request came on a connection beyond the cap.
func overCap(ctx context.Context) bool {
	over, _ := ctx.Value(overCapKey{}).(bool)
	return over
}

// countedConn is a connection counted by its connLimiter until it closes.
type countedConn struct {
	net.Conn
	l      *connLimiter
	over   bool
	closed sync.Once
}

func (c *countedConn) Close() error {
	c.closed.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
