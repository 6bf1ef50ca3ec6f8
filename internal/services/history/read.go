package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// RunSummary is a run as a list shows it.
type RunSummary struct {
	ID        string
	StartedAt time.Time // in UTC
	Mode      string
	// Prompt is the prompt's first PromptChars characters.
	Prompt string
	// Models are the streams' models in their order, each MODEL or
	// MODEL@ENDPOINT.
	Models []string
	// WallMs is the run's wall time: the latest end of a stream; 0 unless
	// State is StateFinished.
	WallMs float64
	// State is StateRunning, StateFinished or StateIncomplete.
	State string
	// ReplayOf is the id of the run a replay played back.
	ReplayOf string
	// Bytes is about how much room the run takes: its events' data and
	// its texts.
	Bytes int64
	// Turn is which turn of a conversation the run is: 1 for a run that
	// began one; a follow-up's streams went on from Turn-1 earlier turns
	// (the most of any stream).
	Turn int
	// Snippet is set by Search: a piece of the prompt or an answer around
	// the words found, each of them between SnippetOpen and SnippetClose.
	Snippet string
}

// PromptChars is how much of a prompt a RunSummary holds.
const PromptChars = 300

// Marks around the words found in a RunSummary's Snippet.
const (
	SnippetOpen  = "«"
	SnippetClose = "»"
)

// DefaultLimit is how many runs List and Search return when not told.
const DefaultLimit = 100

// Query says which runs List returns.
type Query struct {
	// Text, when set, keeps the runs whose prompt, system prompt or
	// answers hold every word of it (whole words, the last one also as the
	// start of a word; case and accents do not matter).
	Text string
	// Limit is the most runs to return (DefaultLimit when 0 or less);
	// Offset how many of the newest to skip.
	Limit, Offset int
}

// Import adds a whole transcript (the server's, or a JSON export read
// with export.Read) to the history: finished when every stream has its
// stats, else incomplete. A run of the same id that is not being recorded
// is replaced. Get gives t back as it was, its times in UTC. The streams
// must be in index order and each stream's event ids must go up.
func (s *Store) Import(ctx context.Context, t *wire.Transcript) error {
	return s.ImportAll(ctx, []*wire.Transcript{t})
}

// ImportAll imports several transcripts in one transaction (see Import),
// which is much faster than one at a time; then it prunes the history to
// its size cap, keeping these runs.
func (s *Store) ImportAll(ctx context.Context, ts []*wire.Transcript) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: import: %w", err)
	}
	defer tx.Rollback()
	keep := make([]int64, 0, len(ts))
	for _, t := range ts {
		if err := checkImport(t); err != nil {
			return fmt.Errorf("history: import: %w", err)
		}
		var rid int64
		var state string
		switch err := tx.QueryRowContext(ctx, `SELECT rid, state FROM runs WHERE id = ?`, t.ID).Scan(&rid, &state); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("history: import %s: %w", t.ID, err)
		case state == StateRunning:
			return fmt.Errorf("history: import %s: that run is being recorded", t.ID)
		default:
			if err := deleteRun(ctx, tx, rid); err != nil {
				return fmt.Errorf("history: import %s: %w", t.ID, err)
			}
		}
		state = StateIncomplete
		if t.Finished {
			state = StateFinished
		}
		rid, err = insertRun(ctx, tx, t, state, "", true)
		if err != nil {
			return fmt.Errorf("history: import %s: %w", t.ID, err)
		}
		keep = append(keep, rid)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: import: %w", err)
	}
	return s.prune(ctx, keep...)
}

// checkImport refuses what the tables could not give back as it was.
func checkImport(t *wire.Transcript) error {
	if t == nil || t.ID == "" {
		return errors.New("a run without an id")
	}
	for i, st := range t.Streams {
		if st.Index != i {
			return fmt.Errorf("run %s: stream %d has index %d", t.ID, i, st.Index)
		}
		for j, e := range st.Events {
			if j > 0 && e.ID <= st.Events[j-1].ID {
				return fmt.Errorf("run %s: stream %d: event id %d after %d", t.ID, i, e.ID, st.Events[j-1].ID)
			}
			if !json.Valid(e.Data) {
				return fmt.Errorf("run %s: stream %d: event %d: data is not JSON", t.ID, i, e.ID)
			}
		}
	}
	return nil
}

