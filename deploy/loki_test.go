package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog/internal/itest"
)

// TestLokiAcceptsBurst: deploy/loki/loki.yaml lets one step log 100,000
// lines within a second, straight to Loki's OTLP endpoint (no collector
// retrying 429s behind the scenes), and keeps them all; Loki's default
// limits (4 MB/s, 6 MB burst) refuse most of it.
func TestLokiAcceptsBurst(t *testing.T) {
	const lines, perRequest = 100_000, 10_000
	lk := itest.StartLoki(t)
	base := time.Now().Add(-time.Second)

	client := &http.Client{Timeout: 30 * time.Second}
	began := time.Now()
	for first := 0; first < lines; first += perRequest {
		var b strings.Builder
		b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[` +
			`{"key":"service.name","value":{"stringValue":"burst"}},` +
			`{"key":"cicd.pipeline.run.id","value":{"stringValue":"b1"}},` +
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
		resp, err := client.Post(lk.URL+"/otlp/v1/logs", "application/json", strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("records %d..%d: %s %s", first, first+perRequest-1, resp.Status, bytes.TrimSpace(msg))
		}
	}
	t.Logf("%d lines sent in %v", lines, time.Since(began).Round(time.Millisecond))

	q := url.Values{
		"query": {`sum(count_over_time({service_name="burst"} | cicd_pipeline_run_id="b1" [1h]))`},
		"time":  {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
	}
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		got = instantValue(t, lk.URL+"/loki/api/v1/query?"+q.Encode())
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
