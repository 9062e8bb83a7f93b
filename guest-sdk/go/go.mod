module hosttest

go 1.27.1

// Both are resolved locally by build.sh (a go.work with `replace` lines): the SDK from its
// copy with freshly generated bindings, and the bindings' runtime package from the
// `wit-bindgen-go` crate that matches the `wit-bindgen` CLI.
require go.bytecodealliance.org/pkg v0.4.0
