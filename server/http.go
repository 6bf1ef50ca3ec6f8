package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// Handler returns the HTTP API (docs/protocol.md) behind the Host and Origin
// guards.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/healthz", methods{http.MethodGet: s.handleHealth})
	mux.Handle("/api/models", methods{http.MethodGet: s.handleModels})
	mux.Handle("/api/runs", methods{http.MethodPost: s.handleCreateRun})
	mux.Handle("/api/replays", methods{http.MethodPost: s.handleCreateReplay})
	mux.Handle("/api/runs/{id}", methods{http.MethodGet: s.handleGetRun, http.MethodDelete: s.handleCancelRun})
	mux.Handle("/api/streams/{id}", methods{http.MethodDelete: s.handleCancelStream})
	mux.Handle("/events", methods{http.MethodGet: s.handleEvents})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path, endpointsHint)
	})
	return s.guard(mux)
}

// endpointsHint lists the endpoints, for the hint of a 404.
const endpointsHint = "endpoints: /healthz, /api/models, /api/runs, /api/replays, /api/runs/{id}, /api/streams/{id}, /events?stream=ID"

// cleanPath is p without "//", "." or ".." segments, keeping a trailing
// slash, as http.ServeMux cleans paths.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// methods routes by method and answers others with a JSON 405.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allowed := make([]string, 0, len(m))
	for _, name := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if m[name] != nil {
			allowed = append(allowed, name)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path,
		"use "+strings.Join(allowed, " or "))
}

// guard refuses requests a browser page could forge: a Host that is not a
// loopback name with our port (DNS rebinding), and state-changing requests
// from another origin. It also turns a panic into a JSON 500.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal error", "this is a bug in Tokenloom; the server goes on")
			}
		}()
		if !s.loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "forbidden host "+strconv.Quote(r.Host),
				"Tokenloom answers only to 127.0.0.1, localhost or [::1] with its own port")
			return
		}
		// http.ServeMux would answer a path with "//", "." or ".."
		// segments with a redirect to its cleaned form, which clients
		// follow, a POST included: no such path is ours.
		if p := r.URL.EscapedPath(); p != cleanPath(p) {
			writeError(w, http.StatusNotFound, "no such endpoint: "+strconv.Quote(p), endpointsHint)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			if o := r.Header.Get("Origin"); o != "" && !s.ownOrigin(o) {
				writeError(w, http.StatusForbidden, "forbidden origin "+strconv.Quote(o),
					"pages from other sites may not drive Tokenloom")
				return
			}
			if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
				writeError(w, http.StatusForbidden, "forbidden cross-site request",
					"pages from other sites may not drive Tokenloom")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost accepts "127.0.0.1:PORT", "localhost:PORT" and "[::1]:PORT"
// with the server's own port (any port before Start).
func (s *Server) loopbackHost(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "localhost", "::1":
	default:
		return false
	}
	own := s.portText()
	return own == "" || port == own
}

func (s *Server) ownOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Path != "" || u.User != nil {
		return false
	}
	return s.loopbackHost(u.Host)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := wire.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg, hint string) {
	writeJSON(w, status, wire.Error{Error: msg, Hint: hint})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := wire.Health{OK: true, Version: s.cfg.Version, Ollama: wire.OllamaHealth{URL: s.ollama.URL()}}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if v, err := s.ollama.Version(ctx); err != nil {
		h.Ollama.Error, h.Ollama.Hint = errorOf(err)
	} else {
		h.Ollama.Reachable, h.Ollama.Version = true, v
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	var out wire.Models
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if ms, err := s.ollama.Models(ctx); err != nil {
		out.OllamaError, out.OllamaHint = errorOf(err)
	} else {
		out.Models = ms
	}
	demo, _ := s.demo.Models(ctx)
	out.Models = append(out.Models, demo...)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateRun(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.cfg.MaxBodyBytes), "send a shorter prompt")
		return
	}
	req, bad := s.decodeRunRequest(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if bad != nil {
		writeError(w, bad.status, bad.msg, bad.hint)
		return
	}
	rn, err := s.startRun(req)
	s.answerStarted(w, rn, err)
}

