// Package history keeps every run in an embedded SQLite database
// (modernc.org/sqlite, pure Go), so that a run can be listed, searched,
// shown, exported and replayed after the process that made it has ended.
//
// A live run is written as it arrives: a Recorder takes each event
// without blocking its caller and writes them in batched transactions
// (every FlushInterval or FlushEvents events, whichever comes first), in
// WAL mode, so a crash or kill -9 loses at most the last batch. A run
// whose recording never finished is marked incomplete the next time a
// Store opens the file. Whole transcripts go in with Import.
//
// The file lives at Path: $TOKENLOOM_HISTORY when it is set, else
// history.db in the folder tokenloom of the user's data folder
// ($XDG_DATA_HOME or ~/.local/share on Linux and the BSDs, the user's
// config folder elsewhere: ~/Library/Application Support on macOS,
// %AppData% on Windows).
//
// Files:
//   - history.go: the Store, Open and Close, where the file lives
//   - schema.go: the schema, its versions and migrations
//   - recorder.go: recording a live run
//   - read.go: Import, Get, List, Search, Delete
//   - size.go: the size cap and oldest-first pruning
//   - owner_unix.go, owner_other.go: telling a live recording from one
//     whose process died
package history

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database's name in the data folder.
const FileName = "history.db"

// EnvVar names the environment variable that overrides Path: a file's
// path, or "off" to keep no history.
const EnvVar = "TOKENLOOM_HISTORY"

// ErrOff is returned by Path when $TOKENLOOM_HISTORY is "off".
var ErrOff = errors.New("the history is off (" + EnvVar + "=off)")

// ErrNotFound is returned for a run id the history does not hold.
var ErrNotFound = errors.New("no such run in the history")

// Path returns where the history database lives: $TOKENLOOM_HISTORY when
// it is set (ErrOff when it is "off"), else DefaultPath.
func Path() (string, error) {
	switch v := os.Getenv(EnvVar); {
	case strings.EqualFold(v, "off"):
		return "", ErrOff
	case v != "":
		return v, nil
	}
	return DefaultPath()
}

// DefaultPath is history.db in the folder tokenloom of the user's data
// folder: $XDG_DATA_HOME or ~/.local/share on Linux and the BSDs, the
// user's config folder (os.UserConfigDir) on macOS and Windows, where it
// is the folder for an application's data.
func DefaultPath() (string, error) {
	var dir string
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android", "plan9":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the data folder: %w", err)
		}
		dir = d
	default:
		if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
			dir = d
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("find the data folder: %w", err)
			}
			dir = filepath.Join(home, ".local", "share")
		}
	}
	return filepath.Join(dir, "tokenloom", FileName), nil
}

// BusyTimeout is how long a write waits for another process's write to
// the same file to end before it fails.
const BusyTimeout = 10 * time.Second

// Store is an open history database. Its methods are safe for concurrent
// use; several Stores, in one process or several, may have one file open
// at once.
type Store struct {
	db   *sql.DB
	path string
	// owner names this Store in the rows of the runs it records; its lock
	// file tells other Stores that it is alive.
	owner     string
	ownerLock io.Closer

	mu        sync.Mutex
	maxBytes  int64
	recorders map[*Recorder]struct{}
	notices   []string
	closed    bool
}

// NewerSchemaError is Open's error for a file made by a newer Tokenloom,
// whose schema this one cannot read. The file is left as it is.
type NewerSchemaError struct {
	Path              string
	Schema, Supported int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("%s was made by a newer Tokenloom (schema %d); this one reads up to %d: update Tokenloom, or move the file away to start a new history",
		e.Path, e.Schema, e.Supported)
}

