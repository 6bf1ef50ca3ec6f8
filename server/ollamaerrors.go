package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/ollama/ollama/api"
)

// silenceError is the error of a request that Ollama left without a byte
// for too long.
func (o *Ollama) silenceError(s *silentError) *SourceError {
	if s.began {
		return &SourceError{
			Message: fmt.Sprintf("Ollama at %s sent nothing for %s in the middle of the reply", o.URL(), humanDuration(s.after)),
			Hint:    "Ollama may be stuck or overloaded; check the log of `ollama serve`, and restart it if it does not recover",
			Err:     s,
		}
	}
	return &SourceError{
		Message: fmt.Sprintf("Ollama at %s sent nothing for %s after the request", o.URL(), humanDuration(s.after)),
		Hint:    "Ollama may be stuck, or still loading a model too big for this machine; check `ollama ps` and the log of `ollama serve`",
		Err:     s,
	}
}

// unreachable is the error of an Ollama that does not answer.
func (o *Ollama) unreachable(cause error) *SourceError {
	if o.endpoint != "" {
		return &SourceError{
			Message: fmt.Sprintf("Ollama endpoint %q is not reachable at %s", o.endpoint, o.URL()),
			Hint:    "check that Ollama runs there (to take requests from other machines it needs OLLAMA_HOST=0.0.0.0), and the endpoint's URL",
			Err:     cause,
		}
	}
	return &SourceError{
		Message: "Ollama is not reachable at " + o.URL(),
		Hint:    "start it with `ollama serve`, or point OLLAMA_HOST at a running Ollama",
		Err:     cause,
	}
}

// classify turns the api client's errors into sentences a person can act on.
func (o *Ollama) classify(err error, model string) error {
	var status api.StatusError
	if errors.As(err, &status) {
		msg := strings.TrimSpace(status.ErrorMessage)
		// Ollama's own 404 of a chat names the model; another server's
		// 404 ("404 page not found") means the URL is not Ollama's.
		if status.StatusCode == http.StatusNotFound && model != "" && strings.Contains(msg, "model") {
			return modelNotFound(model, "run: ollama pull "+model)
		}
		if msg == "" {
			msg = status.Status
		}
		hint := "see the log of `ollama serve` for details"
		if status.StatusCode == http.StatusNotFound {
			hint = "check that the Ollama URL points at Ollama and not at another server"
		}
		return &SourceError{
			Message: fmt.Sprintf("Ollama answered %d: %s", status.StatusCode, truncate(msg, 200)),
			Hint:    hint,
			Err:     err,
		}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &dnsErr),
		errors.As(err, &opErr) && opErr.Op == "dial":
		return o.unreachable(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return &SourceError{
			Message: fmt.Sprintf("Ollama at %s closed the connection", o.URL()),
			Hint:    "Ollama may have stopped or crashed; check that `ollama serve` is still running",
			Err:     err,
		}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return o.unreachable(err)
	}
	// The api client reports both an error line of Ollama's and a line it
	// cannot parse as a plain error holding the text: tell them apart by
	// whether the text reads like a sentence. The last line of a reply cut
	// in the middle is the start of a JSON object.
	text := err.Error()
	var syntax *json.SyntaxError
	if perr := json.Unmarshal([]byte(text), new(any)); strings.HasPrefix(text, "{") &&
		errors.As(perr, &syntax) && syntax.Offset == int64(len(text)) {
		return &SourceError{
			Message: fmt.Sprintf("Ollama's reply broke off in the middle of a line: %s", truncate(text, 200)),
			Hint:    "Ollama may have stopped or crashed; check that `ollama serve` is still running",
			Err:     err,
		}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) || errors.As(err, &syntax) {
		// A JSON line of the wrong shape.
		return &SourceError{
			Message: "Ollama sent a reply Tokenloom cannot read: " + truncate(text, 200),
			Hint:    "check that the Ollama URL points at Ollama and not at another server",
			Err:     err,
		}
	}
	if looksLikeSentence(text) {
		return &SourceError{
			Message: "Ollama failed: " + truncate(text, 200),
			Hint:    "see the log of `ollama serve` for details",
			Err:     err,
		}
	}
	return &SourceError{
		Message: "Ollama sent a reply Tokenloom cannot read: " + truncate(text, 200),
		Hint:    "check that the Ollama URL points at Ollama and not at another server",
		Err:     err,
	}
}
