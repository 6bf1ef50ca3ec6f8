package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/wire"
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
	mux.Handle("/api/streams/{id}/upstream", methods{http.MethodGet: s.handleUpstream})
	mux.Handle("/events", methods{http.MethodGet: s.handleEvents})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path, endpointsHint)
	})
	return s.guard(mux)
}

// endpointsHint lists the endpoints, for the hint of a 404.
const endpointsHint = "endpoints: /healthz, /api/models, /api/runs, /api/replays, /api/runs/{id}, /api/streams/{id}, /api/streams/{id}/upstream, /events?stream=ID"

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
				s.log.Error("panic in handler", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal error", "this is a bug in Tokenloom; the server goes on")
			}
		}()
		if overCap(r.Context()) {
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many connections (at most %d open)", s.cfg.MaxConns),
				"close connections you no longer use, or try again when streams have ended")
			return
		}
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
			if strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
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

// setJSONHeaders sets the headers of every JSON answer.
func setJSONHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := wire.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	setJSONHeaders(w)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg, hint string) {
	writeJSON(w, status, wire.Error{Error: msg, Hint: hint})
}

// refusal is a request refused before anything happened: the status and
// the sentences of its answer. It is the one shape of every refusal, from
// reading the body to starting the run.
type refusal struct {
	status    int
	msg, hint string
}

func (r *refusal) Error() string { return r.msg }

// writeRefusal answers err: a *refusal with its status, anything else as
// the bug it is.
func writeRefusal(w http.ResponseWriter, err error) {
	var bad *refusal
	if errors.As(err, &bad) {
		writeError(w, bad.status, bad.msg, bad.hint)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error(), "this is a bug in Tokenloom; the server goes on")
}
