package hosttest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"hosttest/internal/wit/imports/host_test_0_1_0_control"
	"hosttest/internal/wit/imports/host_test_0_1_0_events"
	"hosttest/internal/wit/imports/host_test_0_1_0_nodes"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// DefaultWait is how long a wait lasts unless told otherwise (the case's deadline still
// bounds it).
const DefaultWait = 10 * time.Second

// NodeErrorKind says why a call about a node did not do what it was asked.
type NodeErrorKind uint8

const (
	UnknownNode NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_UnknownNode)
	NotRunning  NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_NotRunning)
	Timeout     NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_Timeout)
	Terminated  NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_Terminated)
	Invalid     NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_Invalid)
	Failed      NodeErrorKind = NodeErrorKind(host_test_0_1_0_nodes.NodeError_Failed)
)

func (k NodeErrorKind) String() string {
	switch k {
	case UnknownNode:
		return "unknown node"
	case NotRunning:
		return "not running"
	case Timeout:
		return "timeout"
	case Terminated:
		return "terminated"
	case Invalid:
		return "invalid"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("node error %d", uint8(k))
}

// NodeError is the error of a call about a node (`nodes.node-error`). Test its kind with
// errors.Is(err, hosttest.ErrTimeout) and the like.
type NodeError struct {
	Kind    NodeErrorKind
	Message string
}

func (e *NodeError) Error() string {
	return e.Kind.String() + ": " + e.Message
}

// Is matches a NodeError of the same kind (and the same message, when target has one).
func (e *NodeError) Is(target error) bool {
	other, ok := target.(*NodeError)
	return ok && other.Kind == e.Kind && (other.Message == "" || other.Message == e.Message)
}

// Kinds to test with errors.Is.
var (
	ErrUnknownNode = &NodeError{Kind: UnknownNode}
	ErrNotRunning  = &NodeError{Kind: NotRunning}
	ErrTimeout     = &NodeError{Kind: Timeout}
	ErrTerminated  = &NodeError{Kind: Terminated}
	ErrInvalid     = &NodeError{Kind: Invalid}
	ErrFailed      = &NodeError{Kind: Failed}
)

func nodeError(e host_test_0_1_0_nodes.NodeError) error {
	kind := NodeErrorKind(e.Tag())
	var message string
	switch kind {
	case UnknownNode:
		message = e.UnknownNode()
	case NotRunning:
		message = e.NotRunning()
	case Timeout:
		message = e.Timeout()
	case Terminated:
		message = e.Terminated()
	case Invalid:
		message = e.Invalid()
	case Failed:
		message = e.Failed()
	}
	return &NodeError{Kind: kind, Message: message}
}

// result turns a generated result into Go's (value, error).
func result[V any](r witTypes.Result[V, host_test_0_1_0_nodes.NodeError]) (V, error) {
	if r.IsErr() {
		var zero V
		return zero, nodeError(r.Err())
	}
	return r.Ok(), nil
}

// Event is one event from a node's event pipe (`events.event`).
type Event struct {
	// Node is the node that emitted it.
	Node string
	// Seq is its position in the node's event record, from 0 at its first start.
	Seq uint64
	// Name is the event's name (`ready`, `set`, …).
	Name string
	// Value is the event's value as JSON text.
	Value string
	// Section is Tezt's `section`, when the event came in the fd-sink shape.
	Section []string
	// TimeMs is when the host read it, in milliseconds since the Unix epoch.
	TimeMs uint64
}

// Decode unmarshals the event's JSON value into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal([]byte(e.Value), v); err != nil {
		return fmt.Errorf("event %s #%d of %s: %w", e.Name, e.Seq, e.Node, err)
	}
	return nil
}

func event(e host_test_0_1_0_events.Event) Event {
	return Event{Node: e.Node, Seq: e.Seq, Name: e.Name, Value: e.Value, Section: e.Section, TimeMs: e.TimeMs}
}

// Position is where a wait or a read starts: Beginning, Now, or Seq(n).
type Position struct {
	inner host_test_0_1_0_events.Position
}

var (
	// Beginning is the node's first event.
	Beginning = Position{host_test_0_1_0_events.MakePositionBeginning()}
	// Now is the next event the node emits from now on.
	Now = Position{host_test_0_1_0_events.MakePositionNow()}
)

// Seq is the position of the event with sequence number n (from an Event or Node.Cursor).
func Seq(n uint64) Position { return Position{host_test_0_1_0_events.MakePositionSeq(n)} }

// Node is a node of the test, by name, to observe and drive. Calls about a node the test
// does not have return an error of kind UnknownNode.
type Node struct{ name string }

