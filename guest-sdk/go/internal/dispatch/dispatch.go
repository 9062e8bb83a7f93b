// Package dispatch connects the generated export of the `suite` interface to the
// SDK's runner. The runner (package hosttest) imports the generated exports, and the
// exports call back into the runner through these variables: no import cycle.
package dispatch

import "hosttest/internal/wit/imports/host_test_protocol"

// ListCases implements `suite.list-cases`; set by package hosttest.
var ListCases func() []string

// Handle implements `suite.handle`; set by package hosttest.
var Handle func(request host_test_protocol.Request) host_test_protocol.Response
