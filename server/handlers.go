package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// The handlers of the JSON endpoints (docs/protocol.md); GET /events is in
// events.go.

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := wire.Health{OK: true, Version: s.cfg.Version, Ollama: wire.OllamaHealth{URL: s.ollama.URL()}}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if v, err := s.ollama.Version(ctx); err != nil {
		h.Ollama.Error, h.Ollama.Hint = errorOf(err)
	} else {
		h.Ollama.Reachable, h.Ollama.Version = true, v
	}
	h.Endpoints = s.endpointStatuses(ctx)
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
	if len(s.endpointList) > 0 {
		var more []wire.Model
		more, out.Endpoints = s.endpointModels(ctx)
		out.Models = append(out.Models, more...)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateRun(w http.ResponseWriter, r *http.Request) {
	raw, bad := s.readBody(w, r, s.cfg.MaxBodyBytes, s.bodyTooBig())
	if bad != nil {
		writeRefusal(w, bad)
		return
	}
	req, bad := s.decodeRunRequest(raw)
	if bad != nil {
		writeRefusal(w, bad)
		return
	}
	rn, err := s.launch(s.newRun(req))
	s.answerStarted(w, rn, err)
}

// bodyTooBig is the refusal of a POST /api/runs body over the limit.
func (s *Server) bodyTooBig() *refusal {
	return &refusal{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.cfg.MaxBodyBytes), "send a shorter prompt"}
}

// decodeRunRequest decodes the body of POST /api/runs and checks it against
// the contract. It returns either a valid request, with its mode filled
// in, or why it is refused (400).
func (s *Server) decodeRunRequest(raw []byte) (wire.RunRequest, *refusal) {
	var req wire.RunRequest
	if err := decodeBody(raw, &req); err != nil {
		return wire.RunRequest{}, &refusal{http.StatusBadRequest, err.Error(), `send a JSON object like {"prompt":"hi","streams":[{"model":"demo/hello"}]}`}
	}
	if bad := s.validate(&req); bad != nil {
		return wire.RunRequest{}, bad
	}
	return req, nil
}

// handleCreateReplay serves POST /api/replays: it checks the saved run and
// starts a run that plays it back.
func (s *Server) handleCreateReplay(w http.ResponseWriter, r *http.Request) {
	tooBig := &refusal{http.StatusRequestEntityTooLarge, fmt.Sprintf("replay body over %d bytes", s.cfg.MaxReplayBytes),
		"replay a shorter run; the server's limit is Config.MaxReplayBytes"}
	raw, bad := s.readBody(w, r, s.cfg.MaxReplayBytes, tooBig)
	if bad != nil {
		writeRefusal(w, bad)
		return
	}
	var req wire.ReplayRequest
	if err := decodeBody(raw, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), `send {"transcript": <a run as GET /api/runs/{id} answers it>, "speed": 1}`)
		return
	}
	scripts, bad := s.validateReplay(&req)
	if bad != nil {
		writeRefusal(w, bad)
		return
	}
	t := req.Transcript
	runReq := wire.RunRequest{Prompt: t.Prompt, System: t.System, Mode: t.Mode}
	for _, st := range t.Streams {
		runReq.Streams = append(runReq.Streams, wire.StreamSpec{Model: st.Model, Endpoint: st.Endpoint, Options: st.Options, Label: replayLabelPrefix + st.Model, History: st.History})
	}
	rn := s.newRun(runReq)
	rn.replayOf, rn.speed = t.ID, *req.Speed
	for i, st := range rn.streams {
		st.replay = scripts[i]
	}
	started, err := s.launch(rn)
	s.answerStarted(w, started, err)
}

// answerStarted answers the start of a run or replay: 201 with the run and
// its streams, or why it could not start.
func (s *Server) answerStarted(w http.ResponseWriter, rn *run, err error) {
	if err != nil {
		writeRefusal(w, err)
		return
	}
	out := wire.RunCreated{ID: rn.id, Mode: rn.req.Mode}
	for _, st := range rn.streams {
		out.Streams = append(out.Streams, wire.StreamCreated{ID: st.id, Model: st.spec.Model, Endpoint: st.spec.Endpoint, Label: st.spec.Label, Index: st.index})
	}
	w.Header().Set("Location", "/api/runs/"+rn.id)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleGetRun(w http.ResponseWriter, r *http.Request) {
	rn := s.lookupRun(r.PathValue("id"))
	if rn == nil {
		writeError(w, http.StatusNotFound, "unknown run "+strconv.Quote(r.PathValue("id")), "run ids come from POST /api/runs; finished runs are kept for a while, then dropped")
		return
	}
	setJSONHeaders(w)
	w.WriteHeader(http.StatusOK)
	if err := writeTranscript(w, rn); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("write transcript", "run", rn.id, "err", err)
	}
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
	writeJSON(w, http.StatusOK, cancelAll(rn.id, rn.streams))
}

func (s *Server) handleCancelStream(w http.ResponseWriter, r *http.Request) {
	st := s.lookupStream(r.PathValue("id"))
	if st == nil {
		writeError(w, http.StatusNotFound, "unknown stream "+strconv.Quote(r.PathValue("id")), "stream ids come from POST /api/runs")
		return
	}
	writeJSON(w, http.StatusOK, cancelAll(st.id, []*stream{st}))
}

// cancelAll stops the streams that have not ended, and says which it
// stopped for the run or stream id.
func cancelAll(id string, streams []*stream) cancelled {
	out := cancelled{ID: id, Cancelled: []string{}}
	for _, st := range streams {
		if cancelStream(st) {
			out.Cancelled = append(out.Cancelled, st.id)
		}
	}
	return out
}

// cancelStream stops a stream that has not ended; it reports whether it did.
func cancelStream(st *stream) bool {
	if _, done := st.length(); done || st.ctx.Err() != nil {
		return false
	}
	st.cancel(errStreamCancelled)
	return true
}
