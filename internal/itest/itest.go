// Package itest starts the real servers runlog's integration tests run
// against: VictoriaLogs (a single node, or a cluster of storage nodes
// behind a front node) and an OpenTelemetry Collector, built from the Go
// module proxy by tools/servers.sh into a cache directory, the collector
// configured with deploy/otelcol/config.yaml (the file docker-compose.yaml
// uses), listening on loopback ports chosen at run time, and stopped when
// the test ends.
//
//	vl := itest.StartVictoriaLogs(t)                  // vl.URL: http://127.0.0.1:port
//	col := itest.StartCollector(t, vl.OTLPEndpoint()) // col.OTLPEndpoint, col.FileDir
//	vl.Stop(); vl.Start(t)                            // an outage, same port and data
//	cl := itest.StartVictoriaLogsCluster(t, 2)        // cl.URL: the front node
//	cl.Storage[1].Stop()                              // queries through cl.URL fail: 502
//
// It also runs a foreign writer: tools/nodeproducer, a pipeline step
// written with the official OpenTelemetry JS SDK, whose npm packages
// tools/node.sh installs into the same cache.
//
//	p := itest.NeedNodeProducer(t)
//	p.Run(t, col.OTLPEndpoint, itest.NodeStep{RunID: "r", StepID: "js"}) // 200 records, layout cicd
//
// Without the binaries (or the producer), and in -short mode, tests skip
// with a message that says how to build them; when $CI is true or
// $RUNLOG_REQUIRE_SERVERS is 1, a missing binary fails the test instead.
package itest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a server may take to become ready:
// VictoriaLogs and the collector need about 1 s each on an idle machine.
const readyTimeout = 60 * time.Second

// RepoRoot returns the module's root directory: the nearest directory
// above the working directory that holds go.mod and deploy/.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isDir(filepath.Join(dir, "deploy")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("itest: cannot find the repository root (go.mod and deploy/) above the working directory")
		}
		dir = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Binary returns the path of a server binary: victoria-logs, vlogscli or
// otelcol. $RUNLOG_VICTORIA_LOGS_BIN, $RUNLOG_VLOGSCLI_BIN or
// $RUNLOG_OTELCOL_BIN names it when set; otherwise it is where
// tools/servers.sh builds it, which `tools/servers.sh path NAME` prints
// (the cache directory $RUNLOG_CACHE, else $XDG_CACHE_HOME/runlog, else
// ~/.cache/runlog, then bin/NAME-VERSION). The error says how to build a
// missing one.
func Binary(name string) (string, error) {
	switch name {
	case "victoria-logs", "vlogscli", "otelcol":
	default:
		return "", fmt.Errorf("itest: unknown server %q; want victoria-logs, vlogscli or otelcol", name)
	}
	env := "RUNLOG_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_BIN"
	p := os.Getenv(env)
	if p == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		out, err := exec.Command("sh", filepath.Join(root, "tools", "servers.sh"), "path", name).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
			}
			return "", fmt.Errorf("itest: tools/servers.sh path %s: %w", name, err)
		}
		p = strings.TrimSpace(string(out))
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("itest: %s is not built (%w); run `tools/servers.sh build %s` (or `make servers`), or set $%s", name, err, name, env)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("itest: %s at %s is not an executable file; run `tools/servers.sh build %s` (or `make servers`), or set $%s", name, p, name, env)
	}
	return p, nil
}

// needBinary returns Binary(name), or ends the test: it fails when servers
// are required ($CI is true, $RUNLOG_REQUIRE_SERVERS is 1), else skips.
func needBinary(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("itest: -short: not starting %s", name)
	}
	p, err := Binary(name)
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("RUNLOG_REQUIRE_SERVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return p
}

// FreePort returns a loopback TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is a server started by a test, in a process group of its own so
// that stopping it stops whatever it started.
type process struct {
	name string
	bin  string
	args []string
	env  []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	out    *tail
}

