package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// A Recorder writes its events in a transaction every FlushInterval, or as
// soon as FlushEvents are waiting, whichever comes first: a crash loses at
// most that much.
const (
	FlushInterval = 100 * time.Millisecond
	FlushEvents   = 256
)

// Run states, as RunSummary.State names them.
const (
	// StateRunning: a Recorder is writing the run.
	StateRunning = "running"
	// StateFinished: every stream of the run ended (done or error).
	StateFinished = "finished"
	// StateIncomplete: the recording stopped before every stream ended,
	// because its process died or a stream's end never arrived. The run
	// holds the events written until then.
	StateIncomplete = "incomplete"
)

// RunMeta is what a run is before its events: the transcript's head.
type RunMeta struct {
	ID     string
	Mode   string
	Prompt string
	System string
	// StartedAt is the run's start, from which its events' t_ms count.
	StartedAt time.Time
	// ReplayOf and Speed are set on a replay (see wire.Transcript).
	ReplayOf string
	Speed    float64
	// Streams are the run's streams, stream i at index i.
	Streams []StreamMeta
}

// StreamMeta is a stream before its events.
type StreamMeta struct {
	ID       string
	Model    string
	Endpoint string
	Label    string
	Options  *wire.Options
	// History is the conversation the stream went on from.
	History []wire.Turn
}

// Recorder writes one live run into the history as its events arrive.
// Record never waits for the database: a goroutine of the Recorder writes
// the events in batches, and Finish ends it.
type Recorder struct {
	s   *Store
	rid int64
	id  string

	mu       sync.Mutex
	queue    []queued
	err      error // the first failure; the recording stops there
	finished bool

	kick chan struct{} // FlushEvents are waiting
	stop chan struct{} // closed by Finish
	done chan struct{} // closed when the writer has written the last batch

	// Owned by the writer goroutine.
	streams []streamState
}

type queued struct {
	stream int
	ev     wire.LoggedEvent
}

// streamState is what the writer knows of a stream.
type streamState struct {
	text, thinking strings.Builder
	ended          bool
}

// StartRun records the head of a live run and returns its Recorder, whose
// events follow with Record. The run is in the history, as running, from
// now on. An id the history already holds is refused.
func (s *Store) StartRun(ctx context.Context, m RunMeta) (*Recorder, error) {
	if m.ID == "" || len(m.Streams) == 0 {
		return nil, errors.New("history: a run needs an id and a stream")
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, errors.New("history: closed")
	}
	t := &wire.Transcript{ID: m.ID, Mode: m.Mode, Prompt: m.Prompt, System: m.System, StartedAt: m.StartedAt,
		ReplayOf: m.ReplayOf, Speed: m.Speed}
	for i, st := range m.Streams {
		t.Streams = append(t.Streams, wire.StreamTranscript{ID: st.ID, Model: st.Model, Endpoint: st.Endpoint,
			Label: st.Label, Index: i, Options: st.Options, History: st.History})
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("history: start run %s: %w", m.ID, err)
	}
	defer tx.Rollback()
	rid, err := insertRun(ctx, tx, t, StateRunning, s.owner, false)
	if err != nil {
		return nil, fmt.Errorf("history: start run %s: %w", m.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("history: start run %s: %w", m.ID, err)
	}
	r := &Recorder{s: s, rid: rid, id: m.ID, kick: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), streams: make([]streamState, len(m.Streams))}
	s.mu.Lock()
	s.recorders[r] = struct{}{}
	s.mu.Unlock()
	go r.write()
	return r, nil
}

// ID is the recorded run's id.
func (r *Recorder) ID() string { return r.id }

