#!/usr/bin/env bash
# Installs the Ollama binaries that the end-to-end tests run (see
# internal/testkit/ollamatest): builds Ollama from source with `go install` into the
# user cache, where the tests look for it when ollama is not on PATH and
# TOKENLOOM_OLLAMA_BIN is not set: v0.11.4, which the tests are written
# against, and v0.6.5, the oldest version supported, for a short
# compatibility test. Does nothing for a version that is already there.
set -euo pipefail

version=v0.11.4
compat=v0.6.5

# The same directory as Go's os.UserCacheDir.
case "$(uname -s)" in
Darwin) cache_root="$HOME/Library/Caches" ;;
*) cache_root="${XDG_CACHE_HOME:-$HOME/.cache}" ;;
esac

# install VERSION builds ollama VERSION into the cache unless it is there.
install() {
	local v=$1
	local bin_dir="$cache_root/tokenloom/ollama-$v/bin"
	if [[ -x "$bin_dir/ollama" ]]; then
		echo "ollama $v is installed: $bin_dir/ollama"
		return
	fi
	if ! command -v go >/dev/null; then
		echo "install-ollama.sh: building Ollama needs Go and a C compiler" >&2
		exit 1
	fi
	# Build outside this repository so that its go.mod is not involved.
	local work
	work="$(mktemp -d)"
	echo "building ollama $v into $bin_dir (this takes a few minutes)"
	local start=$SECONDS
	# The version stamp makes /api/version tell (a plain go install says
	# 0.0.0). The binary serves the tests' tiny model: its C and C++ (ggml,
	# llama.cpp) built with -O1 and no debug information take about a
	# quarter less time to compile than with cgo's default -O2 -g.
	(cd "$work" && GOBIN="$bin_dir" GOFLAGS=-mod=mod CGO_ENABLED=1 \
		CGO_CFLAGS="${CGO_CFLAGS:--O1}" CGO_CXXFLAGS="${CGO_CXXFLAGS:--O1}" go install \
		-ldflags "-X github.com/ollama/ollama/version.Version=${v#v}" "github.com/ollama/ollama@$v")
	rm -rf "$work"
	echo "installed $bin_dir/ollama in $((SECONDS - start)) s"
}

if found="$(command -v ollama)"; then
	echo "ollama is on PATH: $found (the tests use it; the compatibility test uses $compat)"
else
	install "$version"
fi
install "$compat"
