package otelstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
)

// newStore returns a store writing files under dir, one per activation.
func newStore(t *testing.T, dir string, opts otelstore.Options) *otelstore.Store {
	t.Helper()
	opts.Exporter = func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
		return otelstore.NewFileExporter(filepath.Join(dir, "runs", a.ID+".jsonl"), false), nil
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = filepath.Join(dir, "spool")
	}
	s, err := otelstore.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll decodes every record under dir with query/file's LogsURI mode.
func readAll(t *testing.T, dir, run string) []runlog.LogEntry {
	t.Helper()
	var out []runlog.LogEntry
	for e, err := range runlog.All(t.Context(), file.New(dir), runlog.Query{RunID: run, LogsURI: filepath.Join(dir, "runs")}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestStdDefaultLogger checks the case slog.SetDefault makes tricky: the
// initial default handler writes through package log, which SetDefault
// redirects to the new handler. Console output must keep its format and
// destination, nothing may recurse, and Deactivate must put package log
// back as it was.
func TestStdDefaultLogger(t *testing.T) {
	if fmtType := slog.Default().Handler(); !strings.Contains(strings.ToLower(typeName(fmtType)), "defaulthandler") {
		t.Skip("the default slog handler was replaced by an earlier test")
	}
	var console bytes.Buffer
	prevW, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(&console)
	log.SetFlags(0)
	defer func() { log.SetOutput(prevW); log.SetFlags(prevFlags) }()
	before := slog.Default()

	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "std", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("via slog", "k", "v")
	log.Printf("via package log")
	slog.DebugContext(ctx, "below both levels")
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	slog.Info("after")

	if slog.Default() != before {
		t.Error("default slog logger not restored")
	}
	if log.Writer() != &console || log.Flags() != 0 {
		t.Error("package log's writer and flags not restored")
	}
	want := "INFO via slog k=v\nINFO via package log\nINFO after\n"
	if console.String() != want {
		t.Errorf("console output:\n%s\nwant:\n%s", console.String(), want)
	}
	es := readAll(t, dir, "std")
	if len(es) != 2 || es[0].Message != "via slog" || es[1].Message != "via package log" {
		t.Errorf("stored %d entries: %+v; want the slog and the package log records", len(es), es)
	}
}

func typeName(v any) string {
	return strings.TrimPrefix(strings.TrimPrefix(otelstore.TypeName(v), "*"), "slog.")
}

// TestConsoleIsPreviousHandler checks that a handler the user had set stays
// in use, at its own level, and is restored.
func TestConsoleIsPreviousHandler(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	mine := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(mine)
	defer slog.SetDefault(prev)

	s := newStore(t, t.TempDir(), otelstore.Options{})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "info is below the console's level")
	slog.WarnContext(ctx, "warn reaches the console", "n", 1)
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	if slog.Default() != mine {
		t.Error("the user's default logger was not restored")
	}
	if got := buf.String(); strings.Contains(got, "info is below") || !strings.Contains(got, `"msg":"warn reaches the console","n":1`) {
		t.Errorf("console got %q", got)
	}
}

// TestBurstIsComplete logs far more records than the queue holds, from one
// goroutine, as fast as it can: backpressure must keep every one.
func TestBurstIsComplete(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{Console: slog.DiscardHandler, QueueSize: 256, BatchSize: 64, NoSource: true})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "burst", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for i := range n {
		slog.InfoContext(ctx, "x", "i", i)
	}
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	es := readAll(t, dir, "burst")
	if len(es) != n {
		t.Fatalf("stored %d of %d records", len(es), n)
	}
	for i, e := range es {
		if e.Sequence != uint64(i+1) {
			t.Fatalf("entry %d has sequence %d", i, e.Sequence)
		}
	}
}

