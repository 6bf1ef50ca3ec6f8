package client

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/r3labs/sse/v2"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TranscriptEvents decodes every event of a saved run, checked as events
// off the wire are, and merges its streams into one list in the order of
// their t_ms (each stream's own order kept): the run as a client following
// all its streams would have seen it. Index is the stream's place in
// t.Streams.
func TranscriptEvents(t *wire.Transcript) ([]IndexedEvent, error) {
	var out []IndexedEvent
	for i, st := range t.Streams {
		for _, le := range st.Events {
			ev, err := decodeEvent(st.ID, &sse.Event{ID: []byte(strconv.FormatInt(le.ID, 10)), Event: []byte(le.Event), Data: le.Data})
			if err != nil {
				return nil, err
			}
			ev.Raw = nil // the transcript keeps the data
			out = append(out, IndexedEvent{Event: ev, Index: i})
		}
	}
	slices.SortStableFunc(out, func(a, b IndexedEvent) int { return cmp.Compare(a.TMs, b.TMs) })
	return out, nil
}