// tail keeps the last 64 KiB a process wrote, for failure messages.
type tail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.buf.Len() > 64<<10 {
		b := w.buf.Bytes()
		w.buf = *bytes.NewBuffer(append([]byte(nil), b[len(b)-32<<10:]...))
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// start runs the process and polls ready until it returns nil; it returns
// an error, with the server's output, when the process exits first or is
// not ready within readyTimeout.
func (p *process) start(ready func(out string) error) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return fmt.Errorf("itest: %s is already running", p.name)
	}
	out := &tail{}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...) // later entries win
	cmd.Stdout, cmd.Stderr = out, out
	newGroup(cmd)
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("itest: start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	p.cmd, p.exited, p.out = cmd, exited, out
	p.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		err := ready(out.String())
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			return fmt.Errorf("itest: %s exited before it was ready: %v\n%s", p.name, waitErr, out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("itest: %s not ready after %v: %v\n%s", p.name, readyTimeout, err, out)
		}
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after 10 s. It does
// nothing when the process is not running.
func (p *process) stop() { p.end(syscall.SIGTERM, 10*time.Second) }

// kill ends the process group with SIGKILL at once.
func (p *process) kill() { p.end(syscall.SIGKILL, 0) }

// end sends sig to the process group and waits for the process, sending
// SIGKILL after grace.
func (p *process) end(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	signalGroup(cmd, sig)
	if sig != syscall.SIGKILL {
		select {
		case <-exited:
			return
		case <-time.After(grace):
			signalGroup(cmd, syscall.SIGKILL)
		}
	}
	<-exited
}

// cleanup stops the process when the test ends, and shows the end of its
// output if the test failed.
func (p *process) cleanup(t testing.TB) {
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			out := p.Output()
			if len(out) > 4<<10 {
				out = "..." + out[len(out)-4<<10:]
			}
			t.Logf("itest: the end of the output of %s:\n%s", p.name, out)
		}
	})
}

// Output returns the last 32 to 64 KiB that the server wrote since it was
// last started.
func (p *process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// VictoriaLogs is a VictoriaLogs node started by StartVictoriaLogs or
// StartVictoriaLogsCluster.
type VictoriaLogs struct {
	process
	URL string // http://127.0.0.1:port, the HTTP API (insert, select, /health)
	Dir string // -storageDataPath, kept across Stop, Kill and Start
}

// StartVictoriaLogs starts a single-node VictoriaLogs on a free loopback
// port with a temporary data directory (-httpListenAddr, -storageDataPath,
// -loggerLevel=WARN, then flags, such as "-delete.enable" or
// "-retentionPeriod=1y"), waits until GET /health answers 200, and stops
// it when the test ends.
//
// Records it accepted become visible to queries within about a second,
// and reach the disk within -inmemoryDataFlushInterval (5 s by default):
// Stop flushes them, Kill loses those not on disk yet.
func StartVictoriaLogs(t testing.TB, flags ...string) *VictoriaLogs {
	t.Helper()
	return startVictoriaLogs(t, "victoria-logs", needBinary(t, "victoria-logs"), flags)
}

// startVictoriaLogs starts a node named name with -httpListenAddr on a free
// port, -storageDataPath in a temporary directory and flags.
func startVictoriaLogs(t testing.TB, name, bin string, flags []string) *VictoriaLogs {
	t.Helper()
	v := &VictoriaLogs{Dir: t.TempDir()}
	v.name, v.bin = name, bin
	// A free port can be taken by another test process between FreePort
	// and the server's bind: then the server starts again on another port.
	for attempt := 1; ; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
		v.URL = "http://" + addr
		v.args = append([]string{"-httpListenAddr=" + addr, "-storageDataPath=" + v.Dir, "-loggerLevel=WARN"}, flags...)
		err := v.startVictoriaLogs() // on failure, it leaves nothing running
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
	}
	v.cleanup(t)
	return v
}

// Start starts VictoriaLogs again after Stop or Kill, on the same port and
// data directory, with the same flags.
func (v *VictoriaLogs) Start(t testing.TB) {
	t.Helper()
	if err := v.startVictoriaLogs(); err != nil {
		t.Fatal(err)
	}
}

func (v *VictoriaLogs) startVictoriaLogs() error {
	client := &http.Client{Timeout: 2 * time.Second}
	// /health alone could be answered by another server that took the
	// port first; the flags in /metrics name our data directory.
	ours := []byte(`flag{name="storageDataPath", value="` + v.Dir + `"`)
	return v.start(func(string) error {
		for _, path := range []string{"/health", "/metrics"} {
			resp, err := client.Get(v.URL + path)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", path, resp.Status)
			}
			if path == "/metrics" && !bytes.Contains(b, ours) {
				return fmt.Errorf("the server on %s is not the one started with -storageDataPath=%s", v.URL, v.Dir)
			}
		}
		return nil
	})
}

