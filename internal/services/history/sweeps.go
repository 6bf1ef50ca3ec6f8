package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SweepSummary is what lists show of a concurrency sweep kept in the
// history.
type SweepSummary struct {
	ID        string
	StartedAt time.Time
	// Model is MODEL or MODEL@ENDPOINT; Streams its numbers of streams,
	// "1,2,4,8"; Repeat how many times each ran; Steps how many steps
	// ended; Stopped whether it was stopped before its last.
	Model   string
	Streams string
	Repeat  int
	Steps   int
	Stopped bool
}

// ErrNoSweep is returned for a sweep id the history does not hold.
var ErrNoSweep = errors.New("no such sweep in the history")

// LastSweep stands for the newest sweep in SweepData.
const LastSweep = "last"

// maxSweepBytes caps a sweep's data: a sweep of 16 numbers of streams ×
// 20 repeats is under 100 KiB.
const maxSweepBytes = 4 << 20

// SaveSweep keeps a sweep: sum and data, the JSON of its result. A sweep
// of the same id is replaced (one saved again as it went on).
func (s *Store) SaveSweep(ctx context.Context, sum SweepSummary, data []byte) error {
	if len(data) > maxSweepBytes {
		return fmt.Errorf("history: sweep %s: %d bytes, more than %d", sum.ID, len(data), maxSweepBytes)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sweeps (id, started_ns, model, streams, repeat, steps, stopped, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET steps = excluded.steps, stopped = excluded.stopped, data = excluded.data`,
		sum.ID, sum.StartedAt.UnixNano(), sum.Model, sum.Streams, sum.Repeat, sum.Steps, sum.Stopped, string(data))
	if err != nil {
		return fmt.Errorf("history: save sweep %s: %w", sum.ID, err)
	}
	return nil
}

// Sweeps lists the sweeps kept, newest first, at most limit (0: all).
func (s *Store) Sweeps(ctx context.Context, limit int) ([]SweepSummary, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, started_ns, model, streams, repeat, steps, stopped FROM sweeps
		ORDER BY started_ns DESC, sid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("history: list sweeps: %w", err)
	}
	defer rows.Close()
	var out []SweepSummary
	for rows.Next() {
		var sum SweepSummary
		var ns int64
		if err := rows.Scan(&sum.ID, &ns, &sum.Model, &sum.Streams, &sum.Repeat, &sum.Steps, &sum.Stopped); err != nil {
			return nil, fmt.Errorf("history: list sweeps: %w", err)
		}
		sum.StartedAt = time.Unix(0, ns).UTC()
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: list sweeps: %w", err)
	}
	return out, nil
}

// SweepData returns the JSON of sweep id (LastSweep: the newest), or
// ErrNoSweep.
func (s *Store) SweepData(ctx context.Context, id string) ([]byte, error) {
	q, args := `SELECT data FROM sweeps WHERE id = ?`, []any{id}
	if id == LastSweep {
		q, args = `SELECT data FROM sweeps ORDER BY started_ns DESC, sid DESC LIMIT 1`, nil
	}
	var data string
	switch err := s.db.QueryRowContext(ctx, q, args...).Scan(&data); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNoSweep
	case err != nil:
		return nil, fmt.Errorf("history: sweep %s: %w", id, err)
	}
	return []byte(data), nil
}

// DeleteSweep removes sweep id, or says ErrNoSweep.
func (s *Store) DeleteSweep(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sweeps WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("history: delete sweep %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoSweep
	}
	return nil
}
