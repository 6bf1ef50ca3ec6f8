#!/usr/bin/env bash
# Runs Tokenloom's whole test suite, installing first what it needs: a C
# compiler and the libraries Fyne builds against, Xvfb and ImageMagick for the
# test that runs the app in a real window, Chromium for the bench's browser
# peer, and the Ollama binary that the end-to-end tests run against a tiny
# generated model (built once into the user cache). Besides the tests: gofmt,
# go vet and staticcheck (a pinned version, run with go run).
set -euo pipefail
cd "$(dirname "$0")/.."

# step NAME starts a step of the suite; each says how long the one before
# it took, and the end says the total, so that the log tells where the time
# goes.
step_name="" step_start=$SECONDS
step() {
	if [[ -n $step_name ]]; then
		echo "-- $step_name: $((SECONDS - step_start)) s"
	fi
	step_name=$1 step_start=$SECONDS
	[[ -z $1 ]] || echo "== $1"
}
trap 'step ""; echo "-- the suite: $SECONDS s"' EXIT

step "Debian packages, Ollama beside them"
# A compiler first; then Ollama builds (on the processors) while apt fetches
# and unpacks the rest (on the network and the disk).
scripts/debian-deps.sh git ca-certificates gcc g++ libc6-dev
ollama_log=$(mktemp)
scripts/install-ollama.sh >"$ollama_log" 2>&1 &
ollama_pid=$!
scripts/debian-deps.sh $(scripts/fyne-deps.sh) xvfb xauth imagemagick chromium
step "Ollama (what is left of its build)"
ollama_ok=0
wait "$ollama_pid" || ollama_ok=$?
cat "$ollama_log"
rm -f "$ollama_log"
[[ $ollama_ok -eq 0 ]] || exit "$ollama_ok"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
	echo "not gofmt-formatted:" $unformatted >&2
	exit 1
fi
step "go vet"
# With -race, vet compiles what it reads as go test -race does: the two
# share one build instead of two (the only file only a build without -race
# sees is a test's, internal/services/history/norace_test.go).
go vet -race ./...
step "staticcheck"
# Run with -race too, it reads the export data of the build vet just made
# (without, it built everything again: 270 s on a fresh machine, 19 s with).
sc_bin=$(mktemp -d)
GOBIN="$sc_bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOFLAGS=-race "$sc_bin/staticcheck" ./...
rm -rf "$sc_bin"
step "go test -race"
go test -race -count=1 -timeout 30m ./...
# Fuzzing, bounded by count: the decoder of POST /api/runs and the client's
# SSE event decoder get 60,000 arbitrary inputs each (about 15 s on an idle
# 2-core machine). A crasher is saved under the package's testdata/fuzz/
# and then runs with every go test. Not -fuzztime 15s: Go 1.26's fuzzing
# coordinator can fail a target with a bare "context deadline exceeded" when
# a duration runs out on a busy machine (go.dev/issue/75804, fixed in 1.27).
step "go test -fuzz"
go test -run '^$' -fuzz '^FuzzRunRequest$' -fuzztime 60000x -fuzzminimizetime 2000x ./server/
go test -run '^$' -fuzz '^FuzzDecodeEvent$' -fuzztime 60000x -fuzzminimizetime 2000x ./client/
# The benchmarks, briefly, so that their figures show in the log; they fail
# only on errors (lost events, wrong texts), never on speed. The budgets are
# measured by tokenloom bench (scripts/bench.sh, docs/performance.md).
step "go test -bench"
go test -run '^$' -bench . -benchtime 200ms -count 1 ./server/ ./client/ ./ui/widgets/
