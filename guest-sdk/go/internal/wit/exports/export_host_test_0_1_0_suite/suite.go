// Package export_host_test_0_1_0_suite implements the exported `suite` interface of the
// 0.1 world, `tester`. build.sh generates the rest of internal/wit from the contract with
// `wit-bindgen go --pkg-name hosttest/internal/wit --generate-stubs --include-versions`
// and replaces the generated stubs of this package (wit_bindings.go) by this file.
package export_host_test_0_1_0_suite

import (
	"hosttest/internal/dispatch"
	"hosttest/internal/wit/imports/host_test_0_1_0_protocol"
)

// ListCases returns the package's named cases, in declaration order.
func ListCases() []string {
	return dispatch.ListCases()
}

// Handle runs the cases a request names.
func Handle(request host_test_0_1_0_protocol.Request) host_test_0_1_0_protocol.Response {
	return dispatch.Handle(request)
}
