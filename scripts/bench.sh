#!/usr/bin/env bash
# Measures Tokenloom against its performance budgets at full size: builds
# what it needs like scripts/test.sh (Chromium too, for the browser peer),
# then runs `tokenloom bench --json` in a window under Xvfb against a test
# Ollama serving the tiny model (through the end-to-end test that starts
# one), prints the figures and writes them to build/bench.json.
# docs/performance.md says what they mean.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian-deps.sh git ca-certificates $(scripts/fyne-deps.sh) xvfb xauth chromium
scripts/install-ollama.sh

TOKENLOOM_BENCH_FULL=1 CI=true go test -count=1 -timeout 30m -run '^TestBenchCommand$' -v ./internal/testkit/e2e/ |
	sed -n '/tokenloom bench:/,/^---/p'
echo "figures: build/bench.json"