// Open opens the history database at path, creating it (and its folder)
// if need be, and brings its schema up to date. A file made by a newer
// Tokenloom is refused with a *NewerSchemaError and left alone. A file
// that is not an SQLite database, or one that SQLite finds malformed, is
// renamed to path.corrupt-TIME (with its -wal and -shm files) and a new
// history is started; Notices says so. Runs whose recording stopped
// without finishing, because their process died, are marked incomplete.
// Only a damaged header or schema is found here: a page damaged deeper
// shows as an error of the query that reads it.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open history: no path")
	}
	// The history holds prompts and answers: a new folder is the user's
	// alone.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	s := &Store{path: path, maxBytes: DefaultMaxBytes, recorders: map[*Recorder]struct{}{}}
	db, err := s.openDB()
	if isCorrupt(err) {
		moved, merr := moveAside(path)
		if merr != nil {
			return nil, fmt.Errorf("open history: %s is damaged (%v), and moving it aside failed: %w", path, err, merr)
		}
		s.notices = append(s.notices, fmt.Sprintf("the history %s was damaged (%v): it was moved to %s and a new history was started", path, err, moved))
		db, err = s.openDB()
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	token := make([]byte, 8)
	rand.Read(token)
	s.owner = hex.EncodeToString(token)
	if s.ownerLock, err = lockOwner(s.ownerPath(s.owner)); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history: %w", err)
	}
	if err := s.recover(context.Background()); err != nil {
		s.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	return s, nil
}

// openDB opens the file and migrates its schema; errors of a damaged file
// are returned as they are, for isCorrupt.
func (s *Store) openDB() (*sql.DB, error) {
	// A newer file is refused before anything is written to it (the
	// journal mode below would be).
	if err := s.checkVersion(); err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(s.path)}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate") // a write transaction takes its lock at BEGIN: no deadlock on upgrade
	q.Set("_auto_vacuum", "incremental")
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	if err := migrate(context.Background(), db, s.path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkVersion reads an existing file's schema version without writing
// to it, and refuses a newer one.
func (s *Store) checkVersion() error {
	if _, err := os.Stat(s.path); err != nil {
		return nil // a new file
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(s.path), RawQuery: "mode=ro"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > SchemaVersion {
		return &NewerSchemaError{Path: s.path, Schema: v, Supported: SchemaVersion}
	}
	return nil
}

// isCorrupt reports whether err says the file is not a database or is
// malformed.
func isCorrupt(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// moveAside renames a damaged database and its -wal and -shm files to
// path.corrupt-TIME, and returns the new name.
func moveAside(path string) (string, error) {
	moved := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, moved); err != nil {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+suffix, moved+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return moved, err
		}
	}
	return moved, nil
}

// Path is the file the Store has open.
func (s *Store) Path() string { return s.path }

// Notices are sentences for a person about what Open had to do: a damaged
// file moved aside, runs marked incomplete.
func (s *Store) Notices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notices...)
}

// Close finishes the runs still being recorded (see Recorder.Finish) and
// closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	recs := make([]*Recorder, 0, len(s.recorders))
	for r := range s.recorders {
		recs = append(recs, r)
	}
	s.mu.Unlock()
	var errs []error
	for _, r := range recs {
		if err := r.Finish(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.db.Close())
	if s.ownerLock != nil {
		errs = append(errs, s.ownerLock.Close())
		os.Remove(s.ownerPath(s.owner))
	}
	return errors.Join(errs...)
}

// ownerPath is the lock file of the Store named owner.
func (s *Store) ownerPath(owner string) string {
	return s.path + ".owner-" + owner
}

// recover marks incomplete the runs still "running" whose Store is no
// longer alive, and gives them the text their events hold.
func (s *Store) recover(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT rid, owner FROM runs WHERE state = 'running' AND owner != ?`, s.owner)
	if err != nil {
		return err
	}
	type stale struct {
		rid   int64
		owner string
	}
	var runs []stale
	for rows.Next() {
		var r stale
		if err := rows.Scan(&r.rid, &r.owner); err != nil {
			rows.Close()
			return err
		}
		runs = append(runs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	alive := map[string]bool{}
	n := 0
	for _, r := range runs {
		live, seen := alive[r.owner]
		if !seen {
			live = ownerAlive(s.ownerPath(r.owner))
			alive[r.owner] = live
			if !live {
				os.Remove(s.ownerPath(r.owner))
			}
		}
		if live {
			continue
		}
		if err := s.finishRun(ctx, r.rid, nil); err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		s.notices = append(s.notices, fmt.Sprintf("%d %s cut off before %s end: kept as incomplete, up to %s last saved events",
			n, plural(n, "run was", "runs were"), plural(n, "its", "their"), plural(n, "its", "their")))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
