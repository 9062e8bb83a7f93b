module go-repeat-helpers

go 1.27.1

require hosttest v0.0.0

// For editors and `go vet`; build.sh resolves hosttest to a copy with generated bindings.
replace hosttest => ../../guest-sdk/go
