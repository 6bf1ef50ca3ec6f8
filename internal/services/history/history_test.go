package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/embedded"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
	"github.com/tokenloom/tokenloom/server"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), FileName) }

func ptr[T any](v T) *T { return &v }

// closedURL is a URL nothing listens at: an Ollama stream there ends with
// an error event.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// serverRun runs req on a real embedded server and returns its client,
// the run and, once every stream has ended, its transcript as the server
// answers it. onEvent, if set, sees each event as it arrives.
func serverRun(t *testing.T, req wire.RunRequest, started func(*client.Client, *wire.RunCreated), onEvent func(client.IndexedEvent)) *wire.Transcript {
	t.Helper()
	emb, err := embedded.Start(server.Config{OllamaURL: closedURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	ctx := t.Context()
	created, err := emb.Client.StartRun(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if started != nil {
		started(emb.Client, created)
	}
	ids := make([]string, len(created.Streams))
	for i, s := range created.Streams {
		ids[i] = s.ID
	}
	events, err := emb.Client.SubscribeAll(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if onEvent != nil {
			onEvent(ev)
		}
	}
	tr, err := emb.Client.Run(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Finished {
		t.Fatal("the server's run did not finish")
	}
	return tr
}

// variedRequest asks for streams of every kind of event: phases, tokens,
// thinking, a done with each reason, an error, options, a label.
func variedRequest() wire.RunRequest {
	return wire.RunRequest{Prompt: "alpha beta «gamma» \"delta\"\nline two", System: "Be brief.", Mode: wire.ModeAsync,
		Streams: []wire.StreamSpec{
			{Model: wire.DemoEcho, Label: "echo", Options: &wire.Options{Rate: ptr(0.0), Temperature: ptr(0.5), Seed: ptr(int64(7))}},
			{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: ptr(40), Rate: ptr(0.0)}},
			{Model: wire.DemoThink, Options: &wire.Options{Think: ptr(wire.ThinkOn)}},
			{Model: "llama3.2:latest"}, // no Ollama there: an error event
		}}
}

func TestHistoryImportGetRoundTrip(t *testing.T) {
	server := serverRun(t, variedRequest(), nil, nil)
	if server.Streams[3].Error == "" || server.Streams[2].Thinking == "" {
		t.Fatalf("the run lacks an error or a thinking stream: %+v", server.Streams)
	}
	unfinished := transcripttest.Run()
	unfinished.ID = "r_unfinished"
	st := &unfinished.Streams[1]
	st.Events = st.Events[:len(st.Events)-1]
	st.Stats, unfinished.Finished, unfinished.WallMs = nil, false, 0
	empty := transcripttest.Run()
	empty.ID = "r_empty"
	empty.Streams[0].Events = []wire.LoggedEvent{}

	s := openStore(t, tempDB(t))
	for _, tt := range []struct {
		name  string
		t     *wire.Transcript
		state string
	}{
		{"server run", server, StateFinished},
		{"hand-made run", transcripttest.Run(), StateFinished},
		{"unfinished run", unfinished, StateIncomplete},
		{"stream without events", empty, StateFinished},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := cloneTranscript(t, tt.t)
			if err := s.Import(t.Context(), tt.t); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(t.Context(), tt.t.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Fatalf("Get after Import differs:\n got %s\nwant %s", g, w)
			}
			sum, err := s.Lookup(t.Context(), tt.t.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sum.State != tt.state || sum.WallMs != want.WallMs || len(sum.Models) != len(want.Streams) {
				t.Errorf("summary %+v: want state %s, wall %v", sum, tt.state, want.WallMs)
			}
			// Importing it again replaces it.
			if err := s.Import(t.Context(), tt.t); err != nil {
				t.Fatal(err)
			}
		})
	}
	runs, err := s.List(t.Context(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Errorf("%d runs listed, want 4", len(runs))
	}
	if _, err := s.Get(t.Context(), "r_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an unknown run: %v", err)
	}
}

// cloneTranscript is a deep copy of tr, through JSON as the server writes
// it (without HTML escapes, which json.Marshal would add to the events'
// data).
func cloneTranscript(t testing.TB, tr *wire.Transcript) *wire.Transcript {
	b, err := wire.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var c wire.Transcript
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestHistoryRecorder records a live run from its events and checks that
// Get gives back the server's transcript exactly.
func TestHistoryRecorder(t *testing.T) {
	s := openStore(t, tempDB(t))
	req := variedRequest()
	var rec *Recorder
	server := serverRun(t, req, func(cl *client.Client, created *wire.RunCreated) {
		head, err := cl.Run(t.Context(), created.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := RunMeta{ID: created.ID, Mode: created.Mode, Prompt: req.Prompt, System: req.System, StartedAt: head.StartedAt}
		for i, st := range created.Streams {
			m.Streams = append(m.Streams, StreamMeta{ID: st.ID, Model: st.Model, Endpoint: st.Endpoint, Label: st.Label, Options: req.Streams[i].Options})
		}
		if rec, err = s.StartRun(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		sum, err := s.Lookup(t.Context(), created.ID)
		if err != nil || sum.State != StateRunning {
			t.Fatalf("a run being recorded: %+v, %v", sum, err)
		}
	}, func(ev client.IndexedEvent) {
		rec.Record(ev.Index, ev.Type, ev.Seq, ev.Raw)
	})
	if err := rec.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), server.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, server) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(server)
		t.Fatalf("the recorded run differs from the server's:\n got %s\nwant %s", g, w)
	}
	sum, err := s.Lookup(t.Context(), server.ID)
	if err != nil || sum.State != StateFinished || sum.WallMs != server.WallMs {
		t.Errorf("summary %+v, %v: want finished, wall %v", sum, err, server.WallMs)
	}
	if runs, err := s.Search(t.Context(), "lorem", 0); err != nil || len(runs) != 1 {
		t.Errorf("search of the flood's words: %+v, %v", runs, err)
	}
}

// streamEvents makes n events of a stream as the server numbers them: a
// phase, tokens, and a done when done.
func streamEvents(n int, done bool) []wire.LoggedEvent {
	var evs []wire.LoggedEvent
	add := func(kind string, d wire.EventData) {
		d.Seq = int64(len(evs))
		b, _ := wire.Marshal(d)
		evs = append(evs, wire.LoggedEvent{Event: kind, ID: d.Seq, Data: b})
	}
	add(wire.EventPhase, wire.EventData{Phase: wire.PhaseGenerating, TMs: 0.5})
	for i := 1; i < n; i++ {
		add(wire.EventToken, wire.EventData{Text: " w" + string(rune('a'+i%26)), TMs: float64(i)})
	}
	if done {
		add(wire.EventDone, wire.EventData{Reason: wire.ReasonStop, TMs: float64(n), Stats: &wire.Stats{Tokens: n - 1, EndMs: float64(n)}})
	}
	return evs
}

func meta(id string, streams int) RunMeta {
	m := RunMeta{ID: id, Mode: wire.ModeAsync, Prompt: "prompt of " + id, StartedAt: time.Now().UTC().Truncate(time.Millisecond)}
	for i := range streams {
		m.Streams = append(m.Streams, StreamMeta{ID: id + "_s" + string(rune('0'+i)), Model: wire.DemoFlood})
	}
	return m
}

// countEvents counts the events of run id written to the file, read
// through a connection of its own.
func countEvents(t testing.TB, path, id string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE rid = (SELECT rid FROM runs WHERE id = ?)`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHistoryRecorderBatches checks that events reach the file while the
// run goes on, without Finish: by the tick, and at once when FlushEvents
// are waiting.
func TestHistoryRecorderBatches(t *testing.T) {
	path := tempDB(t)
	s := openStore(t, path)
	rec, err := s.StartRun(t.Context(), meta("r_batches", 1))
	if err != nil {
		t.Fatal(err)
	}
	evs := streamEvents(3*FlushEvents, true)
	for _, e := range evs[:10] {
		record(rec, 0, e)
	}
	testenv.Eventually(t, "the first 10 events in the file", func() bool { return countEvents(t, path, "r_batches") == 10 })
	for _, e := range evs[10 : len(evs)-1] {
		record(rec, 0, e)
	}
	testenv.Eventually(t, "every event but the last in the file", func() bool { return countEvents(t, path, "r_batches") == len(evs)-1 })
	sum, _ := s.Lookup(t.Context(), "r_batches")
	if sum.State != StateRunning {
		t.Errorf("state %s while recording", sum.State)
	}
	record(rec, 0, evs[len(evs)-1])
	record(rec, 5, evs[0]) // no such stream: dropped
	if err := rec.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	record(rec, 0, evs[0]) // after Finish: dropped
	if n := countEvents(t, path, "r_batches"); n != len(evs) {
		t.Errorf("%d events, want %d", n, len(evs))
	}
	got, err := s.Get(t.Context(), "r_batches")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Finished || got.WallMs != float64(len(evs)-1) || !reflect.DeepEqual(got.Streams[0].Events, evs) {
		t.Errorf("finished %v, wall %v, %d events", got.Finished, got.WallMs, len(got.Streams[0].Events))
	}
}

// TestHistoryIncompleteAtNextOpen: a run whose Store went away without
// finishing it (its lock let go, as when its process dies) is marked
// incomplete by the next Open, with the events written and their text.
func TestHistoryIncompleteAtNextOpen(t *testing.T) {
	path := tempDB(t)
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := first.StartRun(t.Context(), meta("r_cut", 2))
	if err != nil {
		t.Fatal(err)
	}
	evs := streamEvents(40, true)
	for _, e := range evs[:20] {
		record(rec, 0, e)
	}
	testenv.Eventually(t, "20 events in the file", func() bool { return countEvents(t, path, "r_cut") == 20 })

	// A second Store while the first is alive leaves the run running.
	second := openStore(t, path)
	if sum, _ := second.Lookup(t.Context(), "r_cut"); sum.State != StateRunning {
		t.Fatalf("a live recording was marked %s", sum.State)
	}
	if err := second.Delete(t.Context(), "r_cut"); err == nil {
		t.Error("a live recording was deleted")
	}
	// The first dies: its lock goes, its recorder stops writing.
	first.ownerLock.Close()
	third := openStore(t, path)
	sum, err := third.Lookup(t.Context(), "r_cut")
	if err != nil || sum.State != StateIncomplete {
		t.Fatalf("after the owner died: %+v, %v", sum, err)
	}
	if n := third.Notices(); len(n) != 1 || !strings.Contains(n[0], "1 run was cut off") {
		t.Errorf("notices %q", n)
	}
	got, err := third.Get(t.Context(), "r_cut")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, e := range evs[1:20] {
		var d wire.EventData
		json.Unmarshal(e.Data, &d)
		want.WriteString(d.Text)
	}
	if got.Finished || len(got.Streams[0].Events) != 20 || got.Streams[0].Text != want.String() || got.Streams[1].Text != "" {
		t.Errorf("finished %v, %d events, text %q", got.Finished, len(got.Streams[0].Events), got.Streams[0].Text)
	}
	if runs, _ := third.Search(t.Context(), strings.TrimSpace(want.String()[:4]), 0); len(runs) != 1 {
		t.Errorf("the incomplete run's answer is not searchable: %+v", runs)
	}
	rec.Finish(t.Context())
	first.Close()
}

// TestHistoryMigrationFromV1 opens a file of the first schema, made from
// its DDL, and finds its run whole and searchable.
func TestHistoryMigrationFromV1(t *testing.T) {
	path := tempDB(t)
	ddl, err := os.ReadFile("testdata/history-v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(ddl)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openStore(t, path)
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema %d after the migration (%v), want %d", v, err, SchemaVersion)
	}
	got, err := s.Get(t.Context(), "r_v1hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.CheckTranscript(got); err != nil {
		t.Errorf("the migrated run is not a valid transcript: %v", err)
	}
	if got.Streams[0].Text != "Hello world" || got.WallMs != 2000.8 || !got.Finished || got.StartedAt.UnixNano() != 1795600000123000000 {
		t.Errorf("migrated run: %+v", got)
	}
	for _, q := range []string{"lighthouse", "WORLD", "keep"} {
		runs, err := s.Search(t.Context(), q, 0)
		if err != nil || len(runs) != 1 || runs[0].ID != "r_v1hello" {
			t.Errorf("search %q after the migration: %+v, %v", q, runs, err)
		}
	}
	if got.Streams[0].History != nil {
		t.Errorf("a run of schema 1 has a history: %q", got.Streams[0].History)
	}
	// New runs go in beside it, a follow-up with its conversation.
	tr := transcripttest.Run()
	turns := []wire.Turn{{Prompt: "Say hi.", Answer: "Hello world"}, {Prompt: "Again?", Answer: ""}}
	tr.Streams[1].History = turns
	if err := s.Import(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	back, err := s.Get(t.Context(), tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Streams[0].History != nil || !slices.Equal(back.Streams[1].History, turns) {
		t.Errorf("histories back %q and %q; want none and %q", back.Streams[0].History, back.Streams[1].History, turns)
	}
	runs, err := s.List(t.Context(), Query{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("list: %+v, %v", runs, err)
	}
	for _, r := range runs {
		if want := map[string]int{tr.ID: 3, "r_v1hello": 1}[r.ID]; r.Turn != want {
			t.Errorf("run %s is turn %d, want %d", r.ID, r.Turn, want)
		}
	}
}

func TestHistoryNewerSchemaRefused(t *testing.T) {
	path := tempDB(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE runs (x); PRAGMA user_version = 7"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = Open(path)
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || newer.Schema != 7 || newer.Supported != SchemaVersion {
		t.Fatalf("Open of a newer schema: %v", err)
	}
	want := fmt.Sprintf("made by a newer Tokenloom (schema 7); this one reads up to %d", SchemaVersion)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q lacks %q", err, want)
	}
	after, _ := os.ReadFile(path)
	if !slices.Equal(before, after) {
		t.Error("the newer file was changed")
	}
}

func TestHistoryForeignDatabaseRefused(t *testing.T) {
	path := tempDB(t)
	db, _ := sql.Open("sqlite", path)
	if _, err := db.Exec("CREATE TABLE notes (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("Open of another program's database: %v", err)
	}
}

// TestHistoryCorrupt: a file that is not a database, and a database whose
// schema page is damaged, are moved aside and a new history starts.
func TestHistoryCorrupt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"not a database", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("this is not SQLite\n", 400)), 0o644)
		}},
		{"damaged schema page", func(t *testing.T, path string) {
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Import(t.Context(), transcripttest.Run()); err != nil {
				t.Fatal(err)
			}
			s.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Page 1 after its 100-byte header: the schema's b-tree.
			f.WriteAt([]byte(strings.Repeat("\xff", 3000)), 100)
			f.Close()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tt.damage(t, path)
			damaged, _ := os.ReadFile(path)
			s := openStore(t, path)
			notices := s.Notices()
			if len(notices) != 1 || !strings.Contains(notices[0], "was damaged") || !strings.Contains(notices[0], ".corrupt-") {
				t.Fatalf("notices %q", notices)
			}
			moved, _ := filepath.Glob(path + ".corrupt-*")
			if len(moved) != 1 {
				t.Fatalf("moved aside: %v", moved)
			}
			if b, _ := os.ReadFile(moved[0]); !slices.Equal(b, damaged) {
				t.Error("the damaged file was not kept as it was")
			}
			if err := s.Import(t.Context(), transcripttest.Run()); err != nil {
				t.Fatal(err)
			}
			if runs, err := s.List(t.Context(), Query{}); err != nil || len(runs) != 1 {
				t.Errorf("the new history: %v, %v", runs, err)
			}
		})
	}
}

// TestHistoryTwoStoresWriting: two Stores on one file record runs at the
// same time; each sees every run, none is lost or marked incomplete.
func TestHistoryTwoStoresWriting(t *testing.T) {
	path := tempDB(t)
	stores := []*Store{openStore(t, path), openStore(t, path)}
	const runs = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*runs)
	for si, s := range stores {
		wg.Go(func() {
			for r := range runs {
				id := "r_" + string(rune('a'+si)) + string(rune('a'+r))
				rec, err := s.StartRun(context.Background(), meta(id, 2))
				if err != nil {
					errs <- err
					return
				}
				other := streamEvents(6, true) // 7 events, amid the first stream's 601
				for i, e := range streamEvents(600, true) {
					record(rec, 0, e)
					if i%100 == 0 {
						record(rec, 1, other[i/100])
					}
				}
				if err := rec.Finish(context.Background()); err != nil {
					errs <- err
				}
				if err := s.Import(context.Background(), renamed(transcripttest.Run(), id+"_import")); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range stores {
		list, err := s.List(t.Context(), Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 4*runs {
			t.Errorf("%d runs listed, want %d", len(list), 4*runs)
		}
		for _, r := range list {
			if r.State != StateFinished {
				t.Errorf("run %s is %s", r.ID, r.State)
			}
		}
	}
	if n := countEvents(t, path, "r_bh"); n != 608 {
		t.Errorf("run r_bh has %d events, want 608", n)
	}
}

func renamed(t *wire.Transcript, id string) *wire.Transcript {
	t.ID = id
	return t
}

func TestHistorySearch(t *testing.T) {
	s := openStore(t, tempDB(t))
	mk := func(id, prompt, answer string, startedAt time.Time) *wire.Transcript {
		tr := transcripttest.Run()
		tr.ID, tr.Prompt, tr.StartedAt = id, prompt, startedAt
		tr.Streams = tr.Streams[:1]
		tr.Streams[0].Text = answer
		return tr
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tr := range []*wire.Transcript{
		mk("r_sky", "Why is the sky blue?", "Rayleigh scattering of sunlight.", t0),
		mk("r_cafe", "Name a French drink", "Un café crème, s'il vous plaît.", t0.Add(time.Hour)),
		mk("r_sea", "Why is the sea blue?", "It reflects the sky, and water absorbs red light.", t0.Add(2*time.Hour)),
	} {
		if err := s.Import(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		text string
		want []string // List's order: newest first
	}{
		{"blue", []string{"r_sea", "r_sky"}},
		{"BLUE sky", []string{"r_sea", "r_sky"}},
		{"rayleigh", []string{"r_sky"}},    // an answer
		{"cafe", []string{"r_cafe"}},       // accents do not matter
		{"scatt", []string{"r_sky"}},       // the last word is a prefix
		{"absorbs red", []string{"r_sea"}}, // every word
		{"blue violet", nil},
		{`"unclosed AND -x OR`, nil}, // FTS5 syntax is taken literally
		{"", []string{"r_sea", "r_cafe", "r_sky"}},
	} {
		list, err := s.List(t.Context(), Query{Text: tt.text})
		if err != nil {
			t.Errorf("List %q: %v", tt.text, err)
			continue
		}
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("List %q: %v, want %v", tt.text, ids, tt.want)
		}
	}
	found, err := s.Search(t.Context(), "rayleigh", 0)
	if err != nil || len(found) != 1 || !strings.Contains(found[0].Snippet, SnippetOpen+"Rayleigh"+SnippetClose) {
		t.Errorf("Search: %+v, %v", found, err)
	}
	if page, _ := s.List(t.Context(), Query{Limit: 1, Offset: 1}); len(page) != 1 || page[0].ID != "r_cafe" {
		t.Errorf("page 2 of 1: %+v", page)
	}
}

