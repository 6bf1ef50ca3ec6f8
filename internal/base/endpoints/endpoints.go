// Package endpoints is the configuration of the model servers Tokenloom
// streams from besides the local Ollama: named endpoints of kind "ollama" (an
// Ollama at a base URL) or "openai" (an OpenAI-compatible server such as
// vLLM, SGLang, llama.cpp's llama-server, LM Studio or a LiteLLM router).
//
// One configuration serves the app, `tokenloom run` and `tokenloom serve`:
// the file endpoints.json in the user's config folder (File), with the
// --endpoint flags over it (Parse, Load). An API key is never written in
// either: an endpoint names the environment variable that holds it, and the
// key is read from the environment when the server starts (Endpoint.Key).
package endpoints

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Kinds of endpoints.
const (
	KindOllama = "ollama" // an Ollama server: /api/chat, /api/tags
	KindOpenAI = "openai" // an OpenAI-compatible server: /v1/chat/completions, /v1/models
)

// Endpoint is one named model server.
type Endpoint struct {
	// Name is how streams name the endpoint ("gpu"): 1 to 32 letters,
	// digits, '-' or '_', starting with a letter or digit.
	Name string `json:"name"`
	// Kind is KindOllama or KindOpenAI.
	Kind string `json:"kind"`
	// URL is the base URL: http://host:11434 for Ollama, http://host:8000/v1
	// for an OpenAI-compatible server (a URL without a path gets /v1).
	URL string `json:"url"`
	// APIKeyEnv names the environment variable that holds the API key, sent
	// as "Authorization: Bearer KEY" to an OpenAI-compatible server. Empty:
	// no key is sent.
	APIKeyEnv string `json:"api_key_env,omitempty"`
}

// namePattern is an endpoint's name.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// envPattern is an environment variable's name.
var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// FlagSyntax is the syntax of the --endpoint flag, for help texts and errors.
const FlagSyntax = "NAME=KIND:URL[,key=env:VARIABLE]"

// Parse reads the value of an --endpoint flag:
//
//	gpu=ollama:http://10.0.0.5:11434
//	vllm=openai:http://10.0.0.5:8000/v1,key=env:VLLM_KEY
//
// A key is accepted only as env:VARIABLE; the error of a key given by
// value does not repeat it.
func Parse(s string) (Endpoint, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok {
		// Not repeated: it may be anything, a key pasted by mistake.
		return Endpoint{}, fmt.Errorf("endpoint: want %s", FlagSyntax)
	}
	kind, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return Endpoint{}, fmt.Errorf("endpoint %q: want %s", name, FlagSyntax)
	}
	e := Endpoint{Name: name, Kind: kind}
	// The URL may hold commas only in its query, which a base URL has
	// not: the options follow the last comma-separated parts that are
	// key=value.
	parts := strings.Split(rest, ",")
	e.URL = parts[0]
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "key":
			env, ok := strings.CutPrefix(v, "env:")
			if !ok {
				return Endpoint{}, fmt.Errorf("endpoint %q: an API key is given only by the name of an environment variable that holds it: key=env:VARIABLE", name)
			}
			e.APIKeyEnv = env
		default:
			return Endpoint{}, fmt.Errorf("endpoint %q: unknown option %q (want key=env:VARIABLE)", name, k)
		}
	}
	if err := e.check(); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// checkName says what is wrong with an endpoint's name, or nil.
func checkName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("endpoint name %q: use 1 to 32 letters, digits, '-' or '_'", name)
	}
	return nil
}

// check validates e and normalises its URL.
func (e *Endpoint) check() error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	switch e.Kind {
	case KindOllama, KindOpenAI:
	default:
		return fmt.Errorf("endpoint %q: unknown kind %q (want %s or %s)", e.Name, e.Kind, KindOllama, KindOpenAI)
	}
	u, err := url.Parse(strings.TrimSpace(e.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: invalid URL %q: want http://host:port or https://host:port", e.Name, e.URL)
	}
	if u.User != nil {
		// The URL is shown in the app, in /healthz and in error messages.
		return fmt.Errorf("endpoint %q: the URL holds credentials; name an environment variable with the key instead (key=env:VARIABLE, or \"api_key_env\" in the file)", e.Name)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q: the URL %q has a query or fragment: want a base URL", e.Name, e.URL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if e.Kind == KindOpenAI && u.Path == "" {
		u.Path = "/v1"
	}
	e.URL = u.String()
	if e.APIKeyEnv != "" && !envPattern.MatchString(e.APIKeyEnv) {
		return fmt.Errorf("endpoint %q: %q is not the name of an environment variable", e.Name, e.APIKeyEnv)
	}
	return nil
}

