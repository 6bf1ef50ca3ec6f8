#!/usr/bin/env bash
# Starts Tokenloom from source: the desktop app, with the built-in demo
# sources when no Ollama is running. Arguments go to tokenloom (see
# `scripts/start.sh --help`; e.g. `scripts/start.sh run -p hi` for the
# terminal). Installs the Debian packages Fyne builds against when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/debian-deps.sh $(scripts/fyne-deps.sh)
mkdir -p build
go build -o build/tokenloom ./cmd/tokenloom
exec build/tokenloom "$@"
