package otelstore_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
)

// fetchOnly is a Fetcher and nothing else.
type fetchOnly struct{ runlog.Fetcher }

func TestStoreLifecycleForwards(t *testing.T) {
	dir := t.TempDir()
	exp := func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
		return otelstore.NewFileExporter(layout.File(dir, a.Scope.RunID, a.Scope.StepID, a.ID), false), nil
	}
	s, err := otelstore.New(otelstore.Options{Name: "t", Exporter: exp, Fetcher: file.New(dir), Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"a", "b"} {
		ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: "s"})
		if err != nil {
			t.Fatal(err)
		}
		slog.InfoContext(ctx, "hello")
		if err := s.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil || len(p.Runs) != 2 {
		t.Fatalf("ListRuns = %+v, %v; want 2 runs", p, err)
	}
	rep, err := s.DeleteRun(t.Context(), "a")
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("DeleteRun = %+v, %v; want its one file removed", rep, err)
	}
	if page, err := s.Fetch(t.Context(), runlog.Query{RunID: "a"}); err != nil || len(page.Entries) != 0 {
		t.Fatalf("Fetch after delete = %d entries, %v", len(page.Entries), err)
	}

	plain, err := otelstore.New(otelstore.Options{Name: "plain", Exporter: exp, Fetcher: fetchOnly{file.New(dir)}, Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ListRuns(t.Context(), runlog.RunQuery{}); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("ListRuns without a RunLister: %v; want ErrInvalid", err)
	}
	if _, err := plain.DeleteRun(t.Context(), "b"); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("DeleteRun without a Deleter: %v; want ErrInvalid", err)
	}
}
