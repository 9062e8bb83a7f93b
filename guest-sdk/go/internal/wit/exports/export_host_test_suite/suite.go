// Package export_host_test_suite implements the exported `suite` interface of the
// `tester` world. build.sh generates the rest of internal/wit from the contract with
// `wit-bindgen go --pkg-name hosttest/internal/wit --generate-stubs` and replaces the
// generated stubs of this package (wit_bindings.go) by this file.
package export_host_test_suite

import (
	"hosttest/internal/dispatch"
	"hosttest/internal/wit/imports/host_test_protocol"
)

// ListCases returns the package's named cases, in declaration order.
func ListCases() []string {
	return dispatch.ListCases()
}

// Handle runs the cases a request names.
func Handle(request host_test_protocol.Request) host_test_protocol.Response {
	return dispatch.Handle(request)
}
