#!/bin/sh
# Print the path of the WASI preview1 *reactor* adapter (wasi_snapshot_preview1.reactor.wasm),
# which turns a wasm32-wasi core module into a component. It ships in the crates.io crate
# `wasi-preview1-component-adapter-provider` (artefacts/); this script gets that crate with
# cargo alone (a throwaway crate depending on it, `cargo metadata` downloads it into the
# cargo registry) and keeps a copy in ${XDG_CACHE_HOME:-~/.cache}/host-guest-sdk-c.
# Needs only cargo and crates.io. Version: $HOST_WASI_ADAPTER_VERSION (default 48.0.1,
# wasmtime 48's adapter, as the host runs wasmtime 48).
set -eu

VERSION=${HOST_WASI_ADAPTER_VERSION:-48.0.1}
CACHE=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/host-guest-sdk-c
FILE=$CACHE/wasi_snapshot_preview1.reactor-$VERSION.wasm
if [ -f "$FILE" ]; then
    echo "$FILE"
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/host-c-adapter.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$TMP/src"
cat > "$TMP/Cargo.toml" <<EOF
[package]
name = "fetch-adapter"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "src/lib.rs"

[dependencies]
wasi-preview1-component-adapter-provider = "=$VERSION"

[workspace]
EOF
: > "$TMP/src/lib.rs"
# Offline first (the crate may be in the registry already), then from crates.io.
if ! cargo metadata --quiet --offline --format-version 1 --manifest-path "$TMP/Cargo.toml" > "$TMP/metadata.json" 2>/dev/null; then
    cargo metadata --quiet --format-version 1 --manifest-path "$TMP/Cargo.toml" > "$TMP/metadata.json"
fi
MANIFEST=$(grep -o '"manifest_path":"[^"]*wasi-preview1-component-adapter-provider-[^"]*"' "$TMP/metadata.json" | head -n 1 | sed 's/^"manifest_path":"//; s/"$//')
ADAPTER=$(dirname "$MANIFEST")/artefacts/wasi_snapshot_preview1.reactor.wasm
if [ ! -f "$ADAPTER" ]; then
    echo "fetch-adapter.sh: no reactor adapter in wasi-preview1-component-adapter-provider $VERSION (looked at $ADAPTER)" >&2
    exit 1
fi
mkdir -p "$CACHE"
cp "$ADAPTER" "$FILE.$$"
mv "$FILE.$$" "$FILE"
echo "$FILE"
