package otelstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
)

// switchable is a file exporter that refuses exports while down is set,
// as a collector that is not listening does.
type switchable struct {
	*otelstore.FileExporter
	down *atomic.Bool
}

func (e switchable) Export(ctx context.Context, recs []sdklog.Record) error {
	if e.down.Load() {
		return errors.New("connect: connection refused")
	}
	return e.FileExporter.Export(ctx, recs)
}

// spoolStore returns a local-layout store under dir whose exports fail
// while down is set.
func spoolStore(t *testing.T, dir string, down *atomic.Bool, opts otelstore.Options) *otelstore.Store {
	t.Helper()
	opts.Console = slog.DiscardHandler
	opts.Exporter = func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
		return switchable{otelstore.NewFileExporter(layout.File(dir, a.Scope.RunID, a.Scope.StepID, a.ID), false), down}, nil
	}
	opts.Fetcher = file.New(dir)
	if opts.SpoolDir == "" {
		opts.SpoolDir = filepath.Join(dir, "spool")
	}
	s, err := otelstore.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkOne returns the completeness of the only activation of run.
func checkOne(t *testing.T, f runlog.Fetcher, run string) runlog.Completeness {
	t.Helper()
	cs, err := runlog.Check(t.Context(), f, runlog.Query{RunID: run})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("Check found %d activations; want 1: %v", len(cs), cs)
	}
	return cs[0]
}

// TestSpoolReplaysInOrder: the backend refuses the first records, then
// comes back mid-step; the spooled records are replayed before the later
// ones, and every record arrives once, in order.
func TestSpoolReplaysInOrder(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	down.Store(true)
	s := spoolStore(t, dir, &down, otelstore.Options{BatchSize: 100, ExportInterval: 10 * time.Millisecond})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := 1; i <= n; i++ {
		if i == n/2 {
			if _, err := s.Flush(ctx); err == nil {
				t.Error("Flush with the backend down succeeded")
			}
			down.Store(false)
		}
		slog.InfoContext(ctx, fmt.Sprint(i))
	}
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate = %v; want nil once the backend is back", err)
	}
	var got []string
	for e, err := range runlog.All(t.Context(), s, runlog.Query{RunID: "r"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Message)
	}
	if len(got) != n {
		t.Fatalf("fetched %d entries; want %d", len(got), n)
	}
	for i, m := range got {
		if m != fmt.Sprint(i+1) {
			t.Fatalf("entry %d is %q; want %d", i, m, i+1)
		}
	}
	if c := checkOne(t, s, "r"); c.Status != runlog.StatusComplete || c.Received != n || c.Duplicates != 0 {
		t.Fatalf("Check = %+v; want complete with %d records", c, n)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "spool")); len(ents) != 0 {
		t.Errorf("spool not emptied: %v", ents)
	}
}

// TestSpoolOrphanReplay: the backend stays down for the whole step;
// Deactivate says how many records are spooled and where; a second store
// on the same spool replays them with Flush.
func TestSpoolOrphanReplay(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	down.Store(true)
	s := spoolStore(t, dir, &down, otelstore.Options{})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		slog.InfoContext(ctx, "line", "i", i)
	}
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, runlog.ErrUnavailable) {
		t.Fatalf("Deactivate = %v; want a DeliveryError", err)
	}
	if de.Logged != 1000 || de.Spooled != 1001 || de.Delivered != 0 || de.Dropped != 0 || !strings.HasPrefix(de.SpoolPath, filepath.Join(dir, "spool")) {
		t.Fatalf("DeliveryError = %+v; want 1000 logged, 1001 spooled (with the end marker) under the spool", de)
	}
	for _, want := range []string{"1001 spooled in " + de.SpoolPath, "connection refused", "runlog flush"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("sent 1000, delivered %d, spooled %d, dropped %d", de.Delivered, de.Spooled, de.Dropped)

	down.Store(false)
	s2 := spoolStore(t, dir, &down, otelstore.Options{})
	rep, err := s2.Flush(t.Context())
	if err != nil || rep.Replayed != 1001 || rep.Segments != 1 || rep.Remaining != 0 {
		t.Fatalf("Flush = %+v, %v; want 1001 records of 1 segment replayed", rep, err)
	}
	c := checkOne(t, s2, "r")
	if c.Status != runlog.StatusComplete || c.Received != 1000 || c.Cause != runlog.CauseOK {
		t.Fatalf("Check = %+v; want complete with 1000 records", c)
	}
	t.Logf("after flush: %s; %s", rep, c)
}

// TestSpoolFull: a spool that cannot hold everything keeps what fits; the
// rest is counted dropped, the error names the directory and what to do,
// and Check lists exactly the missing sequence numbers.
func TestSpoolFull(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	down.Store(true)
	s := spoolStore(t, dir, &down, otelstore.Options{BatchSize: 10, SpoolMaxBytes: 20 << 10})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		slog.InfoContext(ctx, "line", "i", i)
	}
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.As(err, &de) || de.Spooled == 0 || de.Dropped == 0 || de.Spooled+de.Dropped != 501 {
		t.Fatalf("Deactivate = %v (%+v); want some of 501 spooled, the rest dropped", err, de)
	}
	for _, want := range []string{"spool full", "spool_max_bytes", filepath.Join(dir, "spool")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("sent 500 (+1 end marker), delivered %d, spooled %d, dropped %d", de.Delivered, de.Spooled, de.Dropped)
	down.Store(false)
	if _, err := spoolStore(t, dir, &down, otelstore.Options{}).Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The spool kept the first batches and the end marker; the
	// rest is gone, and Check says exactly which.
	c := checkOne(t, s, "r")
	if c.Status != runlog.StatusIncomplete || !c.Ended || c.Received != de.Spooled-1 {
		t.Fatalf("Check = %+v; want the %d spooled records and the end marker", c, de.Spooled)
	}
	if c.Missing != 500-c.Received || len(c.Gaps) != 1 || c.Gaps[0] != (runlog.Gap{From: c.Received + 1, To: 500}) {
		t.Fatalf("Check = %+v; want records %d-500 missing", c, c.Received+1)
	}
	t.Log(c)
}

