#!/usr/bin/env bash
# Starts Tokenloom from source. Without arguments it streams the built-in demo
# sources demo/hello and demo/hamlet side by side; with arguments it runs
# `tokenloom ARGS...` (see `scripts/start.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian-deps.sh gcc libc6-dev
if [[ $# -eq 0 ]]; then
	set -- run -m demo/hello -m demo/hamlet -p "Say hello, then recite Hamlet."
fi
exec go run ./cmd/tokenloom "$@"
