// Cases against kvnode nodes, driven through the host: Go's wasip1 port has no sockets,
// so the package observes the nodes' events and output and controls their processes.
package main

import (
	"errors"
	"fmt"
	"time"

	"hosttest"
)

// The value of kvnode's `ready` event.
type ready struct {
	Name string `json:"name"`
	Port uint16 `json:"port"`
	Keys int    `json:"keys"`
}

func init() {
	hosttest.Case("every_node_is_ready_on_its_port", func(t *hosttest.T) {
		nodes := hosttest.Nodes()
		t.Equal(len(nodes), len(t.NodeNames()), "nodes.all and the request name the same nodes")
		for i, info := range nodes {
			t.Equal(info.Name, t.NodeNames()[i], "node %d", i)
			t.Equal(info.Address, fmt.Sprintf("%s:%d", info.Host, info.Port))
			event, err := t.Node(info.Name).WaitFor("ready").Where("port", hosttest.Eq, info.Port).Run()
			t.NoError(err, "ready event of %s", info.Name)
			var value ready
			t.NoError(event.Decode(&value))
			t.Equal(value, ready{Name: info.Name, Port: info.Port, Keys: 0})
			t.Equal(event.Seq, 0, "ready is the first event of %s", info.Name)
		}
	})

	hosttest.Case("nodes_run_and_report_memory_and_output", func(t *hosttest.T) {
		for _, info := range hosttest.Nodes() {
			node := t.Node(info.Name)
			status, err := node.Status()
			t.NoError(err)
			t.Assert(status.State == hosttest.Running && status.Pid > 1, "%s is %v", info.Name, status)
			memory, err := node.Memory()
			t.NoError(err)
			t.Assert(memory.RssBytes > 0 && memory.PeakRssBytes >= memory.RssBytes, "%s memory %+v", info.Name, memory)
			line, err := node.WaitForLine("^kvnode .* listening on ", 0, 5*time.Second)
			t.NoError(err)
			t.Contains(line.Text, fmt.Sprintf("kvnode %s listening on %s", info.Name, info.Address))
		}
	})

	hosttest.Case("restart_emits_ready_again", func(t *hosttest.T) {
		info := t.NodeInfo(t.NodeNames()[0])
		node := t.Node(info.Name)
		before, err := node.Status()
		t.NoError(err)
		cursor, err := node.Cursor()
		t.NoError(err)
		t.NoError(node.Restart())
		event, err := node.WaitFor("ready").Since(cursor).Timeout(10 * time.Second).Run()
		t.NoError(err)
		t.Assert(event.Seq >= cursor, "ready #%d comes after the cursor %d", event.Seq, cursor)
		var value ready
		t.NoError(event.Decode(&value))
		t.Equal(value.Port, info.Port, "the restarted node listens on the same port")
		after, err := node.Status()
		t.NoError(err)
		t.Equal(after.State, hosttest.Running)
		t.NotEqual(after.Pid, before.Pid, "a new process")
		events, err := node.Events(hosttest.Beginning, 10_000)
		t.NoError(err)
		readies := 0
		for _, e := range events {
			if e.Name == "ready" {
				readies++
			}
		}
		t.Assert(readies >= 2, "both starts are recorded, got %d ready events", readies)
	})

	hosttest.Case("waits_time_out_and_unknown_nodes_are_errors", func(t *hosttest.T) {
		node := t.Node(t.NodeNames()[0])
		started := time.Now()
		_, err := node.WaitFor("never-emitted").FromNow().Timeout(200 * time.Millisecond).Run()
		t.Assert(errors.Is(err, hosttest.ErrTimeout), "expected a timeout, got %v", err)
		t.Assert(time.Since(started) >= 150*time.Millisecond, "the wait returned after %v", time.Since(started))
		_, err = hosttest.NodeNamed("ghost.dev").Status()
		t.Assert(errors.Is(err, hosttest.ErrUnknownNode), "expected unknown-node, got %v", err)
		_, found := hosttest.LookupNode("ghost.dev")
		t.Assert(!found, "ghost.dev is not a node of this test")
		_, err = node.WaitFor("ready").Filter("port").Run()
		t.Assert(errors.Is(err, hosttest.ErrInvalid), "a filter without comparison is invalid, got %v", err)
		hosttest.Sleep(20 * time.Millisecond) // Go's timers work inside an exported call
	})

	hosttest.Case("named_ports_and_templates_are_checked", func(t *hosttest.T) {
		node := t.Node(t.NodeNames()[0])
		ports, err := node.Ports()
		t.NoError(err)
		t.Equal(len(ports), 0, "kvnode nodes declare no named ports")
		_, err = node.Port("client")
		t.Assert(errors.Is(err, hosttest.ErrInvalid), "an undeclared port is invalid, got %v", err)
		_, err = node.Address("client")
		t.Assert(errors.Is(err, hosttest.ErrInvalid), "an undeclared port is invalid, got %v", err)
		_, err = hosttest.NodeNamed("ghost.dev").Ports()
		t.Assert(errors.Is(err, hosttest.ErrUnknownNode), "expected unknown-node, got %v", err)
		_, err = hosttest.AddNode("no-such-template", "extra.dev", []string{"--verbose"}, map[string]string{"KV_MODE": "x"})
		t.Assert(err != nil, "a node was added from a template tests.toml does not have")
		t.Logf("add-node refused as expected: %v", err)
	})
}

func main() {}
