package history

import (
	"errors"
	"testing"
	"time"
)

// TestSweeps: a sweep is kept with its data, listed newest first, saved
// again as it goes on, found as "last", and deleted.
func TestSweeps(t *testing.T) {
	s := openStore(t, tempDB(t))
	ctx := t.Context()
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	older := SweepSummary{ID: "w_older", StartedAt: t0, Model: "tiny", Streams: "1,2", Repeat: 1, Steps: 2}
	newer := SweepSummary{ID: "w_newer", StartedAt: t0.Add(time.Minute), Model: "demo/task1", Streams: "1,2,4,8", Repeat: 2, Steps: 3}
	if err := s.SaveSweep(ctx, older, []byte(`{"id":"w_older"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSweep(ctx, newer, []byte(`{"id":"w_newer","steps":3}`)); err != nil {
		t.Fatal(err)
	}
	// Saved again with more steps, then stopped.
	newer.Steps, newer.Stopped = 5, true
	if err := s.SaveSweep(ctx, newer, []byte(`{"id":"w_newer","steps":5}`)); err != nil {
		t.Fatal(err)
	}
	list, err := s.Sweeps(ctx, 0)
	if err != nil || len(list) != 2 || list[0] != newer || list[1] != older {
		t.Fatalf("sweeps %+v, %v; want %+v then %+v", list, err, newer, older)
	}
	if one, err := s.Sweeps(ctx, 1); err != nil || len(one) != 1 || one[0].ID != "w_newer" {
		t.Errorf("the newest sweep: %+v, %v", one, err)
	}
	for _, id := range []string{"w_newer", LastSweep} {
		if data, err := s.SweepData(ctx, id); err != nil || string(data) != `{"id":"w_newer","steps":5}` {
			t.Errorf("sweep %s: %s, %v", id, data, err)
		}
	}
	if _, err := s.SweepData(ctx, "w_nope"); !errors.Is(err, ErrNoSweep) {
		t.Errorf("an unknown sweep: %v", err)
	}
	if err := s.DeleteSweep(ctx, "w_older"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSweep(ctx, "w_older"); !errors.Is(err, ErrNoSweep) {
		t.Errorf("deleted twice: %v", err)
	}
	if err := s.SaveSweep(ctx, older, make([]byte, maxSweepBytes+1)); err == nil {
		t.Error("a sweep over the size cap was kept")
	}
}
