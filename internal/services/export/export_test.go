package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/server"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// recordRun runs req on a real server over loopback, reads every stream
// with the real client until its end, and returns the run's transcript.
func recordRun(t *testing.T, req wire.RunRequest) *wire.Transcript {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + ln.Addr().String()
	ln.Close()
	srv, err := server.New(server.Config{OllamaURL: nowhere})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Close()
		cl.Close()
	}()
	ctx := t.Context()
	run, err := cl.StartRun(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(run.Streams))
	for i, s := range run.Streams {
		ids[i] = s.ID
	}
	events, err := cl.SubscribeAll(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	tr, err := cl.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Finished {
		t.Fatalf("run %s not finished", run.ID)
	}
	return tr
}

// TestRoundTrip records real runs (async and sync, with a text that
// JSON and SSE could garble, a long flood and a failed stream), writes each
// with WriteJSON and reads it back: the transcript is deep-equal to the
// server's. Save and Load do the same through a file.
func TestRoundTrip(t *testing.T) {
	tricky := `"quoted" <b>&amp; emoji😀 back` + "`ticks`" + ` tab	here`
	for _, mode := range []string{wire.ModeAsync, wire.ModeSync} {
		t.Run(mode, func(t *testing.T) {
			tr := recordRun(t, wire.RunRequest{Prompt: tricky, System: "be brief", Mode: mode, Streams: []wire.StreamSpec{
				{Model: wire.DemoEcho, Label: "echo", Options: &wire.Options{Rate: ptr(0.0)}},
				{Model: wire.DemoFlood, Options: &wire.Options{NumPredict: ptr(50), Rate: ptr(0.0)}},
				{Model: "demo/nope"},
			}})
			var buf bytes.Buffer
			if err := export.WriteJSON(&buf, tr); err != nil {
				t.Fatal(err)
			}
			got, err := export.Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("read back: %v\n%s", err, buf.Bytes())
			}
			if !reflect.DeepEqual(got, tr) {
				t.Errorf("read back a different run:\n got %+v\nwant %+v", got, tr)
			}
			// Any JSON reader gets the same run, and each event is on a
			// line of its own.
			var plain wire.Transcript
			if err := json.Unmarshal(buf.Bytes(), &plain); err != nil {
				t.Fatal(err)
			}
			events := 0
			for _, st := range tr.Streams {
				events += len(st.Events)
			}
			if n := strings.Count(buf.String(), "\n        {\"event\":"); n != events {
				t.Errorf("%d lines of events, want %d:\n%s", n, events, buf.Bytes())
			}
			if !strings.Contains(buf.String(), "<b>&amp;") {
				t.Errorf("HTML characters escaped in the export")
			}

			path := filepath.Join(t.TempDir(), "run.JSON")
			if err := export.Save(path, tr); err != nil {
				t.Fatal(err)
			}
			loaded, err := export.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(loaded, tr) {
				t.Errorf("Load gave a different run")
			}
		})
	}
}

// TestMarkdownGolden writes the fixture as Markdown and compares it with
// testdata/run.md (go test -update rewrites it). Save with .md and
// .markdown writes the same.
func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := export.WriteMarkdown(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "run.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		failed := filepath.Join("testdata", "failed", "run.md")
		_ = os.MkdirAll(filepath.Dir(failed), 0o755)
		_ = os.WriteFile(failed, buf.Bytes(), 0o644)
		t.Errorf("Markdown differs from %s; see %s (go test -update accepts it)", golden, failed)
	}
	for _, name := range []string{"run.md", "run.markdown"} {
		path := filepath.Join(t.TempDir(), name)
		if err := export.Save(path, fixture()); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, buf.Bytes()) {
			t.Errorf("Save %s wrote something else than WriteMarkdown", name)
		}
	}
}

// TestMarkdownReasoning: a stream's reasoning is folded under the summary
// the app's fold line gives it (one token is "1 token").
func TestMarkdownReasoning(t *testing.T) {
	run := fixture()
	st := &run.Streams[0]
	st.Thinking = "The user says hi."
	st.Stats.ThinkingTokens, st.Stats.ThinkingMs = 1, 50
	var buf bytes.Buffer
	if err := export.WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	if want := "<details><summary>Thought for 0.1 s · 1 token</summary>\n\n```text\nThe user says hi.\n```\n\n</details>"; !strings.Contains(buf.String(), want) {
		t.Errorf("Markdown without %q:\n%s", want, buf.String())
	}
}