// refusal is a request refused before anything happened: the status and
// the sentences of its answer.
type refusal struct {
	status    int
	msg, hint string
}

// decodeRunRequest reads the body of POST /api/runs (cut at the body limit
// by the caller's http.MaxBytesReader) and checks it against the contract.
// It returns either a valid request, with its mode filled in, or why it is
// refused: a 413 for a body over the limit, else a 400.
func (s *Server) decodeRunRequest(body io.Reader) (wire.RunRequest, *refusal) {
	var req wire.RunRequest
	if err := decodeBody(body, &req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return wire.RunRequest{}, &refusal{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.cfg.MaxBodyBytes), "send a shorter prompt"}
		}
		return wire.RunRequest{}, &refusal{http.StatusBadRequest, err.Error(), `send a JSON object like {"prompt":"hi","streams":[{"model":"demo/hello"}]}`}
	}
	if msg, hint := s.validate(&req); msg != "" {
		return wire.RunRequest{}, &refusal{http.StatusBadRequest, msg, hint}
	}
	return req, nil
}

// answerStarted answers the start of a run or replay: 201 with the run and
// its streams, or why it could not start.
func (s *Server) answerStarted(w http.ResponseWriter, rn *run, err error) {
	switch {
	case errors.Is(err, errTooBusy):
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many streams running (at most %d at once)", s.cfg.MaxActiveStreams),
			"wait for running streams to end, or cancel some")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error(), "start Tokenloom again")
		return
	}
	out := wire.RunCreated{ID: rn.id, Mode: rn.req.Mode}
	for _, st := range rn.streams {
		out.Streams = append(out.Streams, wire.StreamCreated{ID: st.id, Model: st.spec.Model, Label: st.spec.Label, Index: st.index})
	}
	w.Header().Set("Location", "/api/runs/"+rn.id)
	writeJSON(w, http.StatusCreated, out)
}

// decodeBody reads exactly one JSON object with known fields into v.
func decodeBody(body io.Reader, v any) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
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

func (s *Server) handleGetRun(w http.ResponseWriter, r *http.Request) {
	rn := s.lookupRun(r.PathValue("id"))
	if rn == nil {
		writeError(w, http.StatusNotFound, "unknown run "+strconv.Quote(r.PathValue("id")), "run ids come from POST /api/runs; finished runs are kept for a while, then dropped")
		return
	}
	writeJSON(w, http.StatusOK, s.transcript(rn))
}

// cancelled is the answer to a DELETE.
type cancelled struct {
	ID string `json:"id"`
	// Cancelled lists the streams this request stopped; streams that had
	// already ended are not in it.
	Cancelled []string `json:"cancelled"`
}

func (s *Server) handleCancelRun(w http.ResponseWriter, r *http.Request) {
	rn := s.lookupRun(r.PathValue("id"))
	if rn == nil {
		writeError(w, http.StatusNotFound, "unknown run "+strconv.Quote(r.PathValue("id")), "run ids come from POST /api/runs")
		return
	}
	out := cancelled{ID: rn.id, Cancelled: []string{}}
	for _, st := range rn.streams {
		if cancelStream(st) {
			out.Cancelled = append(out.Cancelled, st.id)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCancelStream(w http.ResponseWriter, r *http.Request) {
	st := s.lookupStream(r.PathValue("id"))
	if st == nil {
		writeError(w, http.StatusNotFound, "unknown stream "+strconv.Quote(r.PathValue("id")), "stream ids come from POST /api/runs")
		return
	}
	out := cancelled{ID: st.id, Cancelled: []string{}}
	if cancelStream(st) {
		out.Cancelled = append(out.Cancelled, st.id)
	}
	writeJSON(w, http.StatusOK, out)
}

// cancelStream stops a stream that has not ended; it reports whether it did.
func cancelStream(st *stream) bool {
	_, _, done := st.eventsFrom(0)
	if done || st.ctx.Err() != nil {
		return false
	}
	st.cancel(errStreamCancelled)
	return true
}
