package itest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog/internal/itest"
)

func TestBinary(t *testing.T) {
	if _, err := itest.Binary("postgres"); err == nil {
		t.Error("Binary(postgres): no error")
	}

	// The cache directory rule of tools/servers.sh.
	cache := t.TempDir()
	t.Setenv("RUNLOG_CACHE", cache)
	t.Setenv("RUNLOG_VICTORIA_LOGS_BIN", "")
	_, err := itest.Binary("victoria-logs")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "bin", "victoria-logs-v")) || !strings.Contains(err.Error(), "tools/servers.sh build victoria-logs") {
		t.Errorf("Binary(victoria-logs) with an empty cache: %v; want an error naming %s/bin/victoria-logs-VERSION and how to build it", err, cache)
	}

	// An override wins, and must be an executable file.
	t.Setenv("RUNLOG_VICTORIA_LOGS_BIN", cache)
	if _, err := itest.Binary("victoria-logs"); err == nil {
		t.Error("Binary(victoria-logs) with $RUNLOG_VICTORIA_LOGS_BIN naming a directory: no error")
	}
	exe := filepath.Join(t.TempDir(), "my-victoria-logs")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNLOG_VICTORIA_LOGS_BIN", exe)
	if p, err := itest.Binary("victoria-logs"); err != nil || p != exe {
		t.Errorf("Binary(victoria-logs) with $RUNLOG_VICTORIA_LOGS_BIN=%s: %q, %v", exe, p, err)
	}
	t.Setenv("RUNLOG_VLOGSCLI_BIN", exe)
	if p, err := itest.Binary("vlogscli"); err != nil || p != exe {
		t.Errorf("Binary(vlogscli) with $RUNLOG_VLOGSCLI_BIN=%s: %q, %v", exe, p, err)
	}
}

// TestCollectorToVictoriaLogs sends one OTLP/HTTP record to the collector
// and finds it in VictoriaLogs, under the run id's stream, and in the file
// the fan-out pipeline writes for the run.
func TestCollectorToVictoriaLogs(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())

	col.SendLog(t, resource("r1"), "hello from r1")
	waitForLines(t, vl.URL, tenant{}, "r1", []string{"hello from r1"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r1.jsonl"), 1)
}

// TestTenant: the collector's env chooses the tenant it writes to, and a
// query under another tenant does not see the record.
func TestTenant(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint(), "VICTORIALOGS_ACCOUNT_ID=7", "VICTORIALOGS_PROJECT_ID=8")

	col.SendLog(t, resource("r3"), "for tenant 7:8")
	waitForLines(t, vl.URL, tenant{"7", "8"}, "r3", []string{"for tenant 7:8"})
	for _, other := range []tenant{{}, {"7", "0"}, {"0", "8"}} {
		if got, err := query(vl.URL, other, "r3"); err != nil || len(got) != 0 {
			t.Errorf("run r3 under tenant %v: %q, %v; want nothing", other, got, err)
		}
	}
}