// TestMarkdownConversation: a follow-up's report shows, under its stream,
// the turns the stream went on from before its answer.
func TestMarkdownConversation(t *testing.T) {
	run := fixture()
	run.Streams[0].History = []wire.Turn{{Prompt: "Say hi.", Answer: "Hi!"}, {Prompt: "Louder?", Answer: ""}}
	var buf bytes.Buffer
	if err := export.WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	want := "<details><summary>Earlier in this conversation: 2 turns</summary>\n\n**Turn 1, prompt**\n\n```text\nSay hi.\n```\n\n**Turn 1, answer**\n\n```text\nHi!\n```\n\n" +
		"**Turn 2, prompt**\n\n```text\nLouder?\n```\n\n**Turn 2, answer**\n\n*(no text)*\n\n</details>\n\n**Turn 3, answer**\n\n```text\n" + run.Streams[0].Text
	if !strings.Contains(buf.String(), want) {
		t.Errorf("Markdown without %q:\n%s", want, buf.String())
	}
	if n := strings.Count(buf.String(), "Earlier in this conversation"); n != 1 {
		t.Errorf("%d streams show a conversation, want 1", n)
	}
}

// TestMarkdownEndpoint: a stream served by an endpoint is named
// model@endpoint, in its heading and in the table.
func TestMarkdownEndpoint(t *testing.T) {
	run := fixture()
	run.Streams[0].Endpoint = "gpu"
	var buf bytes.Buffer
	if err := export.WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	if want := run.Streams[0].Model + "@gpu"; strings.Count(buf.String(), want) < 2 {
		t.Errorf("Markdown names %q fewer than twice:\n%s", want, buf.String())
	}
}

// TestMarkdownOptions: under each stream's heading the report names the
// options the stream ran with, or says it took the model's defaults.
func TestMarkdownOptions(t *testing.T) {
	think := func(v wire.Think) *wire.Think { return &v }
	tests := []struct {
		name string
		o    *wire.Options
		want string
	}{
		{"none", nil, "the model's defaults"},
		{"empty", &wire.Options{}, "the model's defaults"},
		{"sampling", &wire.Options{Temperature: ptr(0.7), Seed: ptr(int64(42)), NumPredict: ptr(200)},
			"temperature 0.7 · seed 42 · at most 200 tokens"},
		{"one token, no limit elsewhere", &wire.Options{NumPredict: ptr(1)}, "at most 1 token"},
		{"no limit", &wire.Options{NumPredict: ptr(-1), NumCtx: ptr(4096)}, "no token limit · context of 4096 tokens"},
		{"pace", &wire.Options{Rate: ptr(2.5)}, "pace 2.5 tokens/s"},
		{"flat out", &wire.Options{Rate: ptr(0.0)}, "pace as fast as possible"},
		{"think on", &wire.Options{Think: think(wire.ThinkOn)}, "think on"},
		{"think off", &wire.Options{Temperature: ptr(0.0), Think: think(wire.ThinkOff)}, "temperature 0 · think off"},
		{"think level", &wire.Options{Think: think(wire.ThinkHigh)}, "think high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := fixture()
			run.Streams[3].Options = tt.o
			var buf bytes.Buffer
			if err := export.WriteMarkdown(&buf, run); err != nil {
				t.Fatal(err)
			}
			if want := "### 4. demo/flood\n\n- **Options:** " + tt.want + "\n\n```text\nlorem ipsum\n```\n"; !strings.Contains(buf.String(), want) {
				t.Errorf("Markdown without %q:\n%s", want, buf.String())
			}
		})
	}
}

