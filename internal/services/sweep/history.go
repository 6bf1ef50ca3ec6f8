package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenloom/tokenloom/internal/services/history"
)

// Keep saves r in the history as it stands, replacing what an earlier
// Keep of it saved: a sweep is kept after each step, so that one cut
// off loses nothing that ended.
func Keep(ctx context.Context, store *history.Store, r *Result) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return store.SaveSweep(ctx, r.Summary(), data)
}

// Summary is what the history lists of r.
func (r *Result) Summary() history.SweepSummary {
	ns := make([]string, len(r.Spec.Streams))
	for i, n := range r.Spec.Streams {
		ns[i] = fmt.Sprint(n)
	}
	return history.SweepSummary{ID: r.ID, StartedAt: r.StartedAt, Model: r.Spec.Name(), Streams: strings.Join(ns, ","),
		Repeat: r.Spec.Repeat, Steps: len(r.Steps), Stopped: r.Stopped}
}

// Kept reads sweep id (history.LastSweep: the newest) from the history;
// history.ErrNoSweep when it has none.
func Kept(ctx context.Context, store *history.Store, id string) (*Result, error) {
	data, err := store.SweepData(ctx, id)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("sweep %s cannot be read: %w", id, err)
	}
	return &r, nil
}
