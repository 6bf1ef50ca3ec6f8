package history

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion is the schema this Tokenloom writes and reads, kept in the
// file's PRAGMA user_version. A file of an older schema is migrated when
// opened; one of a newer schema is refused (NewerSchemaError).
const SchemaVersion = 4

// migrations[v] brings a database from schema v to v+1. A step is never
// changed once released: files of every older version must still migrate.
var migrations = []string{
	0: schemaV1,
	1: schemaV2,
	2: schemaV3,
	3: schemaV4,
}

// schemaV1 is the first schema: runs, their streams and their events.
//
// runs.started_ns is the start in Unix nanoseconds (transcripts' times
// come back in UTC). state is running (a Recorder is writing it),
// finished (every stream ended) or incomplete (the recording stopped
// before every stream ended). finished and wall_ms are the transcript's
// fields. models is the streams' models, MODEL or MODEL@ENDPOINT, one per
// line, for lists. bytes counts the run's event data and texts, for the
// size cap. owner names the Store recording a running run.
//
// A stream's text and thinking are NULL while it is recorded: they are
// the joined token and thinking events, written when the run ends.
// options and stats are JSON, NULL when absent.
const schemaV1 = `
CREATE TABLE runs (
	rid        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	mode       TEXT NOT NULL,
	prompt     TEXT NOT NULL,
	system     TEXT NOT NULL DEFAULT '',
	started_ns INTEGER NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('running', 'finished', 'incomplete')),
	finished   INTEGER NOT NULL DEFAULT 0,
	wall_ms    REAL NOT NULL DEFAULT 0,
	replay_of  TEXT NOT NULL DEFAULT '',
	speed      REAL NOT NULL DEFAULT 0,
	models     TEXT NOT NULL DEFAULT '',
	bytes      INTEGER NOT NULL DEFAULT 0,
	owner      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_start ON runs (started_ns);
CREATE INDEX runs_by_state ON runs (state);
CREATE TABLE streams (
	rid      INTEGER NOT NULL,
	idx      INTEGER NOT NULL,
	id       TEXT NOT NULL,
	model    TEXT NOT NULL,
	endpoint TEXT NOT NULL DEFAULT '',
	label    TEXT NOT NULL DEFAULT '',
	options  TEXT,
	text     TEXT,
	thinking TEXT,
	stats    TEXT,
	error    TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (rid, idx)
) WITHOUT ROWID;
CREATE TABLE events (
	rid  INTEGER NOT NULL,
	idx  INTEGER NOT NULL,
	seq  INTEGER NOT NULL,
	kind TEXT NOT NULL,
	t_ms REAL NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (rid, idx, seq)
) WITHOUT ROWID;
`

// schemaV2 adds full-text search over the prompts (with the system
// prompt) and the answers (the streams' texts, one after another), one row
// per run whose rowid is the run's rid, and fills it from the runs there
// are.
const schemaV2 = `
CREATE VIRTUAL TABLE runs_fts USING fts5(prompt, answers, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO runs_fts (rowid, prompt, answers)
	SELECT rid, prompt || char(10) || system,
		coalesce((SELECT group_concat(coalesce(text, ''), char(10) ORDER BY idx) FROM streams WHERE streams.rid = runs.rid), '')
	FROM runs;
`

// schemaV3 keeps the conversation a stream went on from: its History of
// turns as JSON, NULL for a stream that began a conversation.
const schemaV3 = `
ALTER TABLE streams ADD COLUMN history TEXT;
`

// schemaV4 keeps concurrency sweeps (internal/services/sweep): each as the JSON of
// its result, with what lists show of it. started_ns is its start in Unix
// nanoseconds, streams its numbers of streams ("1,2,4,8").
const schemaV4 = `
CREATE TABLE sweeps (
	sid        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	started_ns INTEGER NOT NULL,
	model      TEXT NOT NULL,
	streams    TEXT NOT NULL,
	repeat     INTEGER NOT NULL,
	steps      INTEGER NOT NULL,
	stopped    INTEGER NOT NULL DEFAULT 0,
	data       TEXT NOT NULL
);
CREATE INDEX sweeps_by_start ON sweeps (started_ns);
`

// migrate brings db to SchemaVersion, one step a transaction, each taking
// the write lock first so that two processes opening a new file do not
// both create it.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	for {
		done, err := migrateStep(ctx, db, path)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration, if any; done reports that the
// schema is current.
func migrateStep(ctx context.Context, db *sql.DB, path string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, err
	}
	switch {
	case v > SchemaVersion:
		return false, &NewerSchemaError{Path: path, Schema: v, Supported: SchemaVersion}
	case v == SchemaVersion:
		return true, nil
	case v == 0:
		// A new file has no tables; an SQLite file of another program does.
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return false, fmt.Errorf("%s is an SQLite database of another program, not a Tokenloom history: name another file in %s", path, EnvVar)
		}
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migrate the history from schema %d to %d: %w", v, v+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, err
	}
	return false, tx.Commit()
}
