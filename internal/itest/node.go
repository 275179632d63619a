package itest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NodeLayout says where tools/nodeproducer puts a record's run and step.
type NodeLayout string

const (
	// NodeCICD: resource attributes cicd.pipeline.run.id,
	// cicd.pipeline.task.run.id and cicd.pipeline.task.name, with a
	// service.name of the producer's own ("checkout-js" unless Service
	// says).
	NodeCICD NodeLayout = "cicd"
	// NodeRecord: the same three names as log-record attributes only; the
	// resource has only service.name ("billing-api" unless Service says).
	NodeRecord NodeLayout = "record"
	// NodeZenML: as ZenML's OpenTelemetry log store writes a step's logs:
	// log-record attributes zenml.pipeline.run.id, zenml.step.run.id,
	// zenml.step.run.name, zenml.log.id, zenml.log.source, ...; resource
	// service.name "zenml".
	NodeZenML NodeLayout = "zenml"
)

// NodeStep is one run of the Node.js producer: which step, how, how many.
type NodeStep struct {
	Layout   NodeLayout // NodeCICD when empty
	RunID    string
	StepID   string
	StepName string // cicd.pipeline.task.name (zenml.step.run.name); StepID when empty
	Source   string // the zenml layout's zenml.log.source; "step" when empty
	Service  string // service.name; the layout's own when empty
	Count    int    // records to log; 200 when 0
}

// NodeRun is what a producer run reported: how many records it exported,
// and the first and last of their timestamps (strictly increasing).
type NodeRun struct {
	Layout      NodeLayout
	Records     int
	First, Last time.Time
}

// NodeProducer is tools/nodeproducer, a pipeline step written with the
// official OpenTelemetry JS SDK (npm @opentelemetry/sdk-logs, the OTLP/HTTP
// protobuf exporter), with its packages installed by tools/node.sh.
type NodeProducer struct {
	Node    string // the node binary
	Script  string // tools/nodeproducer/producer.cjs
	Modules string // the installed node_modules directory
}

// FindNodeProducer returns the producer, or an error that says what is
// missing and how to install it. $RUNLOG_NODE_BIN names node when set (else
// node on the PATH); $RUNLOG_NODEPRODUCER_DIR names the install directory
// when set, else it is where `tools/node.sh path` says (the cache directory
// of tools/servers.sh, then node/nodeproducer-<digest of the lockfile>).
func FindNodeProducer() (*NodeProducer, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	node := os.Getenv("RUNLOG_NODE_BIN")
	if node == "" {
		if node, err = exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("itest: no node on the PATH (%w); install Node.js 20.6 or later, or set $RUNLOG_NODE_BIN", err)
		}
	}
	dir := os.Getenv("RUNLOG_NODEPRODUCER_DIR")
	if dir == "" {
		out, err := exec.Command("sh", filepath.Join(root, "tools", "node.sh"), "path").Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
			}
			return nil, fmt.Errorf("itest: tools/node.sh path: %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	// node.sh marks an install complete last; without the mark it is
	// absent or half done.
	if !isFile(filepath.Join(dir, ".installed")) {
		return nil, fmt.Errorf("itest: the nodeproducer's npm packages are not installed in %s; run `tools/node.sh install` (or `make node`), or set $RUNLOG_NODEPRODUCER_DIR", dir)
	}
	return &NodeProducer{
		Node:    node,
		Script:  filepath.Join(root, "tools", "nodeproducer", "producer.cjs"),
		Modules: filepath.Join(dir, "node_modules"),
	}, nil
}

// NeedNodeProducer returns FindNodeProducer's producer, or ends the test:
// it fails when servers are required ($CI is true, $RUNLOG_REQUIRE_SERVERS
// is 1), else skips, as the servers do.
func NeedNodeProducer(t testing.TB) *NodeProducer {
	t.Helper()
	if testing.Short() {
		t.Skip("itest: -short: not running the Node.js producer")
	}
	p, err := FindNodeProducer()
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("RUNLOG_REQUIRE_SERVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// Command returns the command that runs the producer for s, exporting to
// the OTLP/HTTP base URL endpoint (OTEL_EXPORTER_OTLP_ENDPOINT; /v1/logs
// is appended). No other OTEL_* variable of the test's environment reaches
// it.
func (p *NodeProducer) Command(ctx context.Context, endpoint string, s NodeStep) *exec.Cmd {
	args := []string{p.Script,
		"--layout", string(cmp.Or(s.Layout, NodeCICD)),
		"--run", s.RunID,
		"--step", s.StepID,
		"--count", strconv.Itoa(cmp.Or(s.Count, 200)),
	}
	if s.StepName != "" {
		args = append(args, "--step-name", s.StepName)
	}
	if s.Source != "" {
		args = append(args, "--source", s.Source)
	}
	if s.Service != "" {
		args = append(args, "--service", s.Service)
	}
	cmd := exec.CommandContext(ctx, p.Node, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "NODE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"NODE_PATH="+p.Modules,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+strings.TrimSuffix(endpoint, "/"),
	)
	return cmd
}

// Run runs the producer for s against endpoint (see Command) and returns
// what it reported; it fails the test, with the producer's output, when
// the producer exits non-zero (any export failed) or reports anything
// else than s asked for.
func (p *NodeProducer) Run(t testing.TB, endpoint string, s NodeStep) NodeRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.Command(ctx, endpoint, s)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("itest: the Node.js producer (%s %s): %v\n%s%s", p.Node, strings.Join(cmd.Args[1:], " "), err, stdout.Bytes(), stderr.Bytes())
	}
	r, err := parseNodeRun(stdout.Bytes())
	if err != nil {
		t.Fatalf("itest: the Node.js producer's report: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	if want := cmp.Or(s.Count, 200); r.Records != want || r.Layout != cmp.Or(s.Layout, NodeCICD) {
		t.Fatalf("itest: the Node.js producer reports %d records in layout %q; asked for %d in %q", r.Records, r.Layout, want, cmp.Or(s.Layout, NodeCICD))
	}
	return r
}

// parseNodeRun reads the producer's one-line JSON report.
func parseNodeRun(b []byte) (NodeRun, error) {
	var rep struct {
		Layout  string `json:"layout"`
		Records int    `json:"records"`
		First   string `json:"first_ns"`
		Last    string `json:"last_ns"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &rep); err != nil {
		return NodeRun{}, err
	}
	first, err1 := strconv.ParseInt(rep.First, 10, 64)
	last, err2 := strconv.ParseInt(rep.Last, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return NodeRun{}, err
	}
	return NodeRun{Layout: NodeLayout(rep.Layout), Records: rep.Records, First: time.Unix(0, first), Last: time.Unix(0, last)}, nil
}
