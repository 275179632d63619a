package flavors_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

// TestResultOnLocal: every way a step can end comes back from the local
// store as its cause and its CI/CD result (cicd.pipeline.task.run.result),
// through runlog.Check, as `runlog check` shows it.
func TestResultOnLocal(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	want := endSteps(t, store, "r")
	cs, err := runlog.Check(t.Context(), store, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	wantResults(t, cs, want)
}

// endSteps ends one step of run in s per way a step ends, and returns the
// cause and result each must show.
func endSteps(t *testing.T, s runlog.LogStore, run string) map[string][2]string {
	t.Helper()
	sc := func(step string) runlog.Scope { return runlog.Scope{RunID: run, StepID: step} }
	step := func(ctx context.Context) error { slog.InfoContext(ctx, "working"); return nil }
	if err := runlog.Run(t.Context(), s, sc("ok"), step); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := runlog.Run(t.Context(), s, sc("fails"), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Run = %v; want the step's error", err)
	}
	if err := runlog.Run(t.Context(), s, sc("slow"), func(context.Context) error { return context.DeadlineExceeded }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v; want the step's error", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = runlog.Run(t.Context(), s, sc("panics"), func(context.Context) error { panic("oops") })
	}()
	for step, cause := range map[string]string{"stopped": runlog.CauseSignal, "skipped": "skipped", "own": "out-of-memory"} {
		ctx, err := s.Activate(t.Context(), sc(step))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Deactivate(runlog.WithCause(ctx, cause)); err != nil {
			t.Fatal(err)
		}
	}
	return map[string][2]string{
		"ok":      {runlog.CauseOK, runlog.ResultSuccess},
		"fails":   {runlog.CauseError, runlog.ResultFailure},
		"slow":    {runlog.CauseTimeout, runlog.ResultTimeout},
		"panics":  {runlog.CausePanic, runlog.ResultError},
		"stopped": {runlog.CauseSignal, runlog.ResultCancellation},
		"skipped": {"skipped", runlog.ResultSkip},
		"own":     {"out-of-memory", runlog.ResultFailure},
	}
}

// wantResults fails unless cs holds one ended activation per step of want,
// with its cause and result.
func wantResults(t *testing.T, cs []runlog.Completeness, want map[string][2]string) {
	t.Helper()
	if len(cs) != len(want) {
		t.Fatalf("Check found %d activations; want %d: %v", len(cs), len(want), cs)
	}
	for _, c := range cs {
		w := want[c.StepID]
		if !c.Ended || c.Cause != w[0] || c.Result != w[1] {
			t.Errorf("step %s: %s, result %q; want ended %s, result %s", c.StepID, c, c.Result, w[0], w[1])
		}
	}
}
