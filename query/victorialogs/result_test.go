package victorialogs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

// TestResultThroughCollector: the end marker's cause and its CI/CD result
// (cicd.pipeline.task.run.result) reach a real VictoriaLogs through a real
// collector and come back through runlog.Check, for each way a step ends.
func TestResultThroughCollector(t *testing.T) {
	_, _, s := servers(t)
	quiet(t)
	run := runID("result")
	sc := func(step string) runlog.Scope { return runlog.Scope{RunID: run, StepID: step} }
	if err := runlog.Run(t.Context(), s, sc("ok"), func(ctx context.Context) error { slog.InfoContext(ctx, "x"); return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := runlog.Run(t.Context(), s, sc("fails"), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := runlog.Run(t.Context(), s, sc("slow"), func(context.Context) error { return context.DeadlineExceeded }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = runlog.Run(t.Context(), s, sc("panics"), func(context.Context) error { panic("oops") })
	}()
	ctx, err := s.Activate(t.Context(), sc("stopped"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Deactivate(runlog.WithCause(ctx, runlog.CauseSignal)); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"ok":      {runlog.CauseOK, runlog.ResultSuccess},
		"fails":   {runlog.CauseError, runlog.ResultFailure},
		"slow":    {runlog.CauseTimeout, runlog.ResultTimeout},
		"panics":  {runlog.CausePanic, runlog.ResultError},
		"stopped": {runlog.CauseSignal, runlog.ResultCancellation},
	}
	var cs []runlog.Completeness
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if cs, err = runlog.Check(t.Context(), s, runlog.Query{RunID: run}); err != nil {
			t.Fatal(err)
		}
		ended := 0
		for _, c := range cs {
			if c.Ended {
				ended++
			}
		}
		if ended == len(want) || time.Now().After(deadline) {
			break
		}
	}
	if len(cs) != len(want) {
		t.Fatalf("Check found %d activations; want %d: %v", len(cs), len(want), cs)
	}
	for _, c := range cs {
		w := want[c.StepID]
		if c.Status != runlog.StatusComplete || c.Cause != w[0] || c.Result != w[1] {
			t.Errorf("step %s: %s, result %q; want complete, ended %s, result %s", c.StepID, c, c.Result, w[0], w[1])
		}
	}
}
