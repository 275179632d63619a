package loki_test

// The live suite runs against a Loki, and a collector (or Loki's own OTLP
// endpoint) feeding it, that the user runs: Loki is AGPL-3.0, so this
// repository neither requires nor builds it. For example, with the
// compose file's loki profile:
//
//	docker compose --profile loki up -d loki otelcol-loki
//	RUNLOG_TEST_LOKI_URL=http://localhost:3100 RUNLOG_TEST_LOKI_OTLP=http://localhost:4320 go test ./query/loki/
//
// RUNLOG_TEST_LOKI_OTLP defaults to Loki's own OTLP endpoint (URL/otlp).
// Without RUNLOG_TEST_LOKI_URL the suite reports itself skipped. Last run
// against Loki 3.7.8 (2026-11-24).

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/loki"
	"github.com/runlog/runlog/storetest"
)

// userLoki returns a store writing to the user's collector (or Loki) and
// reading from the user's Loki, or skips the test saying how to run it.
func userLoki(t *testing.T) *otelstore.Store {
	t.Helper()
	url := os.Getenv("RUNLOG_TEST_LOKI_URL")
	if url == "" {
		t.Skip("no Loki to test against: set RUNLOG_TEST_LOKI_URL (and RUNLOG_TEST_LOKI_OTLP) to a Loki you run, such as `docker compose --profile loki up -d loki otelcol-loki`; see live_test.go")
	}
	otlp := os.Getenv("RUNLOG_TEST_LOKI_OTLP")
	if otlp == "" {
		otlp = url + "/otlp"
	}
	f, err := runlog.LookupFlavor("otel")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Validate(map[string]string{"endpoint": otlp, "query_url": url, "level": "debug", "spool_dir": t.TempDir(), "query_timeout": "20s"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := flavors.OpenOTel(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLiveConformance runs the storetest suite through the user's Loki.
func TestLiveConformance(t *testing.T) {
	s := userLoki(t)
	storetest.Run(t, storetest.Harness{Store: s, AttributeKey: loki.AttributeKey, Timeout: 60 * time.Second})
}

// TestLiveLogQLInjection uses ids and grep text made of LogQL syntax: each
// must match exactly its own lines.
func TestLiveLogQLInjection(t *testing.T) {
	s := userLoki(t)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
	base := "inj-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ids := []string{base + `"} or {service_name=~".+"`, base + "` |= ``", base + `\" | line_format "{{.}}"`, base + ".*", base}
	for i, id := range ids {
		ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: id, StepID: id + `|~ ".*"`})
		if err != nil {
			t.Fatal(err)
		}
		slog.InfoContext(ctx, fmt.Sprintf(`msg %d |= "x" != "y" \n`, i))
		slog.InfoContext(ctx, "other")
		if err := s.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		q := runlog.Query{RunID: id, StepID: id + `|~ ".*"`}
		var got []runlog.LogEntry
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
			got = got[:0]
			for e, err := range runlog.All(t.Context(), s, q) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
			if len(got) >= 2 || time.Now().After(deadline) {
				break
			}
		}
		if len(got) != 2 || got[0].RunID != id {
			t.Fatalf("run %q: %d entries; want its own 2", id, len(got))
		}
		q.Contains = fmt.Sprintf(`msg %d |= "x" != "y" \n`, i)
		p, err := s.Fetch(t.Context(), q)
		if err != nil || len(p.Entries) != 1 {
			t.Fatalf("grep of LogQL syntax in run %q: %d entries, %v; want 1", id, len(p.Entries), err)
		}
	}
}