// TestReadRejects feeds Read every kind of broken run; each is refused
// with an error naming the stream and event at fault.
func TestReadRejects(t *testing.T) {
	valid := func(mut func(t *wire.Transcript)) []byte {
		tr := fixture()
		mut(tr)
		var buf bytes.Buffer
		if err := export.WriteJSON(&buf, tr); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}
	setData := func(st *wire.StreamTranscript, i int, mut func(*wire.EventData)) {
		var d wire.EventData
		if err := json.Unmarshal(st.Events[i].Data, &d); err != nil {
			panic(err)
		}
		mut(&d)
		st.Events[i].Data, _ = wire.Marshal(d)
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"not JSON", []byte("# Tokenloom run\n"), "malformed JSON"},
		{"an array", []byte(`[1, 2]`), "malformed JSON"},
		{"truncated", valid(func(*wire.Transcript) {})[:500], "malformed JSON"},
		{"two values", append(valid(func(*wire.Transcript) {}), "{}"...), "more than one JSON value"},
		{"unknown field", []byte(`{"id":"r_1","mode":"async","streems":[]}`), `unknown field "streems"`},
		{"invalid UTF-8", []byte("{\"id\":\"r\xff\"}"), "not valid UTF-8"},
		{"unknown mode", valid(func(t *wire.Transcript) { t.Mode = "parallel" }), `unknown mode "parallel"`},
		{"no streams", valid(func(t *wire.Transcript) { t.Streams = nil }), "the run has no streams"},
		{"stream index", valid(func(t *wire.Transcript) { t.Streams[1].Index = 5 }), "stream 1 (llama3.2:1b): index is 5, want 1"},
		{"no events", valid(func(t *wire.Transcript) { t.Streams[0].Events = nil }), "stream 0 (demo/hello): no events"},
		{"id gap", valid(func(t *wire.Transcript) { t.Streams[0].Events[2].ID = 3 }), "stream 0 (demo/hello), event 2: id is 3, want 2"},
		{"unknown type", valid(func(t *wire.Transcript) { t.Streams[0].Events[1].Event = "tick" }), `stream 0 (demo/hello), event 1: unknown event type "tick"`},
		{"data not JSON", valid(func(t *wire.Transcript) { t.Streams[3].Events[1].Data = json.RawMessage(`"lorem"`) }), "stream 3 (demo/flood), event 1: data of the token event is not the contract's JSON"},
		{"data null", valid(func(t *wire.Transcript) { t.Streams[3].Events[1].Data = json.RawMessage(`null`) }), "stream 3 (demo/flood), event 1: data of the token event is not the contract's JSON: no data"},
		{"unknown data field", valid(func(t *wire.Transcript) {
			t.Streams[3].Events[1].Data = json.RawMessage(`{"seq":1,"text":"x","t_ms":2,"colour":"red"}`)
		}), `event 1: data of the token event is not the contract's JSON: json: unknown field "colour"`},
		{"seq differs", valid(func(t *wire.Transcript) { setData(&t.Streams[1], 4, func(d *wire.EventData) { d.Seq = 7 }) }), "stream 1 (llama3.2:1b), event 4: data has seq 7, but the event's id is 4"},
		{"t_ms goes back", valid(func(t *wire.Transcript) { setData(&t.Streams[1], 5, func(d *wire.EventData) { d.TMs = 99 }) }), "stream 1 (llama3.2:1b), event 5: t_ms 99 goes back from 110"},
		{"negative t_ms", valid(func(t *wire.Transcript) { setData(&t.Streams[0], 0, func(d *wire.EventData) { d.TMs = -1 }) }), "stream 0 (demo/hello), event 0: t_ms is -1"},
		{"no terminal event", valid(func(t *wire.Transcript) { t.Streams[0].Events = t.Streams[0].Events[:3] }), "stream 0 (demo/hello), event 2: the stream ends without a done or error event"},
		{"terminal not last", valid(func(t *wire.Transcript) {
			st := &t.Streams[3]
			st.Events[1], st.Events[3] = st.Events[3], st.Events[1]
			st.Events[1].ID, st.Events[3].ID = 1, 3
			setData(st, 1, func(d *wire.EventData) { d.Seq, d.TMs = 1, 2 })
			setData(st, 3, func(d *wire.EventData) { d.Seq, d.TMs = 3, 5 })
		}), "stream 3 (demo/flood), event 1: done event before the end of the stream"},
		{"two terminal events", valid(func(t *wire.Transcript) {
			st := &t.Streams[0]
			st.Events = append(st.Events, st.Events[3])
			st.Events[4].ID = 4
			setData(st, 4, func(d *wire.EventData) { d.Seq = 4 })
		}), "stream 0 (demo/hello), event 3: done event before the end of the stream"},
		{"unknown phase", valid(func(t *wire.Transcript) { setData(&t.Streams[0], 0, func(d *wire.EventData) { d.Phase = "pondering" }) }), `stream 0 (demo/hello), event 0: unknown phase "pondering"`},
		{"repeated phase", valid(func(t *wire.Transcript) {
			setData(&t.Streams[1], 1, func(d *wire.EventData) { d.Phase = wire.PhaseLoading })
		}), `stream 1 (llama3.2:1b), event 1: phase "loading" repeats the current phase`},
		{"empty token", valid(func(t *wire.Transcript) {
			setData(&t.Streams[0], 1, func(d *wire.EventData) { d.Text = "" })
			t.Streams[0].Text = " world"
		}), "stream 0 (demo/hello), event 1: token event without text"},
		{"unknown reason", valid(func(t *wire.Transcript) { setData(&t.Streams[0], 3, func(d *wire.EventData) { d.Reason = "tired" }) }), `stream 0 (demo/hello), event 3: unknown reason "tired"`},
		{"error without message", valid(func(t *wire.Transcript) { setData(&t.Streams[2], 0, func(d *wire.EventData) { d.Message = "" }) }), "stream 2 (demo/nope), event 0: error event without a message"},
		{"text differs", valid(func(t *wire.Transcript) { t.Streams[0].Text = "Hello there" }), "stream 0 (demo/hello): its text is not its tokens joined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := export.Read(bytes.NewReader(tt.body))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "not a") {
				t.Errorf("error %q does not say it is not a Tokenloom run", err)
			}
		})
	}
	// The fixture itself is valid, so each case fails for its own fault.
	if _, err := export.Read(bytes.NewReader(valid(func(*wire.Transcript) {}))); err != nil {
		t.Fatalf("the fixture is refused: %v", err)
	}
	// Errors in streams are typed, for callers that point at the fault.
	var idGap []byte
	for _, tt := range tests {
		if tt.name == "id gap" {
			idGap = tt.body
		}
	}
	_, err := export.Read(bytes.NewReader(idGap))
	var te *wire.TranscriptError
	if !errors.As(err, &te) || te.Stream != 0 || te.Event != 2 {
		t.Errorf("error %v is not a *wire.TranscriptError at stream 0, event 2", err)
	}
}

