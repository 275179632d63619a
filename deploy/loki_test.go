package deploy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/runlog/runlog/internal/itest"
)

// Grafana Loki is not built here (it is AGPL-3.0, and no module of this
// repository may require it: see deps_test.go). The loki profile's
// collector config is tested against a stand-in for Loki's OTLP endpoint;
// Loki's own config, deploy/loki/loki.yaml, and the Loki dashboard only
// against a Loki the user runs, such as the compose file's:
//
//	docker compose --profile loki up -d loki
//	RUNLOG_TEST_LOKI_URL=http://localhost:3100 go test ./deploy/ -run Loki
const lokiURLEnv = "RUNLOG_TEST_LOKI_URL"

// userLoki returns the base URL of the Loki the user runs, or skips.
func userLoki(t *testing.T) string {
	t.Helper()
	u := strings.TrimSuffix(os.Getenv(lokiURLEnv), "/")
	if u == "" {
		t.Skipf("no Grafana Loki to test against: runlog does not build Loki; set $%s to a Loki running deploy/loki/loki.yaml "+
			"(`docker compose --profile loki up -d loki`, then %s=http://localhost:3100)", lokiURLEnv, lokiURLEnv)
	}
	return u
}

// lokiCollector is the collector of the loki profile, run by the test with
// deploy/otelcol/loki.yaml.
type lokiCollector struct {
	bin, endpoint string
	env           []string
	cmd           *exec.Cmd
	out           syncBuffer
}

