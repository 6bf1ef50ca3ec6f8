#!/usr/bin/env bash
# Runs Tokenloom's whole test suite, installing first what it needs: a C
# compiler and the libraries Fyne builds against, Xvfb and ImageMagick for the
# test that runs the app in a real window, Chromium for the bench's browser
# peer, and the Ollama binary that the end-to-end tests run against a tiny
# generated model (built once into the user cache). Besides the tests: gofmt,
# go vet and staticcheck (a pinned version, run with go run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian-deps.sh git ca-certificates $(scripts/fyne-deps.sh) xvfb xauth imagemagick chromium
scripts/install-ollama.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
	echo "not gofmt-formatted:" $unformatted >&2
	exit 1
fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test -race"
go test -race -count=1 -timeout 30m ./...
# Fuzzing, bounded by count: the decoder of POST /api/runs and the client's
# SSE event decoder get 60,000 arbitrary inputs each (about 15 s on an idle
# 2-core machine). A crasher is saved under the package's testdata/fuzz/
# and then runs with every go test. Not -fuzztime 15s: Go 1.26's fuzzing
# coordinator can fail a target with a bare "context deadline exceeded" when
# a duration runs out on a busy machine (go.dev/issue/75804, fixed in 1.27).
echo "== go test -fuzz"
go test -run '^$' -fuzz '^FuzzRunRequest$' -fuzztime 60000x -fuzzminimizetime 2000x ./server/
go test -run '^$' -fuzz '^FuzzDecodeEvent$' -fuzztime 60000x -fuzzminimizetime 2000x ./client/
# The benchmarks, briefly, so that their figures show in the log; they fail
# only on errors (lost events, wrong texts), never on speed. The budgets are
# measured by tokenloom bench (scripts/bench.sh, docs/performance.md).
echo "== go test -bench"
go test -run '^$' -bench . -benchtime 200ms -count 1 ./server/ ./client/ ./ui/widgets/
