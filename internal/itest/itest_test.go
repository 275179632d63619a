package itest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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
	t.Setenv("RUNLOG_LOKI_BIN", "")
	_, err := itest.Binary("loki")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "bin", "loki-")) || !strings.Contains(err.Error(), "tools/servers.sh build loki") {
		t.Errorf("Binary(loki) with an empty cache: %v; want an error naming %s/bin/loki-VERSION and how to build it", err, cache)
	}

	// An override wins, and must be an executable file.
	t.Setenv("RUNLOG_LOKI_BIN", cache)
	if _, err := itest.Binary("loki"); err == nil {
		t.Error("Binary(loki) with $RUNLOG_LOKI_BIN naming a directory: no error")
	}
	exe := filepath.Join(t.TempDir(), "my-loki")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNLOG_LOKI_BIN", exe)
	if p, err := itest.Binary("loki"); err != nil || p != exe {
		t.Errorf("Binary(loki) with $RUNLOG_LOKI_BIN=%s: %q, %v", exe, p, err)
	}
}

// TestCollectorToLoki sends one OTLP/HTTP record to the collector and finds
// it in Loki, with the run id as structured metadata, and in the file the
// fan-out pipeline writes for the run.
func TestCollectorToLoki(t *testing.T) {
	lk := itest.StartLoki(t)
	col := itest.StartCollector(t, lk.URL)
	start := time.Now().Add(-time.Minute)

	col.SendLog(t, resource("r1"), "hello from r1")
	waitForLines(t, lk.URL, "r1", start, []string{"hello from r1"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r1.jsonl"), 1)
}

// TestRestart: Loki keeps its data across Stop and Start, and the
// collector, restarted on the same ports, delivers again and appends to
// the run's file.
func TestRestart(t *testing.T) {
	lk := itest.StartLoki(t)
	col := itest.StartCollector(t, lk.URL)
	start := time.Now().Add(-time.Minute)
	col.SendLog(t, resource("r2"), "before the restart")
	waitForLines(t, lk.URL, "r2", start, []string{"before the restart"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r2.jsonl"), 1)

	col.Stop()
	lk.Stop()
	if resp, err := http.Get(lk.URL + "/ready"); err == nil {
		resp.Body.Close()
		t.Fatal("Loki still answers after Stop")
	}
	lk.Start(t)
	col.Start(t)
	col.SendLog(t, resource("r2"), "after the restart")
	waitForLines(t, lk.URL, "r2", start, []string{"before the restart", "after the restart"})
	waitForFile(t, filepath.Join(col.FileDir, "run-r2.jsonl"), 2)
}

func resource(run string) map[string]string {
	return map[string]string{"service.name": "runlog", "cicd.pipeline.run.id": run, "cicd.pipeline.task.run.id": "train"}
}

// waitForLines polls Loki, for up to 30 s, until the run's lines are want.
func waitForLines(t *testing.T, lokiURL, run string, start time.Time, want []string) {
	t.Helper()
	q := url.Values{
		"query":     {fmt.Sprintf(`{service_name="runlog"} | cicd_pipeline_run_id=%q`, run)},
		"start":     {strconv.FormatInt(start.UnixNano(), 10)},
		"end":       {strconv.FormatInt(time.Now().Add(time.Hour).UnixNano(), 10)},
		"direction": {"forward"},
	}
	var got []string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got, err = queryRange(lokiURL + "/loki/api/v1/query_range?" + q.Encode())
		if err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
	}
	t.Fatalf("Loki query %s: got %q (last error: %v); want %q", q.Get("query"), got, err, want)
}

func queryRange(u string) ([]string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]string `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	var lines []string
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			lines = append(lines, v[1])
		}
	}
	return lines, nil
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