// NodeNamed is the node called name.
func NodeNamed(name string) Node { return Node{name: name} }

// Node is the node called name (see NodeNamed).
func (t *T) Node(name string) Node { return Node{name: name} }

// Name is the node's name.
func (n Node) Name() string { return n.name }

// Info is what the test knows about the node (`nodes.get`).
func (n Node) Info() (NodeInfo, bool) { return LookupNode(n.name) }

// NamedPort is one named port of a node (`ports = ["client", "peer"]` in tests.toml).
type NamedPort struct {
	// Name is the port's name, as tests.toml declares it.
	Name string
	// Port is the TCP port the host picked for it (per node, per test).
	Port uint16
	// Address is `host:port`.
	Address string
}

// Ports are the node's named ports, in tests.toml order; none when it declares none
// (`nodes.ports`).
func (n Node) Ports() ([]NamedPort, error) {
	ports, err := result(host_test_0_1_0_nodes.Ports(n.name))
	out := make([]NamedPort, len(ports))
	for i, p := range ports {
		out[i] = NamedPort{Name: p.Name, Port: p.Port, Address: p.Address}
	}
	return out, err
}

// Port is the TCP port the host picked for the node's port called name; an error of kind
// Invalid when the node declares no such port.
func (n Node) Port(name string) (uint16, error) {
	port, err := n.namedPort(name)
	return port.Port, err
}

// Address is `host:port` of the node's port called name: NodeNamed("e1").Address("client").
func (n Node) Address(name string) (string, error) {
	port, err := n.namedPort(name)
	return port.Address, err
}

func (n Node) namedPort(name string) (NamedPort, error) {
	ports, err := n.Ports()
	if err != nil {
		return NamedPort{}, err
	}
	known := make([]string, len(ports))
	for i, p := range ports {
		if p.Name == name {
			return p, nil
		}
		known[i] = p.Name
	}
	if len(known) == 0 {
		known = []string{"none declared"}
	}
	return NamedPort{}, &NodeError{Kind: Invalid, Message: fmt.Sprintf("node %s has no port named %q (its ports: %s)", n.name, name, strings.Join(known, ", "))}
}

// AddNode creates the node name from the template node template of tests.toml
// (`template = true`; `control.add-node`). It is not started yet: its ports are known (see
// Address), so they can be announced first; Start boots it and waits until it is ready.
// The host stops it at the test's end. extraArgs are appended to the template's arguments
// and env is set on top of its environment; both may use placeholders (`{port.peer}`).
func AddNode(template, name string, extraArgs []string, env map[string]string) (Node, error) {
	keys := make([]string, 0, len(env))
	for key := range env {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	pairs := make([]witTypes.Tuple2[string, string], len(keys))
	for i, key := range keys {
		pairs[i] = witTypes.Tuple2[string, string]{F0: key, F1: env[key]}
	}
	if extraArgs == nil {
		extraArgs = []string{}
	}
	added, err := result(host_test_0_1_0_control.AddNode(template, host_test_0_1_0_control.NewNode{Name: name, ExtraArgs: extraArgs, Env: pairs}))
	if err != nil {
		return Node{}, err
	}
	return Node{name: added.Name}, nil
}

// WaitFor starts building a wait for the first event called name (see Wait); by default
// from the node's first event, for DefaultWait.
func (n Node) WaitFor(name string) *Wait {
	return &Wait{node: n.name, event: name, start: Beginning, timeout: DefaultWait}
}

// Cursor is the sequence number the node's next event will get: pass it to Wait.Since to
// wait only for what happens from now on (`events.cursor`).
func (n Node) Cursor() (uint64, error) { return result(host_test_0_1_0_events.Cursor(n.name)) }

// Events are up to max recorded events at or after start, in order, without waiting
// (`events.read`).
func (n Node) Events(start Position, max uint32) ([]Event, error) {
	recorded, err := result(host_test_0_1_0_events.Read(n.name, start.inner, max))
	events := make([]Event, len(recorded))
	for i, e := range recorded {
		events[i] = event(e)
	}
	return events, err
}

// ExitStatus is how a node process ended.
type ExitStatus struct {
	// Code is the exit code, when it exited by itself.
	Code *int32
	// Signal is the signal number, when a signal ended it.
	Signal *int32
	// Description is the status in words: `exited with code 0`, `killed by signal 9 (SIGKILL)`.
	Description string
}

func (s ExitStatus) String() string { return s.Description }

func exitStatus(s host_test_0_1_0_control.ExitStatus) ExitStatus {
	status := ExitStatus{Description: s.Description}
	if s.Code.IsSome() {
		code := s.Code.Some()
		status.Code = &code
	}
	if s.Signal.IsSome() {
		signal := s.Signal.Some()
		status.Signal = &signal
	}
	return status
}

// State is what a node is doing.
type State uint8

const (
	Running State = State(host_test_0_1_0_control.NodeStatus_Running)
	Stopped State = State(host_test_0_1_0_control.NodeStatus_Stopped)
	Exited  State = State(host_test_0_1_0_control.NodeStatus_Exited)
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Stopped:
		return "stopped"
	case Exited:
		return "exited"
	}
	return fmt.Sprintf("state %d", uint8(s))
}

