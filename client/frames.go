package client

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Frames follows a stream's raw Server-Sent Events: a subscription of its
// own to GET /events?stream=ID, from the stream's first event, that yields
// each SSE frame exactly as it came over the wire, its lines (without their
// line ends) joined with "\n", e.g. "id: 3\ndata: {...}\nevent: token". It
// is meant for a view of the protocol itself; to use the events, Subscribe.
//
// The channel is closed when the response ends (after the stream's terminal
// event, or when the connection breaks: a partial last frame is yielded as
// it arrived) or when ctx ends; the caller must read it until it is closed or
// cancel ctx. A frame over the client's largest event (WithMaxEventSize)
// ends the channel. Unlike Subscribe, Frames does not reconnect. The error return
// is for a subscription that could not start: an unknown stream (*APIError
// 404) or an unreachable server.
func (c *Client) Frames(ctx context.Context, streamID string) (<-chan string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.EventsURL(streamID), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("follow the frames of stream %s: %w", streamID, err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil, fmt.Errorf("%s does not answer like a Tokenloom server (Content-Type %q)", c.base, resp.Header.Get("Content-Type"))
		}
		return nil, apiError(resp)
	}
	out := make(chan string, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		send := func(frame string) bool {
			select {
			case out <- frame:
				return true
			case <-ctx.Done():
				return false
			}
		}
		r := bufio.NewReaderSize(resp.Body, 64<<10)
		var lines []string
		size := 0
		for {
			line, err := r.ReadString('\n')
			complete := strings.HasSuffix(line, "\n")
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			switch {
			case line == "" && complete: // a blank line ends the frame
				if len(lines) > 0 && !send(strings.Join(lines, "\n")) {
					return
				}
				lines, size = lines[:0], 0
			case line != "":
				if size += len(line); size > c.maxEventSize {
					return // larger than any event this client accepts
				}
				lines = append(lines, line)
			}
			if err != nil {
				if len(lines) > 0 {
					send(strings.Join(lines, "\n"))
				}
				return
			}
		}
	}()
	return out, nil
}