// TestRestart: VictoriaLogs keeps its data across Stop and Start, and the
// collector, restarted on the same ports, delivers again and appends to
// the run's file.
func TestRestart(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	col.SendLog(t, resource("r2"), "before the restart")
	waitForLines(t, vl.URL, tenant{}, "r2", []string{"before the restart"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r2.jsonl"), 1)

	col.Stop()
	vl.Stop()
	if resp, err := http.Get(vl.URL + "/health"); err == nil {
		resp.Body.Close()
		t.Fatal("VictoriaLogs still answers after Stop")
	}
	vl.Start(t)
	col.Start(t)
	col.SendLog(t, resource("r2"), "after the restart")
	waitForLines(t, vl.URL, tenant{}, "r2", []string{"before the restart", "after the restart"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r2.jsonl"), 2)
}

// TestCluster: records sent through the collector to the front node are
// read back through it; with a storage node down, a query through the
// front fails (502) instead of answering in part, while inserts go on to
// the node that is up; once the node is back, everything is found.
func TestCluster(t *testing.T) {
	cl := itest.StartVictoriaLogsCluster(t, 2)
	col := itest.StartCollector(t, cl.OTLPEndpoint())
	var want []string
	for i := range 10 { // over several streams, so that both nodes get some
		run := fmt.Sprintf("c%d", i)
		col.SendLog(t, resource(run), "hello from "+run)
		want = append(want, "hello from "+run)
	}
	waitForAll(t, cl.URL, want)
	for i, s := range cl.Storage { // the front spreads streams by a hash: a fixed split
		if got, err := messages(s.URL, tenant{}, "*"); err != nil || len(got) == 0 {
			t.Errorf("storage node %d holds %q, %v; want some of the 10 runs", i, got, err)
		}
	}

	cl.Storage[1].Stop()
	resp, err := http.PostForm(cl.URL+"/select/logsql/query", url.Values{"query": {"*"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("query through the front with a storage node down: %s %s; want 502 Bad Gateway", resp.Status, b)
	}
	col.SendLog(t, resource("c-down"), "sent while a node was down")
	want = append(want, "sent while a node was down")

	cl.Storage[1].Start(t)
	waitForAll(t, cl.URL, want)

	// A storage node comes back from SIGKILL on its port and data, too.
	cl.Storage[0].Kill()
	cl.Storage[0].Start(t)
	col.SendLog(t, resource("c-killed"), "after the kill")
	waitForLines(t, cl.URL, tenant{}, "c-killed", []string{"after the kill"})
}

func resource(run string) map[string]string {
	return map[string]string{"service.name": "runlog", "cicd.pipeline.run.id": run, "cicd.pipeline.task.run.id": "train"}
}

// tenant is the AccountID and ProjectID of a query; empty means 0.
type tenant struct{ account, project string }

// waitForLines polls VictoriaLogs, for up to 30 s, until the run's lines
// are want.
func waitForLines(t *testing.T, vlURL string, tn tenant, run string, want []string) {
	t.Helper()
	var got []string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got, err = query(vlURL, tn, run)
		if err == nil && slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("VictoriaLogs: run %s: got %q (last error: %v); want %q", run, got, err, want)
}

// waitForAll polls VictoriaLogs, for up to 30 s, until it holds the lines
// of want, in any order, and no other.
func waitForAll(t *testing.T, vlURL string, want []string) {
	t.Helper()
	var got []string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got, err = messages(vlURL, tenant{}, "* | sort by (_msg)")
		if err == nil && slices.Equal(got, slices.Sorted(slices.Values(want))) {
			return
		}
	}
	t.Fatalf("VictoriaLogs: got %q (last error: %v); want %q", got, err, slices.Sorted(slices.Values(want)))
}

// query returns the messages of a run, oldest first.
func query(vlURL string, tn tenant, run string) ([]string, error) {
	return messages(vlURL, tn, fmt.Sprintf(`{cicd.pipeline.run.id=%q} | sort by (_time)`, run))
}

// messages runs a LogsQL query with POST /select/logsql/query and returns
// the _msg of each line of its answer (JSON lines).
func messages(vlURL string, tn tenant, logsql string) ([]string, error) {
	req, err := http.NewRequest(http.MethodPost, vlURL+"/select/logsql/query", strings.NewReader(url.Values{"query": {logsql}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if tn.account != "" {
		req.Header.Set("AccountID", tn.account)
	}
	if tn.project != "" {
		req.Header.Set("ProjectID", tn.project)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var msgs []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg string `json:"_msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("answer line %s: %w", sc.Bytes(), err)
		}
		msgs = append(msgs, line.Msg)
	}
	return msgs, sc.Err()
}

// waitForFile polls, for up to 10 s, until the file exporter has written
// n OTLP JSON lines to path (it flushes every second).
func waitForFile(t *testing.T, path string, n int) {
	t.Helper()
	var b []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		b, err = os.ReadFile(path)
		if err == nil && bytes.Count(b, []byte("\n")) >= n {
			for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				if !json.Valid(line) || !bytes.Contains(line, []byte(`"resourceLogs"`)) {
					t.Fatalf("%s: not an OTLP JSON line: %s", path, line)
				}
			}
			return
		}
	}
	t.Fatalf("file exporter: %s has %d lines, want %d (%v)", path, bytes.Count(b, []byte("\n")), n, err)
}

// TestNodeProducer: the Node.js step exports its records through the
// collector into VictoriaLogs, under the run id's stream in the cicd
// layout, and fails when nothing listens at its endpoint.
func TestNodeProducer(t *testing.T) {
	p := itest.NeedNodeProducer(t)
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())

	r := p.Run(t, col.OTLPEndpoint, itest.NodeStep{RunID: "n1", StepID: "js", Count: 5})
	if r.Records != 5 || !r.First.Before(r.Last) || time.Since(r.First) > time.Minute {
		t.Errorf("report %+v; want 5 records, first before last, just now", r)
	}
	var want []string
	for i := 1; i <= 5; i++ {
		want = append(want, fmt.Sprintf("node record %d of 5", i))
	}
	waitForLines(t, vl.URL, tenant{}, "n1", want)

	// An export that fails makes the producer exit non-zero.
	cmd := p.Command(t.Context(), "http://127.0.0.1:"+fmt.Sprint(itest.FreePort(t)), itest.NodeStep{RunID: "n2", StepID: "js", Count: 1})
	cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_TIMEOUT=1000") // retries end sooner than the default 10 s
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not exported") {
		t.Errorf("producer with nothing at its endpoint: %v\n%s; want a failure that says the records were not exported", err, out)
	}
}

// TestFindNodeProducer: without an install in the cache, the error names
// the directory tools/node.sh would install into and how to install it;
// $RUNLOG_NODEPRODUCER_DIR names another.
func TestFindNodeProducer(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on the PATH")
	}
	cache := t.TempDir()
	t.Setenv("RUNLOG_CACHE", cache)
	t.Setenv("RUNLOG_NODEPRODUCER_DIR", "")
	t.Setenv("RUNLOG_NODE_BIN", "")
	_, err := itest.FindNodeProducer()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "node", "nodeproducer-")) || !strings.Contains(err.Error(), "tools/node.sh install") {
		t.Errorf("FindNodeProducer with an empty cache: %v; want an error naming %s/node/nodeproducer-DIGEST and how to install", err, cache)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".installed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNLOG_NODEPRODUCER_DIR", dir)
	p, err := itest.FindNodeProducer()
	if err != nil || p.Modules != filepath.Join(dir, "node_modules") || !strings.HasSuffix(p.Script, filepath.Join("tools", "nodeproducer", "producer.cjs")) {
		t.Errorf("FindNodeProducer with $RUNLOG_NODEPRODUCER_DIR=%s: %+v, %v", dir, p, err)
	}
}