// NodeStatus is a node's state: its process id when running or stopped, how it ended
// when exited.
type NodeStatus struct {
	State State
	Pid   uint32
	Exit  *ExitStatus
}

func (s NodeStatus) String() string {
	if s.Exit != nil {
		return "exited (" + s.Exit.Description + ")"
	}
	return fmt.Sprintf("%s (pid %d)", s.State, s.Pid)
}

// MemoryUsage is the resident memory of a running node, from /proc.
type MemoryUsage struct {
	PeakRssBytes uint64
	RssBytes     uint64
}

// OutputSource is where an output line came from.
type OutputSource uint8

const (
	Stdout OutputSource = OutputSource(host_test_0_1_0_control.OutputSource_Stdout)
	Stderr OutputSource = OutputSource(host_test_0_1_0_control.OutputSource_Stderr)
)

// OutputLine is one line a node wrote.
type OutputLine struct {
	Seq    uint64
	Source OutputSource
	Text   string
}

func outputLine(l host_test_0_1_0_control.OutputLine) OutputLine {
	return OutputLine{Seq: l.Seq, Source: OutputSource(l.Source), Text: l.Text}
}

func millis(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d / time.Millisecond)
}

func unit(r witTypes.Result[witTypes.Unit, host_test_0_1_0_nodes.NodeError]) error {
	_, err := result(r)
	return err
}

// Terminate sends SIGTERM, then SIGKILL if the node is still alive after grace.
func (n Node) Terminate(grace time.Duration) (ExitStatus, error) {
	status, err := result(host_test_0_1_0_control.Terminate(n.name, millis(grace)))
	return exitStatus(status), err
}

// Kill sends SIGKILL now.
func (n Node) Kill() (ExitStatus, error) {
	status, err := result(host_test_0_1_0_control.Kill(n.name))
	return exitStatus(status), err
}

// Stop sends SIGSTOP: the node freezes, its connections stay open.
func (n Node) Stop() error { return unit(host_test_0_1_0_control.Stop(n.name)) }

// Resume sends SIGCONT: a stopped node goes on.
func (n Node) Resume() error { return unit(host_test_0_1_0_control.Resume(n.name)) }

// Start starts a node that is not running (an exited one again, same configuration and
// home, or one made by AddNode); returns once it is ready.
func (n Node) Start() error { return unit(host_test_0_1_0_control.Start(n.name)) }

// Restart terminates the node (with the configured grace), starts it and waits until ready.
func (n Node) Restart() error { return unit(host_test_0_1_0_control.Restart(n.name)) }

// Status says whether the node is running, stopped or exited.
func (n Node) Status() (NodeStatus, error) {
	status, err := result(host_test_0_1_0_control.Status(n.name))
	if err != nil {
		return NodeStatus{}, err
	}
	switch status.Tag() {
	case host_test_0_1_0_control.NodeStatus_Running:
		return NodeStatus{State: Running, Pid: status.Running()}, nil
	case host_test_0_1_0_control.NodeStatus_Stopped:
		return NodeStatus{State: Stopped, Pid: status.Stopped()}, nil
	default:
		exit := exitStatus(status.Exited())
		return NodeStatus{State: Exited, Exit: &exit}, nil
	}
}

// Memory is the node's peak and current resident memory.
func (n Node) Memory() (MemoryUsage, error) {
	usage, err := result(host_test_0_1_0_control.Memory(n.name))
	return MemoryUsage{PeakRssBytes: usage.PeakRssBytes, RssBytes: usage.RssBytes}, err
}

// Output is up to max lines the node wrote, with a sequence number of from or more.
func (n Node) Output(from uint64, max uint32) ([]OutputLine, error) {
	lines, err := result(host_test_0_1_0_control.Output(n.name, from, max))
	out := make([]OutputLine, len(lines))
	for i, l := range lines {
		out[i] = outputLine(l)
	}
	return out, err
}