// ErrNoKey is the error of Key when the environment variable an endpoint
// names is not set.
var ErrNoKey = errors.New("the environment variable with the API key is not set")

// Key returns the endpoint's API key, read from the environment variable it
// names: "" without one, ErrNoKey (wrapped, naming the variable) when that
// variable is unset or empty.
func (e Endpoint) Key() (string, error) {
	if e.APIKeyEnv == "" {
		return "", nil
	}
	k := os.Getenv(e.APIKeyEnv)
	if k == "" {
		return "", fmt.Errorf("endpoint %q: %w: %s", e.Name, ErrNoKey, e.APIKeyEnv)
	}
	return k, nil
}

// FileName is the name of the endpoints file in Tokenloom's config folder.
const FileName = "endpoints.json"

// File returns where the endpoints file is: endpoints.json in the folder
// tokenloom of os.UserConfigDir ($XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
func File() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder: %w", err)
	}
	return filepath.Join(dir, "tokenloom", FileName), nil
}

// fileShape is the endpoints file:
//
//	{"endpoints": [
//	  {"name": "gpu", "kind": "ollama", "url": "http://10.0.0.5:11434"},
//	  {"name": "vllm", "kind": "openai", "url": "http://10.0.0.5:8000/v1", "api_key_env": "VLLM_KEY"}
//	]}
type fileShape struct {
	Endpoints []Endpoint `json:"endpoints"`
}

// maxFileBytes caps the endpoints file.
const maxFileBytes = 1 << 20

// ReadFile reads the endpoints file at path. A missing file holds no
// endpoints. Unknown fields are refused (an "api_key" among them: keys are
// named by environment variable only), and so are two endpoints of one name.
func ReadFile(path string) ([]Endpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read endpoints: %w", err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: over %d bytes", path, maxFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f fileShape
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w (want %s)", path, err, `{"endpoints":[{"name":"gpu","kind":"ollama","url":"http://host:11434"}]}`)
	}
	seen := map[string]bool{}
	for i := range f.Endpoints {
		e := &f.Endpoints[i]
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("%s: two endpoints named %q", path, e.Name)
		}
		seen[e.Name] = true
	}
	return f.Endpoints, nil
}

// Merge returns the endpoints of the file with those of the flags over
// them: a flag's endpoint replaces the file's of the same name, the others
// follow in their order. Two flags of one name are an error.
func Merge(file, flags []Endpoint) ([]Endpoint, error) {
	out := slices.Clone(file)
	seen := map[string]bool{}
	for _, e := range flags {
		if seen[e.Name] {
			return nil, fmt.Errorf("endpoint %q given twice", e.Name)
		}
		seen[e.Name] = true
		if i := slices.IndexFunc(out, func(o Endpoint) bool { return o.Name == e.Name }); i >= 0 {
			out[i] = e
		} else {
			out = append(out, e)
		}
	}
	return out, nil
}

// Load returns the endpoints of the file (File) with flags over them.
func Load(flags []Endpoint) ([]Endpoint, error) {
	path, err := File()
	if err != nil {
		return Merge(nil, flags)
	}
	file, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Merge(file, flags)
}

// Names lists the endpoints' names, for messages.
func Names(es []Endpoint) []string {
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return names
}

// Validate checks each endpoint as the file's are checked, and that no two
// have one name.
func Validate(es []Endpoint) error { return validate(slices.Clone(es)) }

// validate checks es, putting their URLs in their checked form.
func validate(es []Endpoint) error {
	seen := map[string]bool{}
	for i := range es {
		if err := es[i].check(); err != nil {
			return err
		}
		if seen[es[i].Name] {
			return fmt.Errorf("two endpoints named %q", es[i].Name)
		}
		seen[es[i].Name] = true
	}
	return nil
}

// WriteFile writes es to the endpoints file at path, creating its folder;
// each endpoint is checked first, and two of one name are refused. The file
// is replaced whole (written beside it, then renamed), so a reader never
// sees half of it.
func WriteFile(path string, es []Endpoint) error {
	es = slices.Clone(es) // check puts URLs in their checked form
	if err := validate(es); err != nil {
		return err
	}
	b, err := json.MarshalIndent(fileShape{Endpoints: es}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), FileName+".*")
	if err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write endpoints: %w", err)
	}
	return nil
}
