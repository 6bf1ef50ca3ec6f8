package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Reading request bodies: within the body timeout, under a size limit, of
// a Content-Type that can carry JSON, decoded strictly.

// readBody reads the body of r, at most limit bytes, within the server's
// BodyTimeout. A body over the limit is refused with tooBig; one that does
// not arrive in time with a 408, after which the connection is closed. It
// also refuses a Content-Type that cannot carry JSON in UTF-8 (415).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, tooBig *refusal) ([]byte, *refusal) {
	if bad := checkContentType(r.Header.Get("Content-Type")); bad != nil {
		return nil, bad
	}
	if r.ContentLength > limit {
		return nil, tooBig
	}
	rc := http.NewResponseController(w)
	// The deadline covers the body only: an SSE response is not a body.
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		_ = rc.SetReadDeadline(time.Time{})
		return raw, nil
	case errors.As(err, &mbe):
		return nil, tooBig
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		return nil, &refusal{http.StatusRequestTimeout,
			fmt.Sprintf("the request body did not arrive within %s", humanDuration(s.cfg.BodyTimeout)),
			"send the whole body at once"}
	default:
		return nil, &refusal{http.StatusBadRequest, "could not read the request body: " + err.Error(), "send the whole body, with a Content-Length that matches it"}
	}
}

// checkContentType accepts a body sent without a Content-Type, as JSON, as
// text (a browser's fetch with a string body) or as a form (what `curl -d`
// sends), in UTF-8; the body must be JSON whatever it says.
func checkContentType(ct string) *refusal {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	bad := &refusal{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not JSON", ct), "send the body as Content-Type: application/json"}
	if err != nil {
		return bad
	}
	switch mt {
	case "application/json", "text/plain", "application/x-www-form-urlencoded":
	default:
		return bad
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		bad.msg = fmt.Sprintf("Content-Type %q: the body must be UTF-8", ct)
		return bad
	}
	return nil
}

// decodeBody decodes raw, exactly one JSON object whose field names are
// those of v's type (exactly: encoding/json would match them whatever
// their case), into v.
func decodeBody(raw []byte, v any) error {
	// encoding/json silently turns invalid UTF-8 into U+FFFD: check first.
	if !utf8.Valid(raw) {
		return errors.New("the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty request body")
		}
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("malformed JSON: more than one value in the body")
	}
	// encoding/json also turns an escaped lone UTF-16 surrogate ("\ud800")
	// silently into U+FFFD.
	if loneSurrogate(raw) {
		return errors.New("the request body is not valid UTF-8: it escapes half of a UTF-16 surrogate pair")
	}
	if key, ok := strayKey(raw, fieldNamesOf(reflect.TypeOf(v))); ok {
		return fmt.Errorf("malformed JSON: unknown field %q (field names are case-sensitive)", key)
	}
	return nil
}

// loneSurrogate reports whether the JSON text raw, already decoded without
// error, has a \u escape of a UTF-16 surrogate that is not half of a pair.
// In valid JSON a backslash appears only in strings, where it starts an
// escape.
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw[i+1:])
		if !ok {
			continue
		}
		i += 4
		switch {
		case r < 0xd800 || r > 0xdfff:
		case r >= 0xdc00:
			return true // a low half first
		default: // a high half: a low one must follow
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(raw[i+3:])
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// strayKey returns the first object key in the JSON text raw, which has
// already been decoded without error, that is not one of names. It scans
// the bytes once, without decoding values: a 64 MiB replay is checked in a
// fraction of the time its decoding takes.
func strayKey(raw []byte, names map[string]bool) (string, bool) {
	var objects []bool // per open container: whether it is an object
	wantKey := false
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			objects = append(objects, true)
			wantKey = true
		case '[':
			objects = append(objects, false)
			wantKey = false
		case '}', ']':
			objects = objects[:len(objects)-1]
			wantKey = false
		case ',':
			wantKey = len(objects) > 0 && objects[len(objects)-1]
		case '"':
			end, escaped := i+1, false
			for ; end < len(raw) && raw[end] != '"'; end++ {
				if raw[end] == '\\' {
					end++
					escaped = true
				}
			}
			if wantKey {
				wantKey = false
				if !escaped && names[string(raw[i+1:end])] { // no allocation
					i = end
					continue
				}
				key := string(raw[i+1 : end])
				if escaped {
					_ = json.Unmarshal(raw[i:end+1], &key)
				}
				if !names[key] {
					return key, true
				}
			}
			i = end
		}
	}
	return "", false
}

// fieldNames caches fieldNamesOf by type.
var fieldNames sync.Map // reflect.Type -> map[string]bool

// fieldNamesOf returns the JSON names of every field reachable from t, and
// of the events (wire.EventData) that transcripts carry as raw JSON.
func fieldNamesOf(t reflect.Type) map[string]bool {
	if names, ok := fieldNames.Load(t); ok {
		return names.(map[string]bool)
	}
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch name {
			case "-":
				continue
			case "":
				name = f.Name
			}
			names[name] = true
			walk(f.Type)
		}
	}
	walk(t)
	walk(reflect.TypeFor[wire.EventData]())
	fieldNames.Store(t, names)
	return names
}
