package hosttest

import (
	"time"

	"hosttest/internal/wit/imports/host_test_0_1_0_log"
	"hosttest/internal/wit/imports/host_test_0_1_0_nodes"
	"hosttest/internal/wit/imports/host_test_0_1_0_timing"
)

// Level is a log level of the host's report.
type Level uint8

const (
	Trace Level = Level(host_test_0_1_0_log.Level_Trace)
	Debug Level = Level(host_test_0_1_0_log.Level_Debug)
	Info  Level = Level(host_test_0_1_0_log.Level_Info)
	Warn  Level = Level(host_test_0_1_0_log.Level_Warn)
	Error Level = Level(host_test_0_1_0_log.Level_Error)
)

// Log records message at level for the running case (`log.log`).
func Log(level Level, message string) {
	host_test_0_1_0_log.Log(host_test_0_1_0_log.Level(level), message)
}

// NodeInfo is one native node of the running test (`nodes.node-info`).
type NodeInfo struct {
	// Name is the node's name (`fake_node_name` in tests.toml).
	Name string
	// Host is the IP address the node listens on, e.g. 127.0.0.1.
	Host string
	// Port is the TCP port the node listens on.
	Port uint16
	// Address is `host:port`.
	Address string
	// Home is the node's home directory on the host machine (not visible in the sandbox).
	Home string
}

func nodeInfo(n host_test_0_1_0_nodes.NodeInfo) NodeInfo {
	return NodeInfo{Name: n.Name, Host: n.Host, Port: n.Port, Address: n.Address, Home: n.Home}
}

// Nodes are every node of the running test, in tests.toml order (`nodes.all`).
func Nodes() []NodeInfo {
	all := host_test_0_1_0_nodes.All()
	infos := make([]NodeInfo, len(all))
	for i, n := range all {
		infos[i] = nodeInfo(n)
	}
	return infos
}

// LookupNode is the node called name, if the test has one (`nodes.get`).
func LookupNode(name string) (NodeInfo, bool) {
	found := host_test_0_1_0_nodes.Get(name)
	if found.IsNone() {
		return NodeInfo{}, false
	}
	return nodeInfo(found.Some()), true
}

// NodeInfo is the node called name; the case fails at the caller's line if there is none.
func (t *T) NodeInfo(name string) NodeInfo {
	t.Helper()
	info, ok := LookupNode(name)
	if !ok {
		t.Fatalf("no node named %q in this test (nodes: %v)", name, t.nodeNames)
	}
	return info
}

// TimeoutScale is the factor every timeout of this run was multiplied by
// (`host run --timeout-scale`, 1.0 by default).
func TimeoutScale() float64 {
	return host_test_0_1_0_timing.TimeoutScale()
}

// Scaled is d multiplied by the run's timeout scale: use it for the package's own waits.
func Scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * TimeoutScale())
}

// Sleep sleeps for d multiplied by the run's timeout scale.
func Sleep(d time.Duration) {
	time.Sleep(Scaled(d))
}