// TestDeactivateReportsUndelivered points the exporter at a path that
// cannot be created and expects a typed error naming the count and file.
func TestDeactivateReportsUndelivered(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "runs")
	if err := os.WriteFile(blocker, []byte("a file where a directory should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, dir, otelstore.Options{Console: slog.DiscardHandler})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "fail", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		slog.InfoContext(ctx, "lost")
	}
	err = s.Deactivate(ctx)
	if !errors.Is(err, runlog.ErrUnavailable) {
		t.Fatalf("Deactivate = %v; want ErrUnavailable", err)
	}
	for _, want := range []string{"5 records", blocker, `run "fail" step "s"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// blockingExporter never finishes an export before its context ends.
type blockingExporter struct{}

func (blockingExporter) Export(ctx context.Context, _ []sdklog.Record) error {
	<-ctx.Done()
	return ctx.Err()
}
func (blockingExporter) Shutdown(context.Context) error   { return nil }
func (blockingExporter) ForceFlush(context.Context) error { return nil }

// TestDeactivateHonoursDeadline: a backend that hangs must not hang
// Deactivate past its context's deadline.
func TestDeactivateHonoursDeadline(t *testing.T) {
	s, err := otelstore.New(otelstore.Options{
		Console:       slog.DiscardHandler,
		ExportTimeout: time.Hour,
		Exporter: func(context.Context, *runlog.Activation) (sdklog.Exporter, error) {
			return blockingExporter{}, nil
		},
		SpoolDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "hang"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "stuck")
	// Long enough that the reserve left for spooling (a quarter, at most
	// 250 ms) is not eaten by a loaded machine.
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = s.Deactivate(dctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, runlog.ErrUnavailable) {
		t.Fatalf("Deactivate = %v; want a deadline error of kind ErrUnavailable", err)
	}
	// The export was cut short in time to spool the record and the marker.
	var de *runlog.DeliveryError
	if !errors.As(err, &de) || de.Spooled != 2 || de.Dropped != 0 || de.SpoolPath == "" {
		t.Fatalf("Deactivate = %#v; want 2 records spooled", de)
	}
}

func TestMinLevelFromEnv(t *testing.T) {
	t.Setenv("RUNLOG_LEVEL", "warn")
	s := newStore(t, t.TempDir(), otelstore.Options{})
	if got := s.Options().MinLevel; got != runlog.LevelWarn {
		t.Errorf("MinLevel = %v; want WARN from RUNLOG_LEVEL", got)
	}
	t.Setenv("RUNLOG_LEVEL", "loud")
	_, err := otelstore.New(otelstore.Options{Exporter: func(context.Context, *runlog.Activation) (sdklog.Exporter, error) { return nil, nil }})
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "RUNLOG_LEVEL") {
		t.Errorf("bad RUNLOG_LEVEL: %v; want ErrInvalid naming the variable", err)
	}
}

func TestInvalidScope(t *testing.T) {
	s := newStore(t, t.TempDir(), otelstore.Options{})
	for _, sc := range []runlog.Scope{{}, {RunID: "r", StepID: "a\x00b"}, {RunID: "r", Attempt: -1}, {RunID: "r", Attributes: map[string]string{"runlog.x": "y"}}} {
		if _, err := s.Activate(context.Background(), sc); !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("Activate(%+v) = %v; want ErrInvalid", sc, err)
		}
	}
}

// TestWithLoggerFollowsActivations: a logger made with With before any
// activation routes each record to the activation current when it logs.
func TestWithLoggerFollowsActivations(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{Console: slog.DiscardHandler})
	ctx1, err := s.Activate(t.Context(), runlog.Scope{RunID: "with"})
	if err != nil {
		t.Fatal(err)
	}
	lg := slog.Default().With("component", "loader").WithGroup("g")
	for i := range 100 { // more activations than the derived-handler cache holds
		step := "s" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		ctx, err := s.Activate(ctx1, runlog.Scope{RunID: "with", StepID: step})
		if err != nil {
			t.Fatal(err)
		}
		lg.InfoContext(ctx, "hello", "step", step)
		lg.Info("innermost", "step", step)
		if err := s.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Deactivate(ctx1); err != nil {
		t.Fatal(err)
	}
	es := readAll(t, dir, "with")
	if len(es) != 200 {
		t.Fatalf("%d entries; want 200", len(es))
	}
	for _, e := range es {
		if e.StepID != e.Attributes["g.step"] || e.Attributes["component"] != "loader" {
			t.Fatalf("entry %q of step %q has attributes %v", e.Message, e.StepID, e.Attributes)
		}
	}
}

// TestCaptureStdio: with CaptureStdio, what the process writes to its own
// stdout and stderr (fmt, children) is stored in the innermost activation,
// console output is not captured twice, and Deactivate restores the fds.
func TestCaptureStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("redirects the test binary's own stdout")
	}
	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{CaptureStdio: capture.StdioHook})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "cap", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("printed")
	_, _ = syscall.Write(2, []byte("to stderr\n")) // fd 2 itself: go test -json points os.Stderr at stdout
	slog.InfoContext(ctx, "via slog")              // stored once, not again as captured stderr
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range readAll(t, dir, "cap") {
		got[e.Message]++
	}
	if got["printed"] != 1 || got["to stderr"] != 1 || got["via slog"] != 1 || len(got) != 3 {
		t.Fatalf("stored %v; want each of printed, to stderr, via slog once", got)
	}
}

// TestDeactivateCancelledContext: a failed step's context is often
// cancelled by the time it is deactivated; its records must still land.
func TestDeactivateCancelledContext(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{Console: slog.DiscardHandler})
	stepCtx, cancel := context.WithCancel(t.Context())
	ctx, err := s.Activate(stepCtx, runlog.Scope{RunID: "cancelled", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		slog.ErrorContext(ctx, "failing", "i", i)
	}
	cancel()
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate with a cancelled context = %v", err)
	}
	if n := len(readAll(t, dir, "cancelled")); n != 100 {
		t.Fatalf("stored %d of 100 records", n)
	}
}
