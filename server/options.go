package server

import "time"

// SourceOption configures a source made by NewOllama, NewOpenAI or NewDemo:
// every source takes the same options, and uses those that concern it (the
// demo sources send no request, so have no silence limits; a model server
// keeps its own pace, whatever the clock).
type SourceOption func(*sourceOptions)

// sourceOptions are the settings the SourceOptions set, with their
// defaults filled in by newSourceOptions.
type sourceOptions struct {
	// startTimeout and stallTimeout bound the model server's silence in a
	// reply (see WithSilenceLimits); <= 0 is no limit.
	startTimeout, stallTimeout time.Duration
	// endpoint is the name of the configured endpoint the source is, for
	// its messages; "" for the local Ollama.
	endpoint string
	// clock paces the demo sources (see WithClock).
	clock Clock
}

func newSourceOptions(opts []SourceOption) sourceOptions {
	o := sourceOptions{startTimeout: DefaultStartTimeout, stallTimeout: DefaultStallTimeout, clock: RealClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithSilenceLimits bounds how long a stream waits for its model server:
// start for the first byte of its reply (loading the model, waiting behind
// other requests and reading the prompt happen before it), stall between
// bytes after that. A stream that waits longer ends with an error saying
// that the server sent nothing for that long, and its request is closed,
// which stops the server's generation. Zero keeps the default
// (DefaultStartTimeout, DefaultStallTimeout); a negative value means no
// limit.
func WithSilenceLimits(start, stall time.Duration) SourceOption {
	return func(o *sourceOptions) {
		if start != 0 {
			o.startTimeout = start
		}
		if stall != 0 {
			o.stallTimeout = stall
		}
	}
}

// asEndpoint names the source as a configured endpoint, for its messages.
func asEndpoint(name string) SourceOption {
	return func(o *sourceOptions) { o.endpoint = name }
}

// WithClock sets the clock the demo sources play their scripts on: when
// each token is due, and their own account of a stream's time
// (Result.Clock). Default RealClock; New passes Config.Clock, so that a
// fake clock plays a demo run without waiting. A nil clock keeps the
// default. The silence limits of a model server keep real time whatever it
// is.
func WithClock(c Clock) SourceOption {
	return func(o *sourceOptions) {
		if c != nil {
			o.clock = c
		}
	}
}
