#!/usr/bin/env bash
# Installs the Ollama binary that the end-to-end tests run (see
# internal/ollamatest): builds Ollama from source with `go install` into the
# user cache, where the tests look for it when ollama is not on PATH and
# TOKENLOOM_OLLAMA_BIN is not set. Does nothing if ollama is already there.
set -euo pipefail

version=v0.11.4

# The same directory as Go's os.UserCacheDir.
case "$(uname -s)" in
Darwin) cache_root="$HOME/Library/Caches" ;;
*) cache_root="${XDG_CACHE_HOME:-$HOME/.cache}" ;;
esac
bin_dir="$cache_root/tokenloom/ollama-$version/bin"

if found="$(command -v ollama)"; then
	echo "ollama is on PATH: $found"
	exit 0
fi
if [[ -x "$bin_dir/ollama" ]]; then
	echo "ollama $version is installed: $bin_dir/ollama"
	exit 0
fi
if ! command -v go >/dev/null; then
	echo "install-ollama.sh: building Ollama needs Go and a C compiler" >&2
	exit 1
fi

# Build outside this repository so that its go.mod is not involved.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "building ollama $version into $bin_dir (this takes a few minutes)"
start=$SECONDS
# The version stamp makes /api/version tell (a plain go install says 0.0.0).
GOBIN="$bin_dir" GOFLAGS=-mod=mod CGO_ENABLED=1 go install \
	-ldflags "-X github.com/ollama/ollama/version.Version=${version#v}" "github.com/ollama/ollama@$version"
echo "installed $bin_dir/ollama in $((SECONDS - start)) s"
