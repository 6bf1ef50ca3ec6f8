package endpoints

import (
	"errors"
	"fmt"
	"strings"
)

// ModelRef names a model and the endpoint that serves it. It is written
// MODEL@ENDPOINT ("llama3.1:8b@gpu", as `tokenloom run -m` and the app's
// model pickers name it), or MODEL alone for a model of the local Ollama or
// a demo source ("llama3.2", "demo/hello").
type ModelRef struct {
	// Model is the model's name, as its server knows it.
	Model string
	// Endpoint is the name of the endpoint that serves it; "" for the
	// local Ollama and the demo sources.
	Endpoint string
}

// ParseModelRef reads a ModelRef written MODEL or MODEL@ENDPOINT. The last
// "@" splits: Ollama's model names hold none, but the id of a model of an
// OpenAI-compatible server may ("claude-3-5-sonnet@20240620@router" is that
// model at the endpoint router). Spaces around the whole and around each
// part are dropped. It refuses an empty model, an "@" with no endpoint
// after it, and an endpoint name that no endpoint can have; whether the
// model and the endpoint exist is the server's to say.
func ParseModelRef(s string) (ModelRef, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndex(s, "@")
	if i < 0 {
		if s == "" {
			return ModelRef{}, errors.New("no model named: want MODEL or MODEL@ENDPOINT")
		}
		return ModelRef{Model: s}, nil
	}
	r := ModelRef{Model: strings.TrimSpace(s[:i]), Endpoint: strings.TrimSpace(s[i+1:])}
	switch {
	case r.Model == "":
		return ModelRef{}, fmt.Errorf("%q: no model before the @: want MODEL@ENDPOINT", s)
	case r.Endpoint == "":
		return ModelRef{}, fmt.Errorf("%q: no endpoint after the @: want MODEL@ENDPOINT, or MODEL alone for the local Ollama", s)
	}
	if err := checkName(r.Endpoint); err != nil {
		return ModelRef{}, fmt.Errorf("%q: %w", s, err)
	}
	return r, nil
}

// String writes r as ParseModelRef reads it: MODEL@ENDPOINT, or MODEL when
// it has no endpoint.
func (r ModelRef) String() string {
	if r.Endpoint == "" {
		return r.Model
	}
	return r.Model + "@" + r.Endpoint
}