// WaitForLine is the first stdout/stderr line at or after from matching the regular
// expression pattern, waiting up to timeout.
func (n Node) WaitForLine(pattern string, from uint64, timeout time.Duration) (OutputLine, error) {
	line, err := result(host_test_0_1_0_control.WaitForLine(n.name, pattern, from, millis(timeout)))
	return outputLine(line), err
}

// Comparison is how a field of an event's value compares with a value.
type Comparison uint8

const (
	Eq Comparison = Comparison(host_test_0_1_0_events.Comparison_Eq)
	Ne Comparison = Comparison(host_test_0_1_0_events.Comparison_Ne)
	Lt Comparison = Comparison(host_test_0_1_0_events.Comparison_Lt)
	Le Comparison = Comparison(host_test_0_1_0_events.Comparison_Le)
	Gt Comparison = Comparison(host_test_0_1_0_events.Comparison_Gt)
	Ge Comparison = Comparison(host_test_0_1_0_events.Comparison_Ge)
)

// Wait is a wait for an event, built step by step:
//
//	event, err := node.WaitFor("set").Filter("writes >= 3").Since(cursor).Timeout(2 * time.Second).Run()
type Wait struct {
	node       string
	event      string
	conditions []host_test_0_1_0_events.Condition
	start      Position
	timeout    time.Duration
	err        error
}

// Filter adds a condition written as `PATH OP VALUE`, with OP one of ==, !=, <, <=, >, >=
// and VALUE JSON (a bare word is taken as a string): `port == 4000`, `key == greeting`,
// `peer.id == "a"`. An empty PATH is the value itself.
func (w *Wait) Filter(expression string) *Wait {
	path, op, value, err := parseCondition(expression)
	if err != nil {
		w.err = err
		return w
	}
	return w.where(path, op, value)
}

// Where adds the condition PATH OP VALUE, with value marshalled to JSON:
// Where("port", hosttest.Eq, info.Port).
func (w *Wait) Where(path string, op Comparison, value any) *Wait {
	encoded, err := json.Marshal(value)
	if err != nil {
		w.err = &NodeError{Kind: Invalid, Message: fmt.Sprintf("condition on %q: %v", path, err)}
		return w
	}
	return w.where(path, op, string(encoded))
}

func (w *Wait) where(path string, op Comparison, value string) *Wait {
	w.conditions = append(w.conditions, host_test_0_1_0_events.Condition{Path: path, Op: host_test_0_1_0_events.Comparison(op), Value: value})
	return w
}

// FromNow waits only for events emitted from now on (the default is the node's whole life).
func (w *Wait) FromNow() *Wait { w.start = Now; return w }

// Since waits only for events with a sequence number of seq or more (from Node.Cursor or an Event).
func (w *Wait) Since(seq uint64) *Wait { w.start = Seq(seq); return w }

// From waits from the given position.
func (w *Wait) From(start Position) *Wait { w.start = start; return w }

// Timeout waits at most this long (the case's deadline still bounds it).
func (w *Wait) Timeout(d time.Duration) *Wait { w.timeout = d; return w }

// Run waits for the event (`events.wait-for`).
func (w *Wait) Run() (Event, error) {
	if w.err != nil {
		return Event{}, w.err
	}
	found, err := result(host_test_0_1_0_events.WaitFor(w.node, w.event, w.conditions, w.start.inner, millis(w.timeout)))
	return event(found), err
}

// parseCondition reads `PATH OP VALUE`.
func parseCondition(expression string) (string, Comparison, string, error) {
	operators := []struct {
		text string
		op   Comparison
	}{{"==", Eq}, {"!=", Ne}, {"<=", Le}, {">=", Ge}, {"<", Lt}, {">", Gt}}
	index, text, op := -1, "", Eq
	for _, candidate := range operators {
		i := strings.Index(expression, candidate.text)
		if i >= 0 && (index < 0 || i < index || (i == index && len(candidate.text) > len(text))) {
			index, text, op = i, candidate.text, candidate.op
		}
	}
	if index < 0 {
		return "", 0, "", &NodeError{Kind: Invalid, Message: fmt.Sprintf("filter %q: no comparison (==, !=, <, <=, >, >=)", expression)}
	}
	path := strings.TrimSpace(expression[:index])
	raw := strings.TrimSpace(expression[index+len(text):])
	if json.Valid([]byte(raw)) && raw != "" {
		return path, op, raw, nil
	}
	quoted, _ := json.Marshal(raw)
	return path, op, string(quoted), nil
}
