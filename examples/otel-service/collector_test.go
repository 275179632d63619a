package main

import (
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/query/victorialogs"
)

// TestThroughCollector runs the example as a service exporting over
// OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT) to a real collector feeding a
// real VictoriaLogs, and reads the run back from VictoriaLogs: each step
// complete, under its own step, with none of the service's request lines.
func TestThroughCollector(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.OTLPEndpoint)
	const lines = 300
	cfg := config{RunID: "svc-" + time.Now().Format("150405.000000"), Lines: lines}
	if err := run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	vlc, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	var cs []runlog.Completeness
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if cs, err = runlog.Check(t.Context(), vlc, runlog.Query{RunID: cfg.RunID}); err != nil {
			t.Fatal(err)
		}
		done := len(cs) == len(steps)
		for _, c := range cs {
			done = done && c.Status == runlog.StatusComplete
		}
		if done || time.Now().After(deadline) {
			break
		}
	}
	if len(cs) != len(steps) {
		t.Fatalf("Check: %v; want one activation per step", cs)
	}
	for _, c := range cs {
		if c.Status != runlog.StatusComplete || c.Received != workers*lines+1 || c.Result != runlog.ResultSuccess {
			t.Errorf("Check: %s; want complete, %d records, ended ok (success)", c, workers*lines+1)
		}
	}
	for _, step := range steps {
		for e, err := range runlog.All(t.Context(), vlc, runlog.Query{RunID: cfg.RunID, StepID: step}) {
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(e.Message, step+" ") {
				t.Fatalf("step %s holds %q", step, e.Message)
			}
		}
	}
}
