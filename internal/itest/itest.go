// Package itest starts the real servers runlog's integration tests run
// against: Grafana Loki and an OpenTelemetry Collector, built from the Go
// module proxy by tools/servers.sh into a cache directory, configured with
// the files in deploy/ (the ones docker-compose.yaml uses), listening on
// loopback ports chosen at run time, and stopped when the test ends.
//
// Without the binaries, tests skip with a message saying how to build them,
// unless $CI is true or $RUNLOG_REQUIRE_SERVERS is 1: then they fail.
package itest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RepoRoot returns the module's root directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "deploy")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("itest: cannot find the repository root (go.mod and deploy/)")
		}
		dir = parent
	}
}

// Binary returns the path of a server binary built by tools/servers.sh:
// loki, logcli or otelcol.
func Binary(t testing.TB, name string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(RepoRoot(t), "tools", "servers.sh"), "path", name).Output()
	if err != nil {
		t.Fatalf("itest: tools/servers.sh path %s: %v", name, err)
	}
	p := strings.TrimSpace(string(out))
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("itest: %s is not built (%s); run `make servers` (tools/servers.sh build)", name, p)
		if os.Getenv("CI") == "true" || os.Getenv("RUNLOG_REQUIRE_SERVERS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
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

// process is a server started by a test.
type process struct {
	name string
	bin  string
	args []string
	env  []string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *tail
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

func (p *process) start(t testing.TB, ready func() error) {
	t.Helper()
	p.mu.Lock()
	p.out = &tail{}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		t.Fatalf("itest: start %s: %v", p.name, err)
	}
	p.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	p.mu.Unlock()

	deadline := time.Now().Add(90 * time.Second)
	for {
		err := ready()
		if err == nil {
			return // the goroutine above reaps the process when it ends
		}
		select {
		case werr := <-exited:
			t.Fatalf("itest: %s exited before it was ready: %v\n%s", p.name, werr, p.out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			t.Fatalf("itest: %s not ready after 90s: %v\n%s", p.name, err, p.out)
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *process) stop() {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
				close(done)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Output returns the last lines the server wrote.
func (p *process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// Loki is a running Loki.
type Loki struct {
	process
	URL string // http://127.0.0.1:port
	Dir string // data directory
}

// StartLoki starts Loki with deploy/loki/loki.yaml on free loopback ports
// and a temporary data directory, waits until /ready answers 200, and stops
// it when the test ends.
func StartLoki(t testing.TB) *Loki {
	t.Helper()
	bin := Binary(t, "loki")
	root := RepoRoot(t)
	httpPort, grpcPort := FreePort(t), FreePort(t)
	l := &Loki{URL: "http://127.0.0.1:" + strconv.Itoa(httpPort), Dir: t.TempDir()}
	l.name, l.bin = "loki", bin
	l.args = []string{"-config.file=" + filepath.Join(root, "deploy", "loki", "loki.yaml"), "-config.expand-env=true"}
	l.env = []string{
		"LOKI_LISTEN_ADDRESS=127.0.0.1",
		"LOKI_HTTP_PORT=" + strconv.Itoa(httpPort),
		"LOKI_GRPC_PORT=" + strconv.Itoa(grpcPort),
		"LOKI_DATA_DIR=" + l.Dir,
		"LOKI_LOG_LEVEL=warn",
	}
	l.Start(t)
	t.Cleanup(l.Stop)
	return l
}

// Start starts Loki again after Stop, on the same ports and data.
func (l *Loki) Start(t testing.TB) {
	t.Helper()
	l.start(t, func() error {
		resp, err := http.Get(l.URL + "/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/ready: %s", resp.Status)
		}
		return nil
	})
}

// Stop stops Loki; Start brings it back.
func (l *Loki) Stop() { l.stop() }

// Collector is a running OpenTelemetry Collector.
type Collector struct {
	process
	// OTLPEndpoint is the base URL of the OTLP/HTTP receiver
	// (http://127.0.0.1:port); exporters append /v1/logs.
	OTLPEndpoint string
	// FileDir is where the file exporter writes run-<run id>.jsonl.
	FileDir  string
	httpAddr string
}

// StartCollector starts the collector with deploy/otelcol/config.yaml,
// exporting to the Loki at lokiURL, and waits until its OTLP/HTTP receiver
// accepts connections.
func StartCollector(t testing.TB, lokiURL string) *Collector {
	t.Helper()
	bin := Binary(t, "otelcol")
	root := RepoRoot(t)
	httpAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	c := &Collector{OTLPEndpoint: "http://" + httpAddr, FileDir: t.TempDir(), httpAddr: httpAddr}
	c.name, c.bin = "otelcol", bin
	c.args = []string{"--config=" + filepath.Join(root, "deploy", "otelcol", "config.yaml")}
	c.env = []string{
		"OTLP_HTTP_ENDPOINT=" + httpAddr,
		"OTLP_GRPC_ENDPOINT=127.0.0.1:" + strconv.Itoa(FreePort(t)),
		"LOKI_OTLP_ENDPOINT=" + lokiURL + "/otlp",
		"FILE_EXPORT_DIR=" + c.FileDir,
		"OTELCOL_LOG_LEVEL=warn",
	}
	c.Start(t)
	t.Cleanup(c.Stop)
	return c
}

// Start starts the collector again after Stop, on the same ports.
func (c *Collector) Start(t testing.TB) {
	t.Helper()
	c.start(t, func() error {
		conn, err := net.DialTimeout("tcp", c.httpAddr, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// Stop stops the collector; Start brings it back.
func (c *Collector) Stop() { c.stop() }
