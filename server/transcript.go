package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// streamSnapshot is what a transcript shows of a stream: its events up to a
// moment, with the text and figures of that moment.
type streamSnapshot struct {
	st     *stream
	events []logEvent
	text   string
	think  string
	stats  *wire.Stats
	errMsg string
}

func (s *stream) snapshot() streamSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return streamSnapshot{st: s, events: s.log.from(0), text: s.text.String(), think: s.think.String(), stats: s.stats, errMsg: s.errMsg}
}

// writeTranscript writes the transcript of r (wire.Transcript, the answer
// to GET /api/runs/{id}) to w as it goes: the events are written from the
// streams' logs, never copied, so a transcript of millions of events takes
// no more memory to serve than a small one.
func writeTranscript(w io.Writer, r *run) error {
	t := wire.Transcript{
		ID: r.id, Mode: r.req.Mode, Prompt: r.req.Prompt, System: r.req.System,
		StartedAt: r.startedAt.UTC().Truncate(time.Millisecond), Finished: true,
		ReplayOf: r.replayOf, Speed: r.speed, Streams: []wire.StreamTranscript{},
	}
	// Finished and the wall time come from the streams' own logs, so a
	// transcript read right after the last terminal event already says so.
	snaps := make([]streamSnapshot, len(r.streams))
	for i, st := range r.streams {
		snaps[i] = st.snapshot()
		if snaps[i].stats == nil {
			t.Finished = false
		} else {
			t.WallMs = max(t.WallMs, snaps[i].stats.EndMs)
		}
	}
	if !t.Finished {
		t.WallMs = 0
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	head, tail, err := splitAt(t, `"streams":[`)
	if err != nil {
		return err
	}
	bw.Write(head)
	for i, sn := range snaps {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := sn.write(bw); err != nil {
			return err
		}
	}
	bw.Write(tail)
	bw.WriteByte('\n')
	return bw.Flush()
}

// write writes the stream as a wire.StreamTranscript.
func (sn streamSnapshot) write(bw *bufio.Writer) error {
	st := sn.st
	head, tail, err := splitAt(wire.StreamTranscript{
		ID: st.id, Model: st.spec.Model, Endpoint: st.spec.Endpoint, Label: st.spec.Label, Index: st.index, Options: st.spec.Options,
		History: st.spec.History, Events: []wire.LoggedEvent{}, Stats: sn.stats, Error: sn.errMsg,
	}, `"text":"`)
	if err != nil {
		return err
	}
	mid, tail, err := cut(tail, `"events":[`)
	if err != nil {
		return err
	}
	// The text, then the reasoning (left out when empty, as its
	// omitempty says), each escaped a piece at a time.
	bw.Write(head)
	if err := writeStringBody(bw, sn.text); err != nil {
		return err
	}
	if sn.think != "" {
		bw.WriteString(`","thinking":"`)
		if err := writeStringBody(bw, sn.think); err != nil {
			return err
		}
	}
	bw.Write(mid) // `","events":[`
	var num [20]byte
	for seq, e := range sn.events {
		if seq > 0 {
			bw.WriteByte(',')
		}
		// As encoding/json writes a wire.LoggedEvent.
		bw.WriteString(`{"event":"`)
		bw.WriteString(e.typ.String())
		bw.WriteString(`","id":`)
		bw.Write(strconv.AppendInt(num[:0], int64(seq), 10))
		bw.WriteString(`,"data":`)
		bw.Write(e.data)
		bw.WriteByte('}')
	}
	_, err = bw.Write(tail)
	return err
}

// splitAt encodes v, in which the value after key is empty (a list or a
// string), and splits the JSON after key, so that the value can be
// written in between.
func splitAt(v any, key string) (head, tail []byte, err error) {
	b, err := wire.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return cut(b, key)
}

// cut splits b after the first key. A string value cannot hold key: its
// quotes would be escaped.
func cut(b []byte, key string) (head, tail []byte, err error) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, nil, fmt.Errorf("encode transcript: no %s in %.100s", key, b)
	}
	i += len(key)
	return b[:i], b[i:], nil
}

// stringChunk is how much of a long string writeStringBody escapes at once.
const stringChunk = 16 << 10

// writeStringBody writes s escaped as inside a JSON string (as wire.Marshal
// escapes it), without the quotes, a piece at a time.
func writeStringBody(bw *bufio.Writer, s string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for len(s) > 0 {
		n := min(len(s), stringChunk)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++ // whole characters only
		}
		buf.Reset()
		if err := enc.Encode(s[:n]); err != nil {
			return err
		}
		piece := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		bw.Write(piece[1 : len(piece)-1])
		s = s[n:]
	}
	return nil
}
