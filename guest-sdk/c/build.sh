#!/bin/sh
# Build a C test package into a component of the `tester` world (contract 0.1) or of the
# `suite-tester` world (contract 0.2).
#
#   build.sh [-o OUT] [--wit DIR] [--world NAME] SOURCE.c... [CLANG-FLAG...]
#
# In a package's host-package.toml (the host runs it in the package directory):
#
#   build = ["sh", "../../guest-sdk/c/build.sh", "-o", "{out}", "--wit", "{wit}", "--world", "{world}", "kv.c"]
#   inputs = ["*.c", "*.h", "../../guest-sdk/c/**"]
#
# and for a 0.2 package (HT_SUITE), the 0.2 contract the host writes to {wit}/v0.2:
#
#   build = ["sh", "../../guest-sdk/c/build.sh", "-o", "{out}", "--wit", "{wit}/v0.2", "--world", "suite-tester", "suite.c"]
#
# -o, --wit and --world default to $HOST_OUT, $HOST_WIT_DIR and $HOST_WORLD (what the host
# sets), then to `package.wasm`, the repository's wit/ and `tester`; they come first.
# The other arguments go to clang as they are: sources and flags (`-DNAME`, `-Iinclude`,
# `-O0`, `-lm`).
#
# Steps: wit-bindgen generates the C bindings of a world that is the contract's world plus
# the wasi:sockets TCP imports (wit/deps, WASI 0.2 as wasmtime 48 ships it); clang
# compiles the sources, the SDK (host_test.c, and the contract's `suite` export:
# suite_v0_1.c or suite_v0_2.c, with -DHT_CONTRACT=1 or 2) and the bindings for
# wasm32-wasi as a reactor, with -gline-tables-only so traps have source lines; wasm-tools
# turns the core module into a component with the WASI preview1 reactor adapter
# (fetch-adapter.sh).
#
# Sources are compiled by the paths given, relative to the current directory (the
# package directory), so __FILE__ is `kv.c` and the host finds it next to the package.
#
# Needs: clang, wasm-ld (lld), wasi-libc, libclang-rt-dev-wasm32 (Debian), wit-bindgen
# (wit-bindgen-cli 0.63), wasm-tools. Override the programs with $CC, $WIT_BINDGEN,
# $WASM_TOOLS; the adapter with $HOST_WASI_ADAPTER.
set -eu

SDK=$(cd "$(dirname "$0")" && pwd)
OUT=${HOST_OUT:-}
WIT=${HOST_WIT_DIR:-}
WORLD=${HOST_WORLD:-tester}
CC=${CC:-clang}
WIT_BINDGEN=${WIT_BINDGEN:-wit-bindgen}
WASM_TOOLS=${WASM_TOOLS:-wasm-tools}

# Our options first; everything after them (sources and clang flags) goes to clang as is.
while [ $# -gt 0 ]; do
    case $1 in
        -o) OUT=$2; shift 2 ;;
        --wit) WIT=$2; shift 2 ;;
        --world) WORLD=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) break ;;
    esac
done
[ -n "$OUT" ] || OUT=package.wasm
[ -n "$WIT" ] || WIT=$SDK/../../wit
if [ $# -eq 0 ]; then
    echo "build.sh: no C sources given" >&2
    exit 2
fi
for tool in "$CC" "$WIT_BINDGEN" "$WASM_TOOLS"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build.sh: $tool not found (see guest-sdk/c/README.md: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32; cargo install --locked wit-bindgen-cli@0.63.0 wasm-tools)" >&2
        exit 127
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/host-c-build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# The world: the contract's world plus the sockets the SDK's TCP client uses.
PACKAGE=$(sed -n 's/^package \([^;]*\);.*/\1/p' "$WIT"/*.wit | head -n 1)
case $PACKAGE in
    *@*) INCLUDE="${PACKAGE%@*}/$WORLD@${PACKAGE#*@}" ;;
    *) INCLUDE="$PACKAGE/$WORLD" ;;
esac
# Which `suite` the package exports: 0.1's (TEST_CASE) or 0.2's (HT_SUITE).
case $PACKAGE in
    host:test@0.1.*) CONTRACT=1 ;;
    host:test@0.2.*) CONTRACT=2 ;;
    *)
        echo "build.sh: $WIT holds the contract \`$PACKAGE\`; the C SDK binds host:test 0.1 (wit/) and 0.2 (wit/v0.2/)" >&2
        exit 2
        ;;
esac
mkdir -p "$TMP/wit/deps/contract" "$TMP/gen"
cp "$WIT"/*.wit "$TMP/wit/deps/contract/"
# The contracts it depends on (0.2 imports 0.1's interfaces from its deps/). With two
# versions of host:test in one world wit-bindgen would name 0.1's interfaces
# host_test_0_1_0_*; they keep 0.1's plain names (host_test_log_log…), which the SDK uses.
RENAMES=""
for dep in "$WIT"/deps/*.wit; do
    [ -f "$dep" ] || continue
    cp "$dep" "$TMP/wit/deps/"
    DEP_PACKAGE=$(sed -n 's/^package \([^;]*\);.*/\1/p' "$dep" | head -n 1)
    case $DEP_PACKAGE in
        host:test@*) ;;
        *) continue ;;
    esac
    for interface in $(sed -n 's/^interface \([a-z0-9-]*\) {.*/\1/p' "$dep"); do
        RENAMES="$RENAMES --rename host:test/$interface@${DEP_PACKAGE#*@}=host_test_$(echo "$interface" | tr - _)"
    done
done
# WASI's WIT packages (io, clocks, sockets, …): the one copy, in the repository's wit/deps.
WASI_DEPS=$SDK/../../wit/deps
cp "$WASI_DEPS"/*.wit "$TMP/wit/deps/"
SOCKETS=$(sed -n 's/^package wasi:sockets@\([^;]*\);.*/\1/p' "$WASI_DEPS/sockets.wit")
cat > "$TMP/wit/c-guest.wit" <<EOF
package host:c-guest;

world c-guest {
    include $INCLUDE;
    import wasi:sockets/instance-network@$SOCKETS;
    import wasi:sockets/tcp-create-socket@$SOCKETS;
    import wasi:sockets/tcp@$SOCKETS;
    import wasi:clocks/monotonic-clock@$SOCKETS;
}
EOF
# shellcheck disable=SC2086 # RENAMES is a list of options, split on purpose
if ! "$WIT_BINDGEN" c "$TMP/wit" --world c-guest --out-dir "$TMP/gen" $RENAMES > "$TMP/wit-bindgen.log" 2>&1; then
    cat "$TMP/wit-bindgen.log" >&2
    exit 1
fi

ADAPTER=${HOST_WASI_ADAPTER:-$(sh "$SDK/fetch-adapter.sh")}

"$CC" --target=wasm32-wasi -mexec-model=reactor -O2 -gline-tables-only -std=c11 -D_GNU_SOURCE \
    -DHT_CONTRACT=$CONTRACT -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
    -I"$SDK" -I"$TMP/gen" \
    "$@" "$SDK/host_test.c" "$SDK/suite_v0_$CONTRACT.c" "$TMP/gen/c_guest.c" "$TMP/gen/c_guest_component_type.o" \
    -o "$TMP/core.wasm"

"$WASM_TOOLS" component new "$TMP/core.wasm" --adapt "wasi_snapshot_preview1=$ADAPTER" -o "$OUT"
