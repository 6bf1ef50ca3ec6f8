// Package e2e holds Tokenloom's end-to-end tests: a real Ollama (package
// ollamatest, with the tiny deterministic model of package testmodel) behind
// the embedded server, followed over SSE by the Go client, and the
// `tokenloom` binary itself with OLLAMA_HOST pointing at that Ollama.
//
// The package has no code of its own. The tests skip without an ollama
// binary, except under CI=true, where they fail; the tests that need no
// Ollama (an Ollama that is not running, the demo sources) always run.
package e2e
