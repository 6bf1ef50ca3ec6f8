// Package export saves runs to files and opens them again: the JSON export
// (the transcript of GET /api/runs/{id}, every event with its time, which
// can be opened and replayed) and the Markdown export (a readable report:
// the figures of each stream side by side, from package figures, and their
// texts).
package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Export formats, as FormatForPath names them.
const (
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// MaxReadBytes is the largest saved run Read accepts.
const MaxReadBytes = 256 << 20

// FormatForPath tells the export format from a file name's extension (any
// case): ".json" is FormatJSON, ".md" and ".markdown" are FormatMarkdown.
// Any other name is an error saying which extensions work, so that a
// command can refuse a bad file name before it runs anything.
func FormatForPath(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: name it .json (the whole run, to open or replay later), or .md or .markdown (a readable report)", path)
}

// Save writes t to path in the format of its extension (see
// FormatForPath). It writes a temporary file in the same folder and renames
// it over path, so path holds either its old content or the whole new one,
// never a part. A new file gets mode 0644; an existing file keeps its mode.
func Save(path string, t *wire.Transcript) (err error) {
	format, err := FormatForPath(path)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("save %s: no run to save", path)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("save %s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if format == FormatJSON {
		err = WriteJSON(bw, t)
	} else {
		err = WriteMarkdown(bw, t)
	}
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes t as indented JSON: the format of GET /api/runs/{id},
// every event of every stream with its time, and the stats. Each event
// stays on one line of its own, so a long run reads as a list of events
// rather than ten lines per token. Read gives t back.
func WriteJSON(w io.Writer, t *wire.Transcript) error {
	if t == nil {
		return errors.New("no run to write")
	}
	head := *t
	head.Streams = nil
	h, err := indented(head, "")
	if err != nil {
		return err
	}
	// The stream list is written by hand below; "streams" is the last field.
	const streamsNull = "\n  \"streams\": null\n}"
	if !strings.HasSuffix(h, streamsNull) {
		return errors.New("encode transcript: unexpected layout of wire.Transcript")
	}
	var b bytes.Buffer
	b.WriteString(strings.TrimSuffix(h, streamsNull))
	b.WriteString("\n  \"streams\": [")
	for i, st := range t.Streams {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		if err := writeStreamJSON(&b, st); err != nil {
			return fmt.Errorf("encode stream %d: %w", i, err)
		}
	}
	if len(t.Streams) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	_, err = w.Write(b.Bytes())
	return err
}

// writeStreamJSON writes one stream of WriteJSON, at an indent of four
// spaces, with one event per line.
func writeStreamJSON(b *bytes.Buffer, st wire.StreamTranscript) error {
	events := st.Events
	st.Events = nil
	s, err := indented(st, "    ")
	if err != nil {
		return err
	}
	// A JSON string holds no raw newline, so this line is the field itself.
	const eventsNull = "\n      \"events\": null"
	i := strings.Index(s, eventsNull)
	if i < 0 {
		return errors.New("unexpected layout of wire.StreamTranscript")
	}
	b.WriteString(s[:i])
	b.WriteString("\n      \"events\": [")
	for j, e := range events {
		line, err := wire.Marshal(e)
		if err != nil {
			return fmt.Errorf("event %d: %w", j, err)
		}
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n        ")
		b.Write(line)
	}
	if len(events) > 0 {
		b.WriteString("\n      ")
	}
	b.WriteString("]")
	b.WriteString(s[i+len(eventsNull):])
	return nil
}

// indented encodes v with two-space indents, continuation lines starting
// with prefix, without HTML escaping and without a final newline.
func indented(v any, prefix string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Read reads a run saved by WriteJSON (or answered by GET /api/runs/{id})
// and checks it with wire.CheckTranscript: valid UTF-8 JSON of known
// fields, at least one stream, each stream's events numbered from 0 with
// known types and readable data whose seq is the id, t_ms never going
// back, and exactly one done or error event, last. The error names the
// stream and the event at fault. Each event's data is compacted to one
// line, as the server sends it.
func Read(r io.Reader) (*wire.Transcript, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxReadBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(raw) > MaxReadBytes:
		return nil, fmt.Errorf("not a Tokenloom run: over %d MiB", MaxReadBytes>>20)
	case len(bytes.TrimSpace(raw)) == 0:
		return nil, errors.New("not a Tokenloom run: the file is empty")
	case !utf8.Valid(raw):
		return nil, errors.New("not a Tokenloom run: not valid UTF-8 text")
	}
	var t wire.Transcript
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("not a Tokenloom run: malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a Tokenloom run: more than one JSON value")
	}
	for i := range t.Streams {
		for j, e := range t.Streams[i].Events {
			var c bytes.Buffer
			if json.Compact(&c, e.Data) == nil {
				t.Streams[i].Events[j].Data = c.Bytes()
			}
		}
	}
	if _, err := wire.CheckTranscript(&t); err != nil {
		return nil, fmt.Errorf("not a valid Tokenloom run: %w", err)
	}
	return &t, nil
}

// Load opens a run saved as JSON (see Read). A Markdown export is refused
// with a sentence saying so: it is a report, not a run.
func Load(path string) (*wire.Transcript, error) {
	if f, err := FormatForPath(path); err == nil && f == FormatMarkdown {
		return nil, fmt.Errorf("%s is a Markdown report, which cannot be opened: open a run saved as .json", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
