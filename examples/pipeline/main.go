// Command pipeline runs a small pipeline on a runlog store, then fetches
// each step's logs back and prints them.
//
// The run has four steps: "load", then "train-a" and "train-b" concurrently,
// then "evaluate", which fails. Steps log through log/slog at several
// levels with attributes; the orchestrator logs at run level. Nothing in the
// steps knows about runlog: they get a context from Activate and log with
// it.
//
//	go run ./examples/pipeline                 # embedded local store
//	go run ./examples/pipeline -dir /tmp/logs  # somewhere else
//
// The evaluate step's activation ends with cause "error" (and so does the
// run's), so `runlog check RUN` reports it as failed; the program ends by
// printing the commands that read and check the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/runlog/runlog"
	_ "github.com/runlog/runlog/flavors"
)

func main() {
	flavor := flag.String("store", "local", "store flavor")
	dir := flag.String("dir", "", "data directory of the local store (default: the user's data directory)")
	level := flag.String("level", "debug", "lowest level stored")
	runID := flag.String("run", "", "run id (default: a new one)")
	fetchWait := flag.Duration("fetch-wait", 0, "how long to wait for every step's logs to become visible (for backends that ingest asynchronously, such as VictoriaLogs or Loki)")
	flag.Parse()
	if *runID == "" {
		*runID = "demo-" + time.Now().UTC().Format("20060102-150405.000")
	}
	if err := run(context.Background(), *flavor, *dir, *level, *runID, *fetchWait); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, flavor, dir, level, runID string, fetchWait time.Duration) error {
	cfg := map[string]string{"level": level}
	if dir != "" {
		cfg["dir"] = dir
	}
	store, err := runlog.Open(ctx, flavor, cfg)
	if err != nil {
		return err
	}

	fmt.Printf("== run %s: console output while the pipeline runs ==\n", runID)
	runErr := pipeline(ctx, store, runID)

	fmt.Printf("\n== logs fetched back from the %s store ==\n", flavor)
	steps := []string{"", "load", "train-a", "train-b", "evaluate"}
	// Wait until the last step's last line is visible (at once on the local
	// store; VictoriaLogs and Loki show what the collector sends within seconds).
	for deadline := time.Now().Add(fetchWait); ; time.Sleep(500 * time.Millisecond) {
		p, err := store.Fetch(ctx, runlog.Query{RunID: runID, StepID: "evaluate", MinLevel: runlog.LevelError})
		if err != nil {
			return err
		}
		if len(p.Entries) > 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, step := range steps {
		name := step
		if name == "" {
			name = "(run level)"
		}
		fmt.Printf("\n-- step %s --\n", name)
		n := 0
		for e, err := range runlog.All(ctx, store, runlog.Query{RunID: runID, StepID: step}) {
			if err != nil {
				return err
			}
			if step == "" && e.StepID != "" {
				continue // the run-level query returns every step; show only run-level records here
			}
			n++
			fmt.Println(format(e))
		}
		if n == 0 {
			return fmt.Errorf("no logs fetched for step %q", step)
		}
	}
	fmt.Printf("\nrun %s finished: %v\n", runID, outcome(runErr))
	if flavor == "local" {
		whereTheLogsAre(runID, dir)
	}
	return nil
}

// whereTheLogsAre tells the user where the run's logs are and how to read
// and check them again, with commands that work from the repository's root.
func whereTheLogsAre(runID, dir string) {
	if dir == "" {
		dir = os.Getenv("RUNLOG_DATA_DIR")
	}
	env := ""
	if dir != "" {
		fmt.Printf("run %s: logs stored in %s (local store)\n", runID, dir)
		env = "RUNLOG_DATA_DIR=" + shellQuote(dir) + " "
	} else {
		fmt.Printf("run %s: logs stored in the local store's default directory (runlog under your data directory)\n", runID)
	}
	fmt.Printf("run %s: read them with   %sgo run ./cmd/runlog logs %s\n", runID, env, runID)
	fmt.Printf("run %s: check them with  %sgo run ./cmd/runlog check %s\n", runID, env, runID)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func outcome(err error) string {
	if err != nil {
		return "failed (" + err.Error() + ")"
	}
	return "ok"
}

// pipeline is what an orchestrator does: activate the run, then each step,
// run it, deactivate.
func pipeline(ctx context.Context, store runlog.LogStore, runID string) (err error) {
	runCtx, err := store.Activate(ctx, runlog.Scope{RunID: runID, Source: runlog.SourceOrchestrator,
		Attributes: map[string]string{"cicd.pipeline.name": "demo-pipeline"}})
	if err != nil {
		return err
	}
	defer func() {
		cause := runlog.CauseOK
		if err != nil {
			cause = runlog.CauseError
		}
		if derr := store.Deactivate(runlog.WithCause(runCtx, cause)); derr != nil && err == nil {
			err = derr
		}
	}()
	slog.Info("run started", "steps", 4)

	step := func(id string, fn func(context.Context) error) error {
		ctx, err := store.Activate(runCtx, runlog.Scope{RunID: runID, StepID: id})
		if err != nil {
			return err
		}
		slog.InfoContext(runCtx, "step started", "step", id)
		stepErr := fn(ctx)
		cause := runlog.CauseOK
		if stepErr != nil {
			// The error is a record of the step, and its end marker says
			// the step failed: `runlog check` shows it "ended error".
			slog.ErrorContext(ctx, "step failed", "err", stepErr)
			cause = runlog.CauseError
		}
		if err := store.Deactivate(runlog.WithCause(ctx, cause)); err != nil {
			return err
		}
		if stepErr != nil {
			slog.ErrorContext(runCtx, "step failed", "step", id, "err", stepErr)
			return fmt.Errorf("step %s: %w", id, stepErr)
		}
		slog.InfoContext(runCtx, "step finished", "step", id)
		return nil
	}

	if err := step("load", load); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []string{"train-a", "train-b"} {
		wg.Go(func() { errs[i] = step(id, train) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	err = step("evaluate", evaluate)
	slog.Info("run finished", "ok", err == nil)
	return err
}

func load(ctx context.Context) error {
	slog.DebugContext(ctx, "opening dataset", "path", "data/train.csv")
	slog.InfoContext(ctx, "loaded rows", "rows", 1200, "columns", 8)
	slog.WarnContext(ctx, "dropped rows with missing labels", "dropped", 17)
	return nil
}

func train(ctx context.Context) error {
	// A logger handed to code that takes no context still logs to this step.
	lg := runlog.Logger(ctx).With("model", stepOf(ctx))
	for epoch := 1; epoch <= 3; epoch++ {
		time.Sleep(5 * time.Millisecond)
		lg.Info("epoch done", "epoch", epoch, "loss", 1.0/float64(epoch+1))
	}
	slog.DebugContext(ctx, "saving checkpoint", slog.Group("checkpoint", "format", "safetensors", "bytes", 4096))
	return nil
}

func evaluate(ctx context.Context) error {
	slog.InfoContext(ctx, "evaluating", "metric", "accuracy")
	return errors.New("accuracy 0.41 is below the threshold 0.8")
}

// format prints an entry on one line: time, level, message, attributes.
func format(e runlog.LogEntry) string {
	keys := make([]string, 0, len(e.Attributes))
	for k := range e.Attributes {
		if !strings.HasPrefix(k, "code.") && !strings.HasPrefix(k, "cicd.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-5s %s", e.Time.Local().Format("15:04:05.000"), e.Level, e.Message)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, e.Attributes[k])
	}
	if e.Filename != "" {
		fmt.Fprintf(&b, "  (%s:%d)", shortFile(e.Filename), e.Lineno)
	}
	return b.String()
}

func shortFile(p string) string {
	if i := strings.LastIndex(p, "/examples/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func stepOf(ctx context.Context) string {
	if a, ok := runlog.FromContext(ctx); ok {
		return a.Scope.StepID
	}
	return ""
}