// Stop stops VictoriaLogs (SIGTERM, then SIGKILL after 10 s), which writes
// what it holds in memory to disk; Start brings it back.
func (v *VictoriaLogs) Stop() { v.stop() }

// Kill kills VictoriaLogs with SIGKILL, as the OOM killer would: records
// it accepted in the last -inmemoryDataFlushInterval (5 s by default) are
// not on disk yet and are lost, though queries already found them. Start
// brings it back.
func (v *VictoriaLogs) Kill() { v.kill() }

// OTLPEndpoint returns the base URL of its OTLP/HTTP ingestion,
// URL + "/insert/opentelemetry": senders, and the collector's otlp_http
// exporter, append /v1/logs. It takes protobuf only.
func (v *VictoriaLogs) OTLPEndpoint() string { return v.URL + "/insert/opentelemetry" }

// VictoriaLogsCluster is a VictoriaLogs cluster started by
// StartVictoriaLogsCluster: storage nodes and one front node that inserts
// into and queries them all.
type VictoriaLogsCluster struct {
	Storage []*VictoriaLogs // the storage nodes; each can Stop, Kill and Start
	Front   *VictoriaLogs   // the node started with -storageNode
	URL     string          // Front.URL: insert and select here
}

// StartVictoriaLogsCluster starts storageNodes VictoriaLogs storage nodes
// (plain single nodes, as StartVictoriaLogs starts them) and a front node
// with -storageNode naming them all, on free loopback ports; every node
// gets flags. It waits until each answers GET /health and stops them when
// the test ends.
//
// Inserts through the front are spread over the storage nodes, and
// queries through it ask every storage node. With a storage node down:
//   - a query through the front fails with 502 Bad Gateway ("cannot
//     connect to storage node"), not a partial answer, unless the flags
//     include -search.allowPartialResponse;
//   - an insert through the front still succeeds: it goes to the nodes
//     that are up. With all of them down, the front still answers 200 and
//     keeps the records in memory, retrying every second: a front stopped
//     or killed then loses them (on SIGTERM it logs "dropping N bytes of
//     data, since there are no available storage nodes").
//
// Records inserted through the front become visible to queries within a
// few seconds (the front buffers them for about a second first).
func StartVictoriaLogsCluster(t testing.TB, storageNodes int, flags ...string) *VictoriaLogsCluster {
	t.Helper()
	if storageNodes < 1 {
		t.Fatalf("itest: StartVictoriaLogsCluster: %d storage nodes; want at least 1", storageNodes)
	}
	bin := needBinary(t, "victoria-logs")
	c := &VictoriaLogsCluster{}
	var addrs []string
	for i := range storageNodes {
		s := startVictoriaLogs(t, fmt.Sprintf("victoria-logs storage node %d", i), bin, flags)
		c.Storage = append(c.Storage, s)
		addrs = append(addrs, strings.TrimPrefix(s.URL, "http://"))
	}
	// The front stores nothing and creates no data directory, with or
	// without -storageDataPath; it gets one of its own all the same, by
	// which the readiness check tells it from another server on its port.
	front := append([]string{"-storageNode=" + strings.Join(addrs, ",")}, flags...)
	c.Front = startVictoriaLogs(t, "victoria-logs front node", bin, front)
	c.URL = c.Front.URL
	return c
}

// OTLPEndpoint returns the front node's OTLP/HTTP ingestion base URL; see
// VictoriaLogs.OTLPEndpoint.
func (c *VictoriaLogsCluster) OTLPEndpoint() string { return c.Front.OTLPEndpoint() }

// Collector is an OpenTelemetry Collector started by StartCollector.
type Collector struct {
	process
	// OTLPEndpoint is the base URL of the OTLP/HTTP receiver,
	// http://127.0.0.1:port; senders append /v1/logs.
	OTLPEndpoint string
	// OTLPGRPCAddr is the OTLP/gRPC receiver's address, 127.0.0.1:port.
	OTLPGRPCAddr string
	// FileDir is where the file exporter writes run-<run id>.jsonl, one
	// OTLP JSON request per line, for records that carry a run id.
	FileDir string
	// QueueDir holds the persistent sending queue to VictoriaLogs, kept
	// across Stop, Kill and Start.
	QueueDir string
	httpAddr string
}