// TestHistoryFTS5 checks that the SQLite inside has FTS5.
func TestHistoryFTS5(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE f USING fts5(x); INSERT INTO f VALUES ('token streams')`); err != nil {
		t.Fatalf("no FTS5: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH 'stream*'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("FTS5 match: %d, %v", n, err)
	}
}

func TestHistoryDelete(t *testing.T) {
	s := openStore(t, tempDB(t))
	if err := s.Import(t.Context(), transcripttest.Run()); err != nil {
		t.Fatal(err)
	}
	id := transcripttest.Run().ID
	if err := s.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := s.Delete(t.Context(), id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete twice: %v", err)
	}
	var n int
	s.db.QueryRow(`SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM streams) + (SELECT count(*) FROM runs_fts)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows left of the deleted run", n)
	}
}

// TestHistorySizeCap: beyond the cap, the oldest runs go first, the file
// shrinks, and a run being recorded stays.
func TestHistorySizeCap(t *testing.T) {
	s := openStore(t, tempDB(t))
	rec, err := s.StartRun(t.Context(), meta("r_live", 1))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour)
	var batch []*wire.Transcript
	for i := range 40 {
		tr := bigRun(i, 200)
		tr.StartedAt = t0.Add(time.Duration(i) * time.Minute)
		batch = append(batch, tr)
	}
	if err := s.ImportAll(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	full, err := s.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetMaxBytes(t.Context(), full/2); err != nil {
		t.Fatal(err)
	}
	size, _ := s.Size(t.Context())
	if size > full/2 {
		t.Errorf("size %d over the cap %d", size, full/2)
	}
	fi, _ := os.Stat(s.Path())
	list, _ := s.List(t.Context(), Query{Limit: 1000})
	if len(list) < 10 || len(list) > 30 {
		t.Fatalf("%d runs left of 41", len(list))
	}
	// The newest are left, and the live one.
	for i, r := range list[1:] {
		if want := bigRun(39-i, 0).ID; r.ID != want {
			t.Errorf("run %d is %s, want %s", i, r.ID, want)
		}
	}
	if list[0].ID != "r_live" {
		t.Errorf("the live run went: %v", list[0])
	}
	rec.Finish(t.Context())
	t.Logf("%d runs, %d bytes; cap %d: %d runs, %d bytes in use, file %d bytes", 41, full, full/2, len(list), size, fi.Size())
}

// bigRun is run i of a history, with two streams of n tokens.
func bigRun(i, n int) *wire.Transcript {
	id := "r_" + strings.Repeat("0", 6-len(itoa(i))) + itoa(i)
	tr := &wire.Transcript{ID: id, Mode: wire.ModeAsync, Prompt: "question number " + itoa(i) + " about " + topics[i%len(topics)],
		StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second), Finished: true, WallMs: float64(n)}
	for si := range 2 {
		evs := streamEvents(n, true)
		var text strings.Builder
		for _, e := range evs {
			var d wire.EventData
			json.Unmarshal(e.Data, &d)
			text.WriteString(d.Text)
		}
		tr.Streams = append(tr.Streams, wire.StreamTranscript{ID: id + "_" + itoa(si), Model: wire.DemoFlood, Index: si,
			Text: text.String() + " " + topics[(i+si)%len(topics)], Events: evs, Stats: &wire.Stats{Tokens: n - 1, EndMs: float64(n)}})
	}
	return tr
}

var topics = []string{"lighthouses", "rivers", "volcanoes", "glaciers", "orchards", "comets", "harbours", "meadows"}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func record(rec *Recorder, stream int, e wire.LoggedEvent) { rec.Record(stream, e.Event, e.ID, e.Data) }