// TestOverflowDrop: with the drop policy and a backend slower than the
// logger, records are dropped, counted in Deactivate's error (kind
// ErrOverLimit) and in the end marker, and Check reports them.
func TestOverflowDrop(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	dir := t.TempDir()
	var down atomic.Bool
	release := make(chan struct{})
	s, err := otelstore.New(otelstore.Options{
		Console: slog.DiscardHandler, Overflow: otelstore.OverflowDrop, QueueSize: 16, BatchSize: 16,
		Exporter: func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
			return gated{switchable{otelstore.NewFileExporter(layout.File(dir, a.Scope.RunID, a.Scope.StepID, a.ID), false), &down}, release}, nil
		},
		Fetcher:  file.New(dir),
		SpoolDir: filepath.Join(dir, "spool"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		slog.InfoContext(ctx, "line", "i", i) // never blocks
	}
	close(release)
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.Is(err, runlog.ErrOverLimit) || !errors.As(err, &de) || de.Dropped == 0 || de.Spooled != 0 {
		t.Fatalf("Deactivate = %v; want ErrOverLimit with records dropped", err)
	}
	c := checkOne(t, s, "r")
	if !c.Ended || c.Dropped != de.Dropped || c.Status != runlog.StatusIncomplete || c.Received+c.Dropped != 1000 || c.Missing != 0 {
		t.Fatalf("Check = %+v; want %d dropped per the end marker, the rest received", c, de.Dropped)
	}
	t.Logf("sent 1000, delivered %d, spooled %d, dropped %d; %s", de.Delivered, de.Spooled, de.Dropped, c)

	// The SDK's processor metric counts the drops and the deliveries.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otel.sdk.processor.log.processed" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				et, _ := dp.Attributes.Value("error.type")
				counts[et.AsString()] += dp.Value
			}
		}
	}
	if counts["queue_full"] != int64(de.Dropped) || counts[""] != int64(de.Delivered) {
		t.Fatalf("otel.sdk.processor.log.processed = %v; want queue_full %d and %d delivered", counts, de.Dropped, de.Delivered)
	}
}

// gated holds every export until release is closed.
type gated struct {
	switchable
	release chan struct{}
}

func (g gated) Export(ctx context.Context, recs []sdklog.Record) error {
	<-g.release
	return g.switchable.Export(ctx, recs)
}

// TestDeactivateFlushesAtOnce: Deactivate exports what is queued without
// waiting for the export interval (an hour here).
func TestDeactivateFlushesAtOnce(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	s := spoolStore(t, dir, &down, otelstore.Options{ExportInterval: time.Hour})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		slog.InfoContext(ctx, "line", "i", i)
	}
	start := time.Now()
	dctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := s.Deactivate(dctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Deactivate of 10 lines took %v", time.Since(start))
	if c := checkOne(t, s, "r"); c.Status != runlog.StatusComplete || c.Received != 10 {
		t.Fatalf("Check = %+v", c)
	}
}

// TestRunCauses: runlog.Run writes the cause into the end marker, and a
// panic's stack into the step's logs before it.
func TestRunCauses(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	s := spoolStore(t, dir, &down, otelstore.Options{})
	if err := runlog.Run(t.Context(), s, runlog.Scope{RunID: "r", StepID: "ok"}, func(ctx context.Context) error {
		slog.InfoContext(ctx, "fine")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := runlog.Run(t.Context(), s, runlog.Scope{RunID: "r", StepID: "error"}, func(context.Context) error {
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Run = %v; want boom", err)
	}
	func() {
		defer func() {
			if v := recover(); v != "kaput" {
				t.Errorf("recovered %v; want the step's panic to go on", v)
			}
		}()
		_ = runlog.Run(t.Context(), s, runlog.Scope{RunID: "r", StepID: "panic"}, func(context.Context) error {
			panic("kaput")
		})
	}()
	cs, err := runlog.Check(t.Context(), s, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	causes := map[string]string{}
	for _, c := range cs {
		if c.Status != runlog.StatusComplete {
			t.Errorf("%s", c)
		}
		causes[c.StepID] = c.Cause
	}
	if causes["ok"] != "ok" || causes["error"] != "error" || causes["panic"] != "panic" {
		t.Fatalf("causes = %v", causes)
	}
	p, err := s.Fetch(t.Context(), runlog.Query{RunID: "r", StepID: "panic"})
	if err != nil || len(p.Entries) != 1 {
		t.Fatalf("Fetch = %+v, %v; want the panic entry", p, err)
	}
	e := p.Entries[0]
	if e.Message != "panic: kaput" || e.Level != runlog.LevelError || !strings.Contains(e.Attributes["exception.stacktrace"], "TestRunCauses") {
		t.Fatalf("panic entry = %+v", e)
	}
}
