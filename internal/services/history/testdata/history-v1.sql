-- A history of schema 1, as Tokenloom's first history wrote it: the DDL of
-- schemaV1 (frozen here: the migration must open files made by it) and one
-- finished run of demo/hello.
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

INSERT INTO runs (rid, id, mode, prompt, system, started_ns, state, finished, wall_ms, models, bytes)
	VALUES (1, 'r_v1hello', 'async', 'Say hello to the lighthouse keeper', '', 1795600000123000000, 'finished', 1, 2000.8, 'demo/hello', 200);
INSERT INTO streams (rid, idx, id, model, text, stats)
	VALUES (1, 0, 's_v1hello', 'demo/hello', 'Hello world',
		'{"tokens":2,"ttft_ms":1000.5,"duration_ms":2000.8,"tokens_per_s":1,"start_ms":0,"end_ms":2000.8}');
INSERT INTO events (rid, idx, seq, kind, t_ms, data) VALUES
	(1, 0, 0, 'phase', 0.4, '{"seq":0,"phase":"generating","t_ms":0.4}'),
	(1, 0, 1, 'token', 1000.5, '{"seq":1,"text":"Hello","t_ms":1000.5}'),
	(1, 0, 2, 'token', 2000.1, '{"seq":2,"text":" world","t_ms":2000.1}'),
	(1, 0, 3, 'done', 2000.8, '{"seq":3,"t_ms":2000.8,"reason":"stop","stats":{"tokens":2,"ttft_ms":1000.5,"duration_ms":2000.8,"tokens_per_s":1,"start_ms":0,"end_ms":2000.8}}');
PRAGMA user_version = 1;
