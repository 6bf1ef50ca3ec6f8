package client

import (
	"context"
	"fmt"
	"sync"
)

// IndexedEvent is an event of one of the streams given to SubscribeAll,
// with the position of its stream in that list.
type IndexedEvent struct {
	Event
	// Index is the position of the event's stream in SubscribeAll's
	// streamIDs.
	Index int
}

// SubscribeAll subscribes to every stream (each with its own Subscribe, so
// each reconnects and de-duplicates on its own) and merges their events into
// one channel in the order they arrive at this client: each stream's events
// keep their order, and events of different streams come in the order this
// client received them. That arrival order is what an interleaved view
// shows; it may differ slightly from the order of the events' t_ms, which is
// the server's.
//
// The channel is closed once every stream has delivered its terminal event
// (or its subscription ended with a Local error event), or when ctx ends.
// The caller must read it until it is closed or cancel ctx; either way no
// goroutine is left behind. The error return is for a stream whose
// subscription could not start (see Subscribe); the streams subscribed
// before it are then let go.
func (c *Client) SubscribeAll(ctx context.Context, streamIDs []string) (<-chan IndexedEvent, error) {
	ctx, cancel := context.WithCancel(ctx)
	chans := make([]<-chan Event, len(streamIDs))
	for i, id := range streamIDs {
		ch, err := c.Subscribe(ctx, id)
		if err != nil {
			cancel()
			for _, prev := range chans[:i] {
				for range prev { // closes promptly once ctx is cancelled
				}
			}
			return nil, fmt.Errorf("subscribe to stream %s: %w", id, err)
		}
		chans[i] = ch
	}
	out := make(chan IndexedEvent, 64)
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Go(func() {
			for ev := range ch {
				select {
				case out <- IndexedEvent{Event: ev, Index: i}:
				case <-ctx.Done():
					for range ch { // let the subscription end
					}
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(out)
	}()
	return out, nil
}
