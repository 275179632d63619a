package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

// TestMakeRun runs the example as `make run` does, against a fresh data
// directory, and checks that every line comes back under the step that
// logged it, in order, DEBUG included.
func TestMakeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example")
	}
	cmd := exec.Command("go", "run", ".", "-run", "test-run")
	dataDir := t.TempDir()
	cmd.Env = append(os.Environ(), "RUNLOG_DATA_DIR="+dataDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("example failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	sections := map[string][]string{}
	var cur string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if m := regexp.MustCompile(`^-- step (.*) --$`).FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if cur != "" && line != "" && !strings.HasPrefix(line, "run ") {
			sections[cur] = append(sections[cur], line)
		}
	}
	want := map[string][]string{
		"load":        {"DEBUG opening dataset", "INFO  loaded rows", "WARN  dropped rows"},
		"train-a":     {"INFO  epoch done epoch=1", "INFO  epoch done epoch=2", "INFO  epoch done epoch=3", "DEBUG saving checkpoint"},
		"train-b":     {"INFO  epoch done epoch=1", "INFO  epoch done epoch=2", "INFO  epoch done epoch=3", "DEBUG saving checkpoint"},
		"evaluate":    {"INFO  evaluating", "ERROR step failed exception.message=accuracy 0.41"},
		"(run level)": {"INFO  run started", "INFO  step started step=load", "INFO  step finished step=load"},
	}
	for step, lines := range want {
		got := sections[step]
		if step != "(run level)" && len(got) != len(lines) {
			t.Errorf("step %s: %d lines, want %d:\n%s", step, len(got), len(lines), strings.Join(got, "\n"))
			continue
		}
		for i, w := range lines {
			if i >= len(got) || !strings.Contains(got[i], w) {
				t.Errorf("step %s line %d: want %q in\n%s", step, i, w, strings.Join(got, "\n"))
				break
			}
		}
		for _, g := range got {
			if step == "train-a" && strings.Contains(g, "model=train-b") || step == "train-b" && strings.Contains(g, "model=train-a") {
				t.Errorf("step %s shows another step's line: %s", step, g)
			}
		}
	}
	if !strings.Contains(stdout.String(), "finished: failed (step evaluate:") {
		t.Errorf("the run's outcome is missing:\n%s", stdout.String())
	}
	// It ends by saying where the logs are and how to read and check them.
	for _, want := range []string{
		"run test-run: logs stored in " + dataDir + " (local store)\n",
		"go run ./cmd/runlog logs test-run\n",
		"go run ./cmd/runlog check test-run\n",
		"RUNLOG_DATA_DIR=",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the closing lines lack %q:\n%s", want, stdout.String())
		}
	}

	// The failed step, and the run, are recorded as failed.
	store, err := runlog.Open(t.Context(), "local", map[string]string{"dir": dataDir})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := runlog.Check(t.Context(), store, runlog.Query{RunID: "test-run"})
	if err != nil {
		t.Fatal(err)
	}
	causes := map[string]string{}
	for _, c := range cs {
		if c.Status != runlog.StatusComplete || !c.Ended {
			t.Errorf("%v: not complete", c)
		}
		causes[c.StepID] = c.Cause
	}
	wantCause := map[string]string{"": "error", "load": "ok", "train-a": "ok", "train-b": "ok", "evaluate": "error"}
	for step, cause := range wantCause {
		if causes[step] != cause {
			t.Errorf("step %q ended %q; want %q (all: %v)", step, causes[step], cause, causes)
		}
	}
}
