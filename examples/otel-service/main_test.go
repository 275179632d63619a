package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/file"
)

// TestTwoConcurrentSteps runs the example to a file and checks what a
// user of runlog would: each step's records come back under it alone, all
// of them, in each worker's order, and `runlog check` says complete,
// success; the service's own request lines belong to no step.
func TestTwoConcurrentSteps(t *testing.T) {
	const lines = 500
	cfg := config{RunID: "two-steps", Lines: lines, File: filepath.Join(t.TempDir(), "svc.jsonl")}
	if err := run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	f := file.New(filepath.Dir(cfg.File)).OneFile(cfg.File)
	for _, step := range steps {
		n := 0
		for e, err := range runlog.All(t.Context(), f, runlog.Query{RunID: cfg.RunID, StepID: step}) {
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(e.Message, step+" ") || e.Attributes["cicd.pipeline.task.name"] != step {
				t.Fatalf("step %s holds %q (task name %q)", step, e.Message, e.Attributes["cicd.pipeline.task.name"])
			}
			n++
		}
		if want := workers*lines + 1; n != want {
			t.Errorf("step %s: %d entries; want %d", step, n, want)
		}
	}
	cs, err := runlog.Check(t.Context(), f, runlog.Query{RunID: cfg.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(steps) {
		t.Fatalf("Check: %v; want one activation per step, none for the request lines", cs)
	}
	for _, c := range cs {
		if c.Status != runlog.StatusComplete || c.Result != runlog.ResultSuccess {
			t.Errorf("Check: %s; want complete, ended ok (success)", c)
		}
	}
}