// StartCollector starts the collector with deploy/otelcol/config.yaml,
// exporting to the VictoriaLogs OTLP/HTTP ingestion at otlpEndpoint (such
// as VictoriaLogs.OTLPEndpoint(); /v1/logs is appended) and to files in a
// temporary directory, with its OTLP receivers on free loopback ports (its
// own metrics are off, so it opens no other port). env sets more
// variables of config.yaml, such as "VICTORIALOGS_ACCOUNT_ID=7" and
// "VICTORIALOGS_PROJECT_ID=8" for a tenant other than 0:0. It waits until
// the collector has logged "Everything is ready" and its OTLP/HTTP port
// accepts connections, and stops it when the test ends.
func StartCollector(t testing.TB, otlpEndpoint string, env ...string) *Collector {
	t.Helper()
	c := NewCollector(t, otlpEndpoint, env...)
	c.Start(t)
	return c
}

// NewCollector is StartCollector without the start: its ports are chosen
// (nothing listens on them yet) and Start starts it. It is stopped when the
// test ends.
func NewCollector(t testing.TB, otlpEndpoint string, env ...string) *Collector {
	t.Helper()
	bin := needBinary(t, "otelcol")
	root := RepoRoot(t)
	httpAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	c := &Collector{
		OTLPEndpoint: "http://" + httpAddr,
		OTLPGRPCAddr: "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		FileDir:      t.TempDir(),
		QueueDir:     t.TempDir(),
		httpAddr:     httpAddr,
	}
	c.name, c.bin = "otelcol", bin
	c.args = []string{"--config=" + filepath.Join(root, "deploy", "otelcol", "config.yaml")}
	c.env = []string{
		"OTLP_HTTP_ENDPOINT=" + httpAddr,
		"OTLP_GRPC_ENDPOINT=" + c.OTLPGRPCAddr,
		"VICTORIALOGS_OTLP_ENDPOINT=" + strings.TrimSuffix(otlpEndpoint, "/"),
		"FILE_EXPORT_DIR=" + c.FileDir,
		"OTELCOL_QUEUE_DIR=" + c.QueueDir,
		"OTELCOL_LOG_LEVEL=info", // "Everything is ready" is an info line
	}
	c.env = append(c.env, env...) // later entries win
	c.cleanup(t)
	return c
}

// Start starts the collector again after Stop, on the same ports; the file
// exporter appends to the files it wrote before.
func (c *Collector) Start(t testing.TB) {
	t.Helper()
	err := c.start(func(out string) error {
		if !strings.Contains(out, "Everything is ready") {
			return errors.New(`no "Everything is ready" in its log yet`)
		}
		conn, err := net.DialTimeout("tcp", c.httpAddr, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Stop stops the collector (SIGTERM, then SIGKILL after 10 s), which
// flushes what it holds on the way; Start brings it back.
func (c *Collector) Stop() { c.stop() }

// Kill kills the collector with SIGKILL, as the OOM killer would: it
// flushes nothing. Start brings it back.
func (c *Collector) Kill() { c.kill() }

// SendLog sends one INFO log record, timestamped now, with the given
// resource attributes (such as service.name and cicd.pipeline.run.id) to
// the collector's OTLP/HTTP receiver as JSON, and fails the test unless the
// collector accepts it.
func (c *Collector) SendLog(t testing.TB, resource map[string]string, body string) {
	t.Helper()
	type value struct {
		StringValue string `json:"stringValue"`
	}
	type attr struct {
		Key   string `json:"key"`
		Value value  `json:"value"`
	}
	var attrs []attr
	for _, k := range slices.Sorted(maps.Keys(resource)) {
		attrs = append(attrs, attr{k, value{resource[k]}})
	}
	req := map[string]any{"resourceLogs": []any{map[string]any{
		"resource": map[string]any{"attributes": attrs},
		"scopeLogs": []any{map[string]any{"logRecords": []any{map[string]any{
			"timeUnixNano":   strconv.FormatInt(time.Now().UnixNano(), 10),
			"severityNumber": 9,
			"severityText":   "INFO",
			"body":           value{body},
		}}}},
	}}}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(c.OTLPEndpoint+"/v1/logs", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("itest: send a log record to the collector: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("itest: POST %s/v1/logs: %s %s", c.OTLPEndpoint, resp.Status, msg)
	}
}