// insertRun adds t's run, streams and search row, and its events when
// withEvents; a running run's texts are left NULL, to be written at its
// end.
func insertRun(ctx context.Context, tx *sql.Tx, t *wire.Transcript, state, owner string, withEvents bool) (int64, error) {
	models := make([]string, len(t.Streams))
	var answers []string
	var bytes int64
	for i, st := range t.Streams {
		models[i] = endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()
		answers = append(answers, st.Text)
		bytes += int64(len(st.Text) + len(st.Thinking))
		for _, turn := range st.History {
			bytes += int64(len(turn.Prompt) + len(turn.Answer))
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (id, mode, prompt, system, started_ns, state, finished, wall_ms, replay_of, speed, models, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Mode, t.Prompt, t.System, t.StartedAt.UnixNano(), state, t.Finished, t.WallMs, t.ReplayOf, t.Speed,
		strings.Join(models, "\n"), owner)
	if err != nil {
		return 0, err
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	var ins *sql.Stmt
	if withEvents {
		if ins, err = tx.PrepareContext(ctx, insertEvent); err != nil {
			return 0, err
		}
		defer ins.Close()
	}
	for i, st := range t.Streams {
		options, err := jsonOrNull(st.Options)
		if err != nil {
			return 0, err
		}
		stats, err := jsonOrNull(st.Stats)
		if err != nil {
			return 0, err
		}
		var turns any
		if len(st.History) > 0 {
			if turns, err = jsonOrNull(&st.History); err != nil {
				return 0, err
			}
		}
		var text, thinking any
		if state != StateRunning {
			text = st.Text
			if st.Thinking != "" {
				thinking = st.Thinking
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO streams (rid, idx, id, model, endpoint, label, options, history, text, thinking, stats, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rid, i, st.ID, st.Model, st.Endpoint, st.Label, options, turns, text, thinking, stats, st.Error); err != nil {
			return 0, err
		}
		for _, e := range st.Events {
			var d struct {
				TMs float64 `json:"t_ms"`
			}
			_ = json.Unmarshal(e.Data, &d) // checked valid JSON; an event without t_ms is at 0
			if _, err := ins.ExecContext(ctx, rid, i, e.ID, e.Event, d.TMs, string(e.Data)); err != nil {
				return 0, err
			}
			bytes += int64(len(e.Data))
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET bytes = ? WHERE rid = ?`, bytes, rid); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs_fts (rowid, prompt, answers) VALUES (?, ?, ?)`,
		rid, t.Prompt+"\n"+t.System, strings.Join(answers, "\n")); err != nil {
		return 0, err
	}
	return rid, nil
}

// jsonOrNull is v as JSON text, or NULL for a nil pointer.
func jsonOrNull[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Get rebuilds the transcript of run id, as GET /api/runs/{id} answered
// it: every event of every stream, the texts, stats and errors. A run
// that is still being recorded, or incomplete, has the events written so
// far and Finished false. An unknown id is ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*wire.Transcript, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("history: get %s: %w", id, err)
	}
	defer tx.Rollback()
	t, err := getRun(ctx, tx, id)
	if err != nil {
		return nil, fmt.Errorf("history: get %s: %w", id, err)
	}
	return t, nil
}

func getRun(ctx context.Context, tx *sql.Tx, id string) (*wire.Transcript, error) {
	t := &wire.Transcript{ID: id, Streams: []wire.StreamTranscript{}}
	var rid, startedNs int64
	err := tx.QueryRowContext(ctx, `SELECT rid, mode, prompt, system, started_ns, finished, wall_ms, replay_of, speed FROM runs WHERE id = ?`, id).
		Scan(&rid, &t.Mode, &t.Prompt, &t.System, &startedNs, &t.Finished, &t.WallMs, &t.ReplayOf, &t.Speed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.StartedAt = time.Unix(0, startedNs).UTC()
	rows, err := tx.QueryContext(ctx, `SELECT id, model, endpoint, label, options, history, text, thinking, stats, error FROM streams WHERE rid = ? ORDER BY idx`, rid)
	if err != nil {
		return nil, err
	}
	var derive []bool // the stream's texts are to be joined from its events
	for rows.Next() {
		st := wire.StreamTranscript{Index: len(t.Streams), Events: []wire.LoggedEvent{}}
		var options, turns, text, thinking, stats sql.NullString
		if err := rows.Scan(&st.ID, &st.Model, &st.Endpoint, &st.Label, &options, &turns, &text, &thinking, &stats, &st.Error); err != nil {
			rows.Close()
			return nil, err
		}
		if options.Valid {
			if err := json.Unmarshal([]byte(options.String), &st.Options); err != nil {
				rows.Close()
				return nil, fmt.Errorf("stream %d options: %w", st.Index, err)
			}
		}
		if turns.Valid {
			if err := json.Unmarshal([]byte(turns.String), &st.History); err != nil {
				rows.Close()
				return nil, fmt.Errorf("stream %d history: %w", st.Index, err)
			}
		}
		if stats.Valid {
			if err := json.Unmarshal([]byte(stats.String), &st.Stats); err != nil {
				rows.Close()
				return nil, fmt.Errorf("stream %d stats: %w", st.Index, err)
			}
		}
		st.Text, st.Thinking = text.String, thinking.String
		derive = append(derive, !text.Valid)
		t.Streams = append(t.Streams, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT idx, seq, kind, data FROM events WHERE rid = ? ORDER BY idx, seq`, rid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var idx int
		var e wire.LoggedEvent
		var data string
		if err := rows.Scan(&idx, &e.ID, &e.Event, &data); err != nil {
			return nil, err
		}
		if idx < 0 || idx >= len(t.Streams) {
			continue
		}
		e.Data = json.RawMessage(data)
		st := &t.Streams[idx]
		st.Events = append(st.Events, e)
		if derive[idx] && (e.Event == wire.EventToken || e.Event == wire.EventThinking) {
			var d wire.EventData
			if json.Unmarshal(e.Data, &d) == nil {
				if e.Event == wire.EventToken {
					st.Text += d.Text
				} else {
					st.Thinking += d.Text
				}
			}
		}
	}
	return t, rows.Err()
}

// summaryColumns are the columns scanSummary reads, from runs r.
const summaryColumns = `r.id, r.started_ns, r.mode, substr(r.prompt, 1, 300), r.models, r.wall_ms, r.state, r.replay_of, r.bytes,
	1 + coalesce((SELECT max(json_array_length(s.history)) FROM streams s WHERE s.rid = r.rid), 0)`

func scanSummary(rows *sql.Rows, extra ...any) (RunSummary, error) {
	var r RunSummary
	var startedNs int64
	var models string
	if err := rows.Scan(append([]any{&r.ID, &startedNs, &r.Mode, &r.Prompt, &models, &r.WallMs, &r.State, &r.ReplayOf, &r.Bytes, &r.Turn}, extra...)...); err != nil {
		return r, err
	}
	r.StartedAt = time.Unix(0, startedNs).UTC()
	r.Models = strings.Split(models, "\n")
	return r, nil
}

// Lookup returns the summary of run id, or ErrNotFound.
func (s *Store) Lookup(ctx context.Context, id string) (RunSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryColumns+` FROM runs r WHERE r.id = ?`, id)
	if err != nil {
		return RunSummary{}, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return RunSummary{}, fmt.Errorf("history: %w", err)
		}
		return RunSummary{}, ErrNotFound
	}
	return scanSummary(rows)
}

// List returns the runs that q asks for, the newest first.
func (s *Store) List(ctx context.Context, q Query) ([]RunSummary, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	query := `SELECT ` + summaryColumns + ` FROM runs r ORDER BY r.started_ns DESC, r.rid DESC LIMIT ? OFFSET ?`
	args := []any{q.Limit, max(q.Offset, 0)}
	if match := matchExpr(q.Text); match != "" {
		query = `SELECT ` + summaryColumns + ` FROM runs r WHERE r.rid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)
			ORDER BY r.started_ns DESC, r.rid DESC LIMIT ? OFFSET ?`
		args = append([]any{match}, args...)
	}
	return s.summaries(ctx, query, args, false)
}

// Search returns up to limit runs (DefaultLimit when 0 or less) whose
// prompt, system prompt or answers hold every word of text (as
// Query.Text), the best matches first, each with a Snippet.
func (s *Store) Search(ctx context.Context, text string, limit int) ([]RunSummary, error) {
	match := matchExpr(text)
	if match == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	query := `SELECT ` + summaryColumns + `, snippet(runs_fts, -1, '` + SnippetOpen + `', '` + SnippetClose + `', '…', 16)
		FROM runs_fts JOIN runs r ON r.rid = runs_fts.rowid WHERE runs_fts MATCH ? ORDER BY rank LIMIT ?`
	return s.summaries(ctx, query, []any{match, limit}, true)
}

func (s *Store) summaries(ctx context.Context, query string, args []any, snippet bool) ([]RunSummary, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("history: list: %w", err)
	}
	defer rows.Close()
	out := []RunSummary{}
	for rows.Next() {
		var r RunSummary
		var err error
		if snippet {
			var sn string
			r, err = scanSummary(rows, &sn)
			r.Snippet = strings.ReplaceAll(sn, "\n", " ")
		} else {
			r, err = scanSummary(rows)
		}
		if err != nil {
			return nil, fmt.Errorf("history: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: list: %w", err)
	}
	return out, nil
}

// matchExpr turns words a person typed into an FTS5 query that cannot be
// malformed: every word a quoted string, the last one also a prefix; ""
// when there is no word.
func matchExpr(text string) string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return ""
	}
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(words, " ") + "*"
}

// Delete removes run id from the history. A run being recorded is
// refused; an unknown id is ErrNotFound.
func (s *Store) Delete(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history: delete %s: %w", id, err)
	}
	defer tx.Rollback()
	var rid int64
	var state, owner string
	switch err := tx.QueryRowContext(ctx, `SELECT rid, state, owner FROM runs WHERE id = ?`, id).Scan(&rid, &state, &owner); {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("history: delete %s: %w", id, err)
	case state == StateRunning && (owner == s.owner || ownerAlive(s.ownerPath(owner))):
		return fmt.Errorf("history: delete %s: the run is still being recorded", id)
	}
	if err := deleteRun(ctx, tx, rid); err != nil {
		return fmt.Errorf("history: delete %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history: delete %s: %w", id, err)
	}
	return nil
}

func deleteRun(ctx context.Context, tx *sql.Tx, rid int64) error {
	for _, q := range []string{
		`DELETE FROM events WHERE rid = ?`,
		`DELETE FROM streams WHERE rid = ?`,
		`DELETE FROM runs_fts WHERE rowid = ?`,
		`DELETE FROM runs WHERE rid = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, rid); err != nil {
			return err
		}
	}
	return nil
}
