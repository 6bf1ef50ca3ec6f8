package client

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/r3labs/sse/v2"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// FuzzDecodeEvent feeds arbitrary SSE events (id, event type, data) to the
// decoder the subscription runs on every event. It must never panic, and it
// must either refuse the event with an error naming the stream, or return an
// event of a known type with the field that type needs, whose seq is the SSE
// id, whose Raw is a copy of the data as received, and whose fields are those
// of the data.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []struct{ id, typ, data string }{
		{"0", "phase", `{"seq":0,"phase":"generating","t_ms":0.412}`},
		{"1", "token", `{"seq":1,"text":"Hello","t_ms":1000.87}`},
		{"2", "token", `{"seq":2,"text":" line\nfeed\r\n:colon","t_ms":1001}`},
		{"3", "done", `{"seq":3,"t_ms":2000,"reason":"stop","stats":{"tokens":2,"ttft_ms":1000,"duration_ms":2000,"tokens_per_s":2,"ollama":{"eval_count":3}}}`},
		{"4", "error", `{"seq":4,"t_ms":1,"message":"model \"x\" not found","hint":"run: ollama pull x"}`},
		{"5", "token", `{"seq":6,"text":"a"}`},
		{"", "token", `{"text":"a"}`},
		{"-1", "token", `{"seq":-1}`},
		{"01", "token", `{"seq":1}`},
		{"9223372036854775807", "token", `{"seq":9223372036854775807}`},
		{"0", "tick", `{"seq":0}`},
		{"0", "token", `{"seq":0,"text":`},
		{"0", "token", `{"seq":"0"}`},
		{"0", "token", `[]`},
		{"0", "token", `null`},
		{"0", "token", ``},
		{"0", "done", `{"seq":0,"stats":null}`},
		{"0", "token", `{"seq":0,"text":"\ud800"}`},
		{"0", "token", "{\"seq\":0,\"text\":\"\xff\"}"},
	} {
		f.Add([]byte(seed.id), []byte(seed.typ), []byte(seed.data))
	}
	f.Fuzz(func(t *testing.T, id, typ, data []byte) {
		msg := &sse.Event{ID: id, Event: typ, Data: data}
		ev, err := decodeEvent("s_fuzz", msg)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("s_fuzz")) {
				t.Fatalf("error %q does not name the stream", err)
			}
			if ev.Type != "" || ev.Raw != nil {
				t.Fatalf("an error came with an event: %+v", ev)
			}
			return
		}
		switch ev.Type {
		case wire.EventPhase, wire.EventToken, wire.EventDone, wire.EventError:
		default:
			t.Fatalf("accepted event type %q", ev.Type)
		}
		if ev.Type != string(typ) || ev.Stream != "s_fuzz" || ev.Local {
			t.Fatalf("event %+v from type %q", ev, typ)
		}
		if strconv.FormatInt(ev.Seq, 10) != string(id) {
			t.Fatalf("seq %d from id %q", ev.Seq, id)
		}
		if !bytes.Equal(ev.Raw, data) {
			t.Fatalf("Raw %q, data %q", ev.Raw, data)
		}
		if len(data) > 0 && &ev.Raw[0] == &data[0] {
			t.Fatal("Raw shares the memory of r3labs's buffer")
		}
		var d wire.EventData
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("accepted data that is not JSON: %q", data)
		}
		if d.Seq != ev.Seq || d.Text != ev.Text || d.Phase != ev.Phase || d.Reason != ev.Reason ||
			d.Message != ev.Message || d.Hint != ev.Hint || (d.Stats == nil) != (ev.Stats == nil) {
			t.Fatalf("event %+v differs from its data %q", ev, data)
		}
		if d.TMs != ev.TMs {
			t.Fatalf("t_ms %v from data %q", ev.TMs, data)
		}
		if missing := missingField(ev.Type, d); missing != "" {
			t.Fatalf("accepted a %s event without %s: %q", ev.Type, missing, data)
		}
	})
}