func TestFormatForPath(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"run.json", export.FormatJSON},
		{"/tmp/a.b/RUN.Json", export.FormatJSON},
		{"run.md", export.FormatMarkdown},
		{"run.markdown", export.FormatMarkdown},
		{"run.MD", export.FormatMarkdown},
		{"run.txt", ""},
		{"run", ""},
		{"json", ""},
		{"run.json.gz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := export.FormatForPath(tt.path)
			if got != tt.want {
				t.Errorf("format %q, want %q", got, tt.want)
			}
			if tt.want == "" && (err == nil || !strings.Contains(err.Error(), ".json") || !strings.Contains(err.Error(), ".md or .markdown")) {
				t.Errorf("error %v does not say which extensions work", err)
			}
		})
	}
}

// TestSave checks the file handling: a bad extension writes nothing, an
// existing file is replaced whole and keeps its mode, no temporary file is
// left behind, and an unwritable folder is an error naming the file.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	if err := export.Save(filepath.Join(dir, "run.txt"), fixture()); err == nil || !strings.Contains(err.Error(), "run.txt") {
		t.Errorf("bad extension: %v", err)
	}
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, []byte(strings.Repeat("old ", 100000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := export.Save(path, fixture()); err != nil {
		t.Fatal(err)
	}
	if got, err := export.Load(path); err != nil || !reflect.DeepEqual(got, fixture()) {
		t.Errorf("after Save over an old file: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the old file's 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after Save, want only run.json", len(entries))
	}
	missing := filepath.Join(dir, "no", "such", "run.md")
	if err := export.Save(missing, fixture()); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "run.md")
	if err := export.Save(md, fixture()); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Load(md); err == nil || !strings.Contains(err.Error(), "Markdown report") {
		t.Errorf("Markdown: %v", err)
	}
	if _, err := export.Load(filepath.Join(dir, "nope.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mode":"async","streams":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := export.Load(bad); err == nil || !strings.Contains(err.Error(), bad+": not a valid Tokenloom run: the run has no streams") {
		t.Errorf("bad run: %v", err)
	}
}
