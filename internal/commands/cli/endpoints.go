package cli

import (
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// SplitModel reads the value of -m, MODEL or MODEL@ENDPOINT: the model and
// the endpoint that serves it ("" for the local Ollama and the demo
// sources). Model names never hold an @, so the last one splits.
func SplitModel(s string) (model, endpoint string) {
	i := strings.LastIndex(s, "@")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// streamName names a stream in the terminal: its model, and its endpoint
// when it has one (llama3.1:8b@gpu).
func streamName(s wire.StreamCreated) string {
	if s.Endpoint == "" {
		return s.Model
	}
	return s.Model + "@" + s.Endpoint
}
