// Package client is the Go client of Tokenloom's server: its REST calls and a
// typed SSE subscription. It never imports Fyne; the GUI and `tokenloom run`
// both consume streams through Subscribe.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Client talks to one Tokenloom server. It is safe for concurrent use.
type Client struct {
	base         *url.URL
	http         *http.Client
	transport    *http.Transport
	maxEventSize int
	retryMin     time.Duration
	retryMax     time.Duration
	giveUpAfter  time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client use hc for REST calls and subscriptions.
// Default: a client of its own with its own transport. hc must not have a
// Timeout, or it would cut long subscriptions.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithMaxEventSize sets the largest SSE event accepted, in bytes.
// Default 8 MiB (r3labs/sse's own default of 64 KiB would break on a long
// token).
func WithMaxEventSize(n int) Option {
	return func(c *Client) { c.maxEventSize = n }
}

// WithReconnect sets the backoff between reconnections of a subscription
// (from minDelay, doubling up to maxDelay) and how long a subscription keeps
// trying without reaching the server before it gives up with an error event.
// Defaults: 50 ms, 2 s, 30 s.
func WithReconnect(minDelay, maxDelay, giveUpAfter time.Duration) Option {
	return func(c *Client) {
		c.retryMin, c.retryMax, c.giveUpAfter = minDelay, maxDelay, giveUpAfter
	}
}

// New returns a client of the server at baseURL, e.g. "http://127.0.0.1:8765".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: want http://host:port", baseURL)
	}
	c := &Client{
		base:         u,
		maxEventSize: 8 << 20,
		retryMin:     50 * time.Millisecond,
		retryMax:     2 * time.Second,
		giveUpAfter:  30 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.transport = &http.Transport{
			Proxy:               nil, // the server is local
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 32,
			// Shorter than the server's idle timeout (30 s), so that a
			// request never goes out on a connection the server is
			// closing: a POST on it would fail, not be retried.
			IdleConnTimeout: 15 * time.Second,
		}
		c.http = &http.Client{Transport: c.transport}
	}
	return c, nil
}

// BaseURL is the server's URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Close drops idle connections, also those of an http.Client given with
// WithHTTPClient. Subscriptions are ended by their contexts.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// APIError is an error answer of the server.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message says what went wrong; Hint what to do about it.
	Message string
	Hint    string
}

// Error returns the message, the hint and the status.
func (e *APIError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("%s (%s) [%d]", e.Message, e.Hint, e.Status)
	}
	return fmt.Sprintf("%s [%d]", e.Message, e.Status)
}

// Explain is err as a person reads it: what went wrong, and apart from it
// what to do about it ("" when there is nothing to add). A refusal of the
// server (*APIError), also inside the context of a wrapping error ("step 2
// of 4: ..."), gives its message without its HTTP status, and its hint; any
// other error its text. The app and the terminal commands show errors
// through it; Error keeps the status for logs.
func Explain(err error) (message, hint string) {
	if err == nil {
		return "", ""
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err.Error(), ""
	}
	return strings.Replace(err.Error(), apiErr.Error(), apiErr.Message, 1), apiErr.Hint
}

// apiError reads an error answer; the body is closed by the caller.
func apiError(resp *http.Response) *APIError {
	var e wire.Error
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
		if e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
	}
	return &APIError{Status: resp.StatusCode, Message: e.Error, Hint: e.Hint}
}

// do sends one REST call and decodes the answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := wire.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	p, query, _ := strings.Cut(path, "?")
	u := c.base.JoinPath(p)
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return apiError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Health asks whether the server is up and Ollama reachable.
func (c *Client) Health(ctx context.Context) (*wire.Health, error) {
	var h wire.Health
	return &h, c.do(ctx, http.MethodGet, "/healthz", nil, &h)
}

// Models lists Ollama's models and the demo sources. When Ollama is not
// reachable the list holds the demo sources and OllamaError says why.
func (c *Client) Models(ctx context.Context) (*wire.Models, error) {
	var m wire.Models
	return &m, c.do(ctx, http.MethodGet, "/api/models", nil, &m)
}

// StartRun starts a run; its streams begin at once (async) or one after
// another (sync). Subscribe to each stream to receive its events.
func (c *Client) StartRun(ctx context.Context, req wire.RunRequest) (*wire.RunCreated, error) {
	var out wire.RunCreated
	return &out, c.do(ctx, http.MethodPost, "/api/runs", req, &out)
}

// StartReplay plays a saved run back through the server: a new run whose
// streams send the transcript's events again (phases, tokens and the
// original ends) with the original timing divided by speed, so that
// Subscribe, Run and the cancel calls work on it as on any run. speed must
// be from 1/16 to 16 (wire.MinReplaySpeed, wire.MaxReplaySpeed); 1 is the original
// timing. The answer names the new run's streams in the transcript's order,
// each with the original model and the label "replay of MODEL". A
// transcript that is not a valid finished run is refused with an *APIError
// 400 saying which stream and event is wrong.
func (c *Client) StartReplay(ctx context.Context, t *wire.Transcript, speed float64) (*wire.RunCreated, error) {
	var out wire.RunCreated
	return &out, c.do(ctx, http.MethodPost, "/api/replays", wire.ReplayRequest{Transcript: t, Speed: &speed}, &out)
}

// EventsURL is the full URL of a stream's SSE endpoint, e.g.
// http://127.0.0.1:8765/events?stream=s_0b2e..., for curl -N or a browser.
func (c *Client) EventsURL(streamID string) string {
	u := c.base.JoinPath("/events")
	u.RawQuery = url.Values{"stream": {streamID}}.Encode()
	return u.String()
}

// Run returns the transcript of a run: every event so far of every stream.
func (c *Client) Run(ctx context.Context, runID string) (*wire.Transcript, error) {
	var t wire.Transcript
	return &t, c.do(ctx, http.MethodGet, "/api/runs/"+url.PathEscape(runID), nil, &t)
}

// CancelRun stops every stream of a run that has not ended.
func (c *Client) CancelRun(ctx context.Context, runID string) error {
	return c.do(ctx, http.MethodDelete, "/api/runs/"+url.PathEscape(runID), nil, nil)
}

// CancelStream stops one stream; the other streams of its run go on.
func (c *Client) CancelStream(ctx context.Context, streamID string) error {
	return c.do(ctx, http.MethodDelete, "/api/streams/"+url.PathEscape(streamID), nil, nil)
}

// Upstream returns the raw data lines that a stream's OpenAI-compatible
// endpoint sent (GET /api/streams/{id}/upstream), those after line n after
// (-1: all kept); none for other sources.
func (c *Client) Upstream(ctx context.Context, streamID string, after int64) (*wire.UpstreamFrames, error) {
	var out wire.UpstreamFrames
	path := "/api/streams/" + url.PathEscape(streamID) + "/upstream?after=" + strconv.FormatInt(after, 10)
	return &out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// IsNotFound reports whether err is the server's 404.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
