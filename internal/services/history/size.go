package history

import (
	"context"
	"fmt"
	"slices"
)

// DefaultMaxBytes is the history's size cap until SetMaxBytes says
// otherwise: 512 MiB.
const DefaultMaxBytes int64 = 512 << 20

// MaxBytes is the size cap: beyond it, the oldest runs are deleted when a
// run ends or is imported.
func (s *Store) MaxBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxBytes
}

// SetMaxBytes sets the size cap (0 or less: no cap) and prunes the history
// to it at once.
func (s *Store) SetMaxBytes(ctx context.Context, n int64) error {
	s.mu.Lock()
	s.maxBytes = n
	s.mu.Unlock()
	return s.prune(ctx)
}

// Size is how many bytes the history's runs take in the file: its pages in
// use (the room of deleted runs, not yet handed back, does not count).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT (p.page_count - f.freelist_count) * s.page_size
		FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("history: size: %w", err)
	}
	return n, nil
}

// prune deletes the oldest runs, never those being recorded nor keep,
// until the history is within its cap, then hands the freed pages back to
// the file system.
func (s *Store) prune(ctx context.Context, keep ...int64) error {
	limit := s.MaxBytes()
	if limit <= 0 {
		return nil
	}
	pruned := false
	for {
		size, err := s.Size(ctx)
		if err != nil {
			return err
		}
		if size <= limit {
			break
		}
		n, err := s.deleteOldest(ctx, size-limit, size, keep)
		if err != nil {
			return fmt.Errorf("history: prune: %w", err)
		}
		if n == 0 {
			break // nothing left that may go
		}
		pruned = true
	}
	if pruned {
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return fmt.Errorf("history: prune: %w", err)
		}
	}
	return nil
}

// deleteOldest deletes the oldest runs that may go, about excess bytes of
// the size bytes in use (at least one run), and returns how many it
// deleted. A run's bytes count its data, not the room the file's pages
// and indexes take around it: they are scaled by the file's in-use size
// over all runs' bytes.
func (s *Store) deleteOldest(ctx context.Context, excess, size int64, keep []int64) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var total int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(bytes), 0) FROM runs`).Scan(&total); err != nil {
		return 0, err
	}
	if size > 0 && total > 0 {
		excess = excess * total / size
	}
	rows, err := tx.QueryContext(ctx, `SELECT rid, bytes FROM runs WHERE state != 'running' ORDER BY started_ns, rid LIMIT 1000`)
	if err != nil {
		return 0, err
	}
	var rids []int64
	var sum int64
	for rows.Next() && sum < excess {
		var rid, bytes int64
		if err := rows.Scan(&rid, &bytes); err != nil {
			rows.Close()
			return 0, err
		}
		if slices.Contains(keep, rid) {
			continue
		}
		rids = append(rids, rid)
		sum += bytes
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, rid := range rids {
		if err := deleteRun(ctx, tx, rid); err != nil {
			return 0, err
		}
	}
	return len(rids), tx.Commit()
}
