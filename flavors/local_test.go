package flavors_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/storetest"
)

func withSpan(ctx context.Context) (context.Context, string, string) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(ctx, sc), sc.TraceID().String(), sc.SpanID().String()
}

func TestLocalConformance(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{
		MinLevel: runlog.LevelDebug,
		Console:  slog.DiscardHandler,
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{Store: store, WithSpan: withSpan})
}

// TestEndMarker: Deactivate writes an end marker after the activation's
// records; Fetch reports it in Page.Ends, never as an entry.
func TestEndMarker(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(t.Context(), runlog.Scope{RunID: "r", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.Fetch(t.Context(), runlog.Query{RunID: "r", StepID: "s"})
	if err != nil || len(p.Ends) != 0 {
		t.Fatalf("before Deactivate: ends %v, %v; want none", p.Ends, err)
	}
	for range 3 {
		slog.InfoContext(ctx, "x")
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []runlog.Direction{runlog.Forward, runlog.Backward} {
		p, err = store.Fetch(t.Context(), runlog.Query{RunID: "r", StepID: "s", Direction: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 3 || len(p.Ends) != 1 || p.Ends[0].Count != 3 || p.Ends[0].Cause != "ok" || p.Ends[0].StepID != "s" {
			t.Fatalf("%v: %d entries, ends %+v; want 3 entries and one end of 3 records", dir, len(p.Entries), p.Ends)
		}
	}
	if p, _ := store.Fetch(t.Context(), runlog.Query{RunID: "r", StepID: "other"}); len(p.Ends) != 0 {
		t.Fatalf("another step's fetch reports ends %+v", p.Ends)
	}
}

// TestLocalBurstMillion: 1,000,000 records logged by one step in a tight
// loop all reach the embedded store, numbered without a gap, with the
// memory the queue bounds (logging waits when it is full).
func TestLocalBurstMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("logs 1,000,000 records")
	}
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler, NoSource: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(t.Context(), runlog.Scope{RunID: "burst", StepID: "one"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000000
	start := time.Now()
	var peak uint64
	var ms runtime.MemStats
	for i := range n {
		slog.InfoContext(ctx, "line", "i", i)
		if i%100000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("logged %d records in %v, peak heap in use %d MiB: %s", n, time.Since(start).Round(time.Millisecond), peak>>20, store.Stats())
	cs, err := runlog.Check(t.Context(), store, runlog.Query{RunID: "burst"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Status != runlog.StatusComplete || cs[0].Received != n || cs[0].Duplicates != 0 {
		t.Fatalf("Check = %v; want one complete activation of %d records", cs, n)
	}
	t.Log(cs[0])
}