// Record queues an event of the run's stream number stream, as the SSE
// stream sent it: its type (wire.EventToken, ...), its id (the stream's
// sequence number) and its data line (JSON, with its t_ms), to be written
// with the next batch. It never blocks on the database; data is copied.
// Events of a stream come in order, each once (a repeated id is ignored);
// one whose stream is out of range, or that comes after Finish, is
// dropped. The first failure to write is returned by Finish.
func (r *Recorder) Record(stream int, kind string, seq int64, data []byte) {
	ev := wire.LoggedEvent{Event: kind, ID: seq, Data: append(json.RawMessage(nil), data...)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished || r.err != nil || stream < 0 || stream >= len(r.streams) {
		return
	}
	r.queue = append(r.queue, queued{stream, ev})
	if len(r.queue) >= FlushEvents {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Finish writes the events still queued and ends the recording: the run
// becomes finished when every stream has ended (its done or error event
// was recorded), else incomplete. The streams' texts, the wall time (the
// latest end of a stream, as the server counts it) and the search index
// are written then, and the history is pruned to its size cap (keeping
// this run). It returns the first error of the recording, again on a
// second call. If ctx ends first, Finish returns its error and the
// recording ends in the background (Store.Close waits for it).
func (r *Recorder) Finish(ctx context.Context) error {
	r.mu.Lock()
	if !r.finished {
		r.finished = true
		close(r.stop)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.s.mu.Lock()
	delete(r.s.recorders, r)
	r.s.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return fmt.Errorf("history: record run %s: %w", r.id, r.err)
	}
	return nil
}

// write is the Recorder's goroutine: it writes a batch on every tick or
// kick, and the last one and the run's end when Finish stops it.
func (r *Recorder) write() {
	defer close(r.done)
	tick := time.NewTicker(FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-r.kick:
		case <-r.stop:
			r.flush()
			texts := make([]streamText, len(r.streams))
			for i := range r.streams {
				texts[i] = streamText{r.streams[i].text.String(), r.streams[i].thinking.String()}
			}
			if err := r.s.finishRun(context.Background(), r.rid, texts); err != nil {
				r.fail(err)
				return
			}
			if err := r.s.prune(context.Background(), r.rid); err != nil {
				r.fail(err)
			}
			return
		}
		r.flush()
	}
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// flush writes the queued events in one transaction.
func (r *Recorder) flush() {
	r.mu.Lock()
	batch := r.queue
	r.queue = nil
	failed := r.err != nil
	r.mu.Unlock()
	if len(batch) == 0 || failed {
		return
	}
	if err := r.writeBatch(batch); err != nil {
		r.fail(err)
	}
}

func (r *Recorder) writeBatch(batch []queued) error {
	ctx := context.Background()
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, insertEvent)
	if err != nil {
		return err
	}
	defer ins.Close()
	var bytes int64
	for _, q := range batch {
		var d wire.EventData
		if err := json.Unmarshal(q.ev.Data, &d); err != nil {
			return fmt.Errorf("stream %d event %d: %w", q.stream, q.ev.ID, err)
		}
		if _, err := ins.ExecContext(ctx, r.rid, q.stream, q.ev.ID, q.ev.Event, d.TMs, string(q.ev.Data)); err != nil {
			return err
		}
		bytes += int64(len(q.ev.Data))
		st := &r.streams[q.stream]
		switch q.ev.Event {
		case wire.EventToken:
			st.text.WriteString(d.Text)
		case wire.EventThinking:
			st.thinking.WriteString(d.Text)
		case wire.EventDone, wire.EventError:
			st.ended = true
			if err := setEnd(ctx, tx, r.rid, q.stream, d.Stats, q.ev.Event == wire.EventError, d.Message); err != nil {
				return err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET bytes = bytes + ? WHERE rid = ?`, bytes, r.rid); err != nil {
		return err
	}
	return tx.Commit()
}

// insertEvent adds an event; a repeated one is ignored.
const insertEvent = `INSERT OR IGNORE INTO events (rid, idx, seq, kind, t_ms, data) VALUES (?, ?, ?, ?, ?, ?)`

// setEnd writes a stream's stats and error message from its terminal
// event.
func setEnd(ctx context.Context, tx *sql.Tx, rid int64, idx int, stats *wire.Stats, isErr bool, msg string) error {
	var js any
	if stats != nil {
		b, err := json.Marshal(stats)
		if err != nil {
			return err
		}
		js = string(b)
	}
	if !isErr {
		msg = ""
	}
	_, err := tx.ExecContext(ctx, `UPDATE streams SET stats = ?, error = ? WHERE rid = ? AND idx = ?`, js, msg, rid, idx)
	return err
}

// streamText is a stream's answer and reasoning.
type streamText struct{ text, thinking string }

// finishRun ends the recording of run rid: the streams' texts (texts, or
// when nil, joined from the recorded events), the state, finished and the
// wall time as the server counts them, and the search index.
func (s *Store) finishRun(ctx context.Context, rid int64, texts []streamText) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if texts == nil {
		if texts, err = textsFromEvents(ctx, tx, rid); err != nil {
			return err
		}
	}
	var answers []string
	for i, t := range texts {
		var thinking any
		if t.thinking != "" {
			thinking = t.thinking
		}
		if _, err := tx.ExecContext(ctx, `UPDATE streams SET text = ?, thinking = ? WHERE rid = ? AND idx = ?`, t.text, thinking, rid, i); err != nil {
			return err
		}
		answers = append(answers, t.text)
	}
	// As the server: finished when every stream has its stats (from its
	// terminal event), and then the wall time is the latest end.
	rows, err := tx.QueryContext(ctx, `SELECT stats FROM streams WHERE rid = ? ORDER BY idx`, rid)
	if err != nil {
		return err
	}
	finished, wall := true, 0.0
	for rows.Next() {
		var js sql.NullString
		if err := rows.Scan(&js); err != nil {
			rows.Close()
			return err
		}
		var st wire.Stats
		if !js.Valid || json.Unmarshal([]byte(js.String), &st) != nil {
			finished = false
			continue
		}
		wall = max(wall, st.EndMs)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	state := StateFinished
	if !finished {
		state, wall = StateIncomplete, 0
	}
	var textBytes int
	for _, a := range answers {
		textBytes += len(a)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, finished = ?, wall_ms = ?, owner = '', bytes = bytes + ? WHERE rid = ?`,
		state, finished, wall, textBytes, rid); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs_fts SET answers = ? WHERE rowid = ?`, strings.Join(answers, "\n"), rid); err != nil {
		return err
	}
	return tx.Commit()
}

// textsFromEvents joins the token and thinking events of each stream of
// run rid.
func textsFromEvents(ctx context.Context, q querier, rid int64) ([]streamText, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM streams WHERE rid = ?`, rid).Scan(&n); err != nil {
		return nil, err
	}
	texts := make([]streamText, n)
	rows, err := q.QueryContext(ctx, `SELECT idx, kind, data FROM events WHERE rid = ? AND kind IN ('token', 'thinking') ORDER BY idx, seq`, rid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var b [2][]strings.Builder
	b[0], b[1] = make([]strings.Builder, n), make([]strings.Builder, n)
	for rows.Next() {
		var idx int
		var kind, data string
		if err := rows.Scan(&idx, &kind, &data); err != nil {
			return nil, err
		}
		if idx < 0 || idx >= n {
			continue
		}
		var d wire.EventData
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			continue
		}
		if kind == wire.EventToken {
			b[0][idx].WriteString(d.Text)
		} else {
			b[1][idx].WriteString(d.Text)
		}
	}
	for i := range texts {
		texts[i] = streamText{b[0][i].String(), b[1][i].String()}
	}
	return texts, rows.Err()
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// MetaOf is the RunMeta of a run the server created for req, started at
// startedAt: the streams as the server named them, each with the options
// req asked for.
func MetaOf(created *wire.RunCreated, req wire.RunRequest, startedAt time.Time) RunMeta {
	m := RunMeta{ID: created.ID, Mode: created.Mode, Prompt: req.Prompt, System: req.System,
		StartedAt: startedAt.UTC().Truncate(time.Millisecond)}
	for i, st := range created.Streams {
		sm := StreamMeta{ID: st.ID, Model: st.Model, Endpoint: st.Endpoint, Label: st.Label}
		if i < len(req.Streams) {
			sm.Options, sm.History = req.Streams[i].Options, req.Streams[i].History
		}
		m.Streams = append(m.Streams, sm)
	}
	return m
}
