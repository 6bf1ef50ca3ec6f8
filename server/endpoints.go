package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// endpoint is one configured endpoint (Config.Endpoints) and its source.
type endpoint struct {
	cfg    endpoints.Endpoint
	source Source
	ollama *Ollama // kind ollama
	openai *OpenAI // kind openai
}

// newEndpoints makes the sources of the configured endpoints.
func newEndpoints(cfg Config) (map[string]*endpoint, []*endpoint, error) {
	byName := map[string]*endpoint{}
	var list []*endpoint
	limits := WithSilenceLimits(cfg.StartTimeout, cfg.StallTimeout)
	for _, ec := range cfg.Endpoints {
		if byName[ec.Name] != nil {
			return nil, nil, fmt.Errorf("endpoint %q configured twice", ec.Name)
		}
		e := &endpoint{cfg: ec}
		switch ec.Kind {
		case endpoints.KindOllama:
			ol, err := NewOllama(ec.URL, limits, asEndpoint(ec.Name))
			if err != nil {
				return nil, nil, fmt.Errorf("endpoint %q: %w", ec.Name, err)
			}
			e.ollama, e.source = ol, ol
		case endpoints.KindOpenAI:
			e.openai = NewOpenAI(ec, limits)
			e.source = e.openai
		default:
			return nil, nil, fmt.Errorf("endpoint %q: unknown kind %q", ec.Name, ec.Kind)
		}
		byName[ec.Name] = e
		list = append(list, e)
	}
	return byName, list, nil
}

func (e *endpoint) close() {
	if e.ollama != nil {
		e.ollama.Close()
	}
	if e.openai != nil {
		e.openai.Close()
	}
}

// status asks whether the endpoint answers: Ollama for its version, an
// OpenAI-compatible server for its models.
func (e *endpoint) status(ctx context.Context) wire.EndpointStatus {
	st := wire.EndpointStatus{Name: e.cfg.Name, Kind: e.cfg.Kind, URL: e.cfg.URL}
	var err error
	if e.ollama != nil {
		st.Version, err = e.ollama.Version(ctx)
	} else {
		_, err = e.openai.Models(ctx)
	}
	if err != nil {
		st.Error, st.Hint = errorOf(err)
	} else {
		st.Reachable = true
	}
	return st
}

// endpointStatuses asks every endpoint at once.
func (s *Server) endpointStatuses(ctx context.Context) []wire.EndpointStatus {
	out := make([]wire.EndpointStatus, len(s.endpointList))
	var wg sync.WaitGroup
	for i, e := range s.endpointList {
		wg.Go(func() { out[i] = e.status(ctx) })
	}
	wg.Wait()
	return out
}

// endpointModels lists every endpoint's models at once, with each one's
// status: reachable when it listed them.
func (s *Server) endpointModels(ctx context.Context) ([]wire.Model, []wire.EndpointStatus) {
	statuses := make([]wire.EndpointStatus, len(s.endpointList))
	models := make([][]wire.Model, len(s.endpointList))
	var wg sync.WaitGroup
	for i, e := range s.endpointList {
		wg.Go(func() {
			st := wire.EndpointStatus{Name: e.cfg.Name, Kind: e.cfg.Kind, URL: e.cfg.URL}
			ms, err := e.source.Models(ctx)
			if err != nil {
				st.Error, st.Hint = errorOf(err)
			} else {
				st.Reachable = true
			}
			for j := range ms {
				ms[j].Endpoint = e.cfg.Name
			}
			models[i], statuses[i] = ms, st
		})
	}
	wg.Wait()
	var all []wire.Model
	for _, ms := range models {
		all = append(all, ms...)
	}
	return all, statuses
}

// checkEndpoint is the refusal of stream i that names an endpoint that is
// not configured, or a model name that endpoint's kind does not take.
func (s *Server) checkEndpoint(i int, sp wire.StreamSpec) *refusal {
	e := s.endpoints[sp.Endpoint]
	if e == nil {
		hint := "no endpoints are configured: add one with --endpoint NAME=KIND:URL, or in " + endpoints.FileName
		if len(s.endpointList) > 0 {
			names := make([]string, len(s.endpointList))
			for j, e := range s.endpointList {
				names[j] = e.cfg.Name
			}
			hint = "the endpoints are: " + strings.Join(names, ", ") + " (leave endpoint out for the local Ollama)"
		}
		return &refusal{http.StatusBadRequest, fmt.Sprintf("stream %d: unknown endpoint %q", i, sp.Endpoint), hint}
	}
	if e.cfg.Kind == endpoints.KindOpenAI {
		if !validOpenAIModel(sp.Model) {
			return &refusal{http.StatusBadRequest, fmt.Sprintf("stream %d: invalid model name %q", i, sp.Model),
				fmt.Sprintf("a model of an OpenAI-compatible endpoint is its id, up to %d printable characters without spaces", maxModelLen)}
		}
		return nil
	}
	if !ValidModelName(sp.Model) {
		return invalidModel(i, sp.Model)
	}
	return nil
}

// validOpenAIModel reports whether name can be the id of a model of an
// OpenAI-compatible server, which goes into a JSON body only:
// "meta-llama/Llama-3.1-8B-Instruct", "ft:gpt-4o-mini:org::id",
// "/models/qwen.gguf". Printable, without spaces.
func validOpenAIModel(name string) bool {
	if name == "" || len(name) > maxModelLen || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
}