// syncBuffer is a bytes.Buffer a process writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (c *lokiCollector) start(t *testing.T) {
	t.Helper()
	c.out.Reset()
	c.cmd = exec.Command(c.bin, "--config="+filepath.Join("otelcol", "loki.yaml"))
	c.cmd.Env = append(os.Environ(), c.env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// stop ends the collector with sig (SIGKILL: nothing is flushed) and waits
// for it to exit.
func (c *lokiCollector) stop(sig syscall.Signal) {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

// send posts one OTLP/JSON log record to the collector, retrying while it
// starts, and fails the test unless it is accepted.
func (c *lokiCollector) send(t *testing.T, body string) {
	t.Helper()
	req := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[`+
		`{"key":"service.name","value":{"stringValue":"pipeline"}},`+
		`{"key":"cicd.pipeline.run.id","value":{"stringValue":"r1"}}]},`+
		`"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityNumber":9,"body":{"stringValue":%q}}]}]}]}`,
		time.Now().UnixNano(), body)
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Post(c.endpoint+"/v1/logs", "application/json", strings.NewReader(req))
		if err != nil {
			last = err.Error() // not listening yet
			continue
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = resp.Status + " " + string(msg)
	}
	t.Fatalf("the collector did not accept a record: %s\n%s", last, c.out.String())
}

// fakeLoki stands for Loki's OTLP endpoint: it records what it is sent,
// and answers 503 while down, 204 (as Loki does) otherwise.
type fakeLoki struct {
	down     atomic.Bool
	mu       sync.Mutex
	attempts int
	accepted [][]byte
	problems []string
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Header.Get("Content-Encoding") == "gzip" { // the exporter's default
		if zr, err := gzip.NewReader(r.Body); err == nil {
			body, _ = io.ReadAll(zr)
		}
	} else {
		body, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if r.Method != http.MethodPost || r.URL.Path != "/otlp/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		f.problems = append(f.problems, fmt.Sprintf("%s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type")))
		http.Error(w, "not Loki's OTLP endpoint", http.StatusNotFound)
		return
	}
	if f.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	f.accepted = append(f.accepted, body)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeLoki) state() (attempts int, accepted [][]byte, problems []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, slices.Clone(f.accepted), slices.Clone(f.problems)
}

// TestLokiCollectorKeepsRecords: the loki profile's collector
// (deploy/otelcol/loki.yaml, with docker-compose's variables but loopback
// ports and a temporary queue) exports to <LOKI_OTLP_ENDPOINT>/v1/logs as
// protobuf, and what it accepted while Loki was down survives its being
// killed: restarted on the same queue directory, it delivers the record
// once Loki is back.
func TestLokiCollectorKeepsRecords(t *testing.T) {
	bin := needCollector(t)
	loki := &fakeLoki{}
	loki.down.Store(true)
	srv := httptest.NewServer(loki)
	t.Cleanup(srv.Close)

	httpAddr := "127.0.0.1:" + strconv.Itoa(itest.FreePort(t))
	queue := t.TempDir()
	c := &lokiCollector{bin: bin, endpoint: "http://" + httpAddr, env: []string{
		"OTLP_HTTP_ENDPOINT=" + httpAddr,
		"OTLP_GRPC_ENDPOINT=127.0.0.1:" + strconv.Itoa(itest.FreePort(t)),
		"LOKI_OTLP_ENDPOINT=" + srv.URL + "/otlp",
		"OTELCOL_QUEUE_DIR=" + filepath.Join(queue, "otelcol-queue"),
		"OTELCOL_LOG_LEVEL=warn",
	}}
	t.Cleanup(func() { c.stop(syscall.SIGTERM) })
	c.start(t)
	c.send(t, "kept while Loki was down")

	// The collector tried, was refused, and holds the record.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n, _, _ := loki.state(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector did not try to export to Loki\n%s", c.out.String())
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(queue, "otelcol-queue")); len(entries) == 0 {
		t.Errorf("the persistent queue directory %s is empty", filepath.Join(queue, "otelcol-queue"))
	}
	c.stop(syscall.SIGKILL)

	loki.down.Store(false)
	c.start(t)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, accepted, problems := loki.state()
		if len(problems) > 0 {
			t.Fatalf("the collector did not use Loki's OTLP endpoint: %q", problems)
		}
		if slices.ContainsFunc(accepted, func(b []byte) bool { return bytes.Contains(b, []byte("kept while Loki was down")) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the record accepted before the collector was killed never reached Loki (%d requests accepted)\n%s", len(accepted), c.out.String())
		}
	}
}

// pushLoki sends OTLP/JSON log records straight to Loki's OTLP endpoint.
func pushLoki(t *testing.T, client *http.Client, lokiURL, body string) {
	t.Helper()
	resp, err := client.Post(lokiURL+"/otlp/v1/logs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /otlp/v1/logs: %s %s", resp.Status, bytes.TrimSpace(msg))
	}
}

// TestLokiAcceptsBurst: deploy/loki/loki.yaml lets one step log 100,000
// lines within a second, straight to Loki's OTLP endpoint (no collector
// retrying 429s behind the scenes), and keeps them all; Loki's default
// limits (4 MB/s, 6 MB burst) refuse most of it. Against the Loki of
// $RUNLOG_TEST_LOKI_URL; the run id is new on every run.
func TestLokiAcceptsBurst(t *testing.T) {
	lokiURL := userLoki(t)
	const lines, perRequest = 100_000, 10_000
	run := "burst-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	base := time.Now().Add(-time.Second)

	client := &http.Client{Timeout: 30 * time.Second}
	began := time.Now()
	for first := 0; first < lines; first += perRequest {
		var b strings.Builder
		b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[` +
			`{"key":"service.name","value":{"stringValue":"burst"}},` +
			`{"key":"cicd.pipeline.run.id","value":{"stringValue":"` + run + `"}},` +
			`{"key":"cicd.pipeline.task.run.id","value":{"stringValue":"s1"}}]},` +
			`"scopeLogs":[{"logRecords":[`)
		for i := first; i < first+perRequest; i++ {
			if i > first {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"timeUnixNano":"%d","severityNumber":9,"body":{"stringValue":"line %06d of a burst, about as long as a log line is"}}`,
				base.Add(time.Duration(i)*time.Microsecond).UnixNano(), i)
		}
		b.WriteString(`]}]}]}`)
		pushLoki(t, client, lokiURL, b.String())
	}
	t.Logf("%d lines sent in %v", lines, time.Since(began).Round(time.Millisecond))

	q := url.Values{
		"query": {`sum(count_over_time({service_name="burst"} | cicd_pipeline_run_id="` + run + `" [1h]))`},
		"time":  {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
	}
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		got = instantValue(t, lokiURL+"/loki/api/v1/query?"+q.Encode())
		if got == strconv.Itoa(lines) {
			return
		}
	}
	t.Fatalf("Loki counts %q lines of the burst; want %d", got, lines)
}

// instantValue returns the value of an instant query's only sample, or "".
func instantValue(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", resp.Status, b)
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) != 1 {
		return ""
	}
	return fmt.Sprint(r.Data.Result[0].Value[1])
}

// TestLokiDashboardQueries runs the Loki dashboard's queries, with its
// variables filled in, against the Loki of $RUNLOG_TEST_LOKI_URL: they
// parse, and they select the lines of one run and one step, without end
// markers. The run ids are new on every run.
func TestLokiDashboardQueries(t *testing.T) {
	lokiURL := userLoki(t)
	start := time.Now().Add(-time.Minute)
	suffix := "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	client := &http.Client{Timeout: 30 * time.Second}
	send := func(run, step, msg string, end bool) {
		attrs := ""
		if end {
			attrs = `,"attributes":[{"key":"runlog.end","value":{"boolValue":true}}]`
		}
		pushLoki(t, client, lokiURL, fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[`+
			`{"key":"service.name","value":{"stringValue":"pipeline"}},`+
			`{"key":"cicd.pipeline.run.id","value":{"stringValue":%q}},`+
			`{"key":"cicd.pipeline.task.run.id","value":{"stringValue":%q}}]},`+
			`"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityNumber":9,"severityText":"INFO","body":{"stringValue":%q}%s}]}]}]}`,
			run+suffix, step, time.Now().UnixNano(), msg, attrs))
	}
	send("r1", "train", "train of r1", false)
	send("r1", "train", "", true) // the end marker of the step
	send("r1", "evaluate", "evaluate of r1", false)
	send("r2", "train", "train of r2", false)

	vars := strings.NewReplacer("$run", "r1"+suffix, "$step", "tr.*", "$search", "", "$level", "9", "$__auto", "1m")
	for _, pn := range loadDashboard(t, "pipeline-run-logs-loki.json").Panels {
		for _, tg := range pn.Targets {
			expr := vars.Replace(tg.Expr)
			q := url.Values{
				"query": {expr},
				"start": {strconv.FormatInt(start.UnixNano(), 10)},
				"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
				"step":  {"60"},
			}
			var got string
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
				got = lokiQueryRange(t, lokiURL+"/loki/api/v1/query_range?"+q.Encode())
				if got == "train of r1" || (pn.Type != "logs" && got == "train\t1") {
					break
				}
			}
			switch {
			case pn.Type == "logs" && got != "train of r1":
				t.Errorf("panel %q, %s: lines %q; want the train step of r1 only, without its end marker", pn.Title, expr, got)
			case pn.Type != "logs" && got != "train\t1":
				t.Errorf("panel %q, %s: series %q; want one line for the train step", pn.Title, expr, got)
			}
		}
	}
}

// lokiQueryRange returns the lines of a log query, or "label values<TAB>sum"
// of each series of a metric query, joined by newlines.
func lokiQueryRange(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", resp.Status, b) // a query that does not parse
	}
	var r struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range r.Data.Result {
		if r.Data.ResultType == "matrix" {
			var labels []string
			for _, k := range slices.Sorted(maps.Keys(s.Metric)) {
				labels = append(labels, s.Metric[k])
			}
			sum := 0
			for _, v := range s.Values {
				n, _ := strconv.Atoi(fmt.Sprint(v[1]))
				sum += n
			}
			out = append(out, strings.Join(labels, ",")+"\t"+strconv.Itoa(sum))
			continue
		}
		for _, v := range s.Values {
			out = append(out, fmt.Sprint(v[1]))
		}
	}
	return strings.Join(out, "\n")
}
