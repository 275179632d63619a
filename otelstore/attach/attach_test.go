package attach_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/otelstore/attach"
	"github.com/runlog/runlog/query/file"
	"github.com/runlog/runlog/storetest"
)

// service builds what a service has before runlog: a LoggerProvider with
// its own resource and exporter (a file, through a processor that does not
// drop), and the otelslog bridge as its default logger; runs is attached
// in front. It returns the processor and the file's fetcher.
func service(t *testing.T) (*attach.Processor, *sdklog.LoggerProvider, runlog.Fetcher) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "service.jsonl")
	ff := file.New(dir).OneFile(path)
	runs := attach.New(attach.Options{Name: "svc", Fetcher: ff})
	lp := runs.NewLoggerProvider(
		sdklog.WithResource(sdkresource.NewSchemaless()),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(otelstore.NewFileExporter(path, false))),
	)
	prev := slog.Default()
	slog.SetDefault(otelslog.NewLogger("svc", otelslog.WithLoggerProvider(lp), otelslog.WithSource(true)))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		_ = lp.Shutdown(context.Background())
	})
	return runs, lp, ff
}

// TestConformanceLocal runs storetest with the processor attached to a
// service's provider that writes a file, read back by query/file.
func TestConformanceLocal(t *testing.T) {
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) runlog.LogStore {
		runs, _, _ := service(t)
		return runs
	}})
}

// TestRouting: concurrent steps with their own contexts, records with no
// activation in their context (the innermost), records of an ended
// activation (left alone, counted), records with no activation in force
// (left alone), each as a user would find them with Fetch and Check.
func TestRouting(t *testing.T) {
	runs, lp, ff := service(t)
	log := otelslog.NewLogger("svc", otelslog.WithLoggerProvider(lp))
	log.Info("before any activation")
	runCtx, err := runs.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, step := range []string{"a", "b"} {
		wg.Go(func() {
			ctx, err := runs.Activate(runCtx, runlog.Scope{RunID: "r", StepID: step,
				Attributes: map[string]string{"cicd.pipeline.task.name": "task " + step}})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 200 {
				log.InfoContext(ctx, fmt.Sprintf("%s %d", step, i))
			}
			if err := runs.Deactivate(ctx); err != nil {
				t.Error(err)
			}
			log.InfoContext(ctx, "after the end")
		})
	}
	wg.Wait()
	log.Info("run level") // no context: the innermost, the run
	if err := runs.Deactivate(runlog.WithCause(runCtx, runlog.CauseError)); err != nil {
		t.Fatal(err)
	}
	log.Info("after every activation")

	for _, step := range []string{"a", "b"} {
		n := 0
		for e, err := range runlog.All(t.Context(), ff, runlog.Query{RunID: "r", StepID: step}) {
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%s %d", step, n); e.Message != want || e.Sequence != uint64(n+1) || e.Attributes["cicd.pipeline.task.name"] != "task "+step {
				t.Fatalf("step %s entry %d: %q sequence %d, task name %q; want %q, sequence %d", step, n, e.Message, e.Sequence, e.Attributes["cicd.pipeline.task.name"], want, n+1)
			}
			n++
		}
		if n != 200 {
			t.Errorf("step %s: %d entries; want 200", step, n)
		}
	}
	p, err := ff.Fetch(t.Context(), runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	var runLevel []string
	for _, e := range p.Entries {
		if e.StepID == "" {
			runLevel = append(runLevel, e.Message)
		}
	}
	if len(runLevel) != 1 || runLevel[0] != "run level" {
		t.Errorf("run-level entries %q; want only %q", runLevel, "run level")
	}
	if runs.Late() != 2 {
		t.Errorf("Late() = %d; want the 2 records logged after their step ended", runs.Late())
	}
	cs, err := runlog.Check(t.Context(), ff, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("Check: %v; want 3 activations", cs)
	}
	for _, c := range cs {
		want := uint64(200)
		cause, result := runlog.CauseOK, runlog.ResultSuccess
		if c.StepID == "" {
			want, cause, result = 1, runlog.CauseError, runlog.ResultFailure
		}
		if c.Status != runlog.StatusComplete || c.Received != want || c.Cause != cause || c.Result != result {
			t.Errorf("Check: %s; want complete, %d records, ended %s (%s)", c, want, cause, result)
		}
	}
}

// TestRunAndLogger: runlog.Run works with the processor as its store, and
// a logger from runlog.Logger(ctx) writes to its activation whatever
// context it is used with later.
func TestRunAndLogger(t *testing.T) {
	runs, _, ff := service(t)
	err := runlog.Run(t.Context(), runs, runlog.Scope{RunID: "r", StepID: "s"}, func(ctx context.Context) error {
		other, err := runs.Activate(context.Background(), runlog.Scope{RunID: "r", StepID: "inner"})
		if err != nil {
			return err
		}
		runlog.Logger(ctx).InfoContext(other, "to s") // the logger's activation wins
		slog.Info("to inner")                         // the innermost
		return runs.Deactivate(other)
	})
	if err != nil {
		t.Fatal(err)
	}
	for step, want := range map[string]string{"s": "to s", "inner": "to inner"} {
		p, err := ff.Fetch(t.Context(), runlog.Query{RunID: "r", StepID: step})
		if err != nil || len(p.Entries) != 1 || p.Entries[0].Message != want {
			t.Errorf("step %s: %+v, %v; want one entry %q", step, p.Entries, err, want)
		}
	}
}

// TestNoProvider: Activate says what to do when the processor was never
// given its provider.
func TestNoProvider(t *testing.T) {
	_, err := attach.New(attach.Options{}).Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err == nil {
		t.Fatal("Activate without a provider succeeded")
	}
	t.Log(err)
}

// TestOtherStoresActivation: a record whose context carries another
// store's activation is that store's business: left alone, not given to
// this processor's innermost activation.
func TestOtherStoresActivation(t *testing.T) {
	runs, lp, ff := service(t)
	other, _, _ := service(t)
	ctx, err := runs.Activate(t.Context(), runlog.Scope{RunID: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	octx, err := other.Activate(t.Context(), runlog.Scope{RunID: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	log := otelslog.NewLogger("svc", otelslog.WithLoggerProvider(lp))
	log.InfoContext(octx, "with the other store's step")
	log.InfoContext(ctx, "mine")
	if err := errors.Join(other.Deactivate(octx), runs.Deactivate(ctx)); err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string]int{"mine": 1, "theirs": 0} {
		p, err := ff.Fetch(t.Context(), runlog.Query{RunID: run})
		if err != nil || len(p.Entries) != want {
			t.Errorf("run %s in this service's file: %+v, %v; want %d entries", run, p.Entries, err, want)
		}
	}
}
