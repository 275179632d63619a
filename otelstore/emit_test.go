package otelstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/resource"
)

// recordKeeper keeps what it is asked to export.
type recordKeeper struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (c *recordKeeper) Export(_ context.Context, rs []sdklog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range rs {
		c.recs = append(c.recs, rs[i].Clone())
	}
	return nil
}
func (c *recordKeeper) Shutdown(context.Context) error   { return nil }
func (c *recordKeeper) ForceFlush(context.Context) error { return nil }

// describe renders what a record carries, but for what runlog adds
// (runlog.* attributes) and the observed time.
func describe(r *sdklog.Record) string {
	var attrs []string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if !strings.HasPrefix(string(kv.Key), "runlog.") {
			attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit()+"("+kv.Value.Type().String()+")")
		}
		return true
	})
	return fmt.Sprintf("%s %d %q body=%q trace=%s span=%s flags=%s scope=%v dropped=%d attrs=%v",
		r.Timestamp().Format(time.RFC3339Nano), r.Severity(), r.SeverityText(), r.Body().Emit(),
		r.TraceID(), r.SpanID(), r.TraceFlags(), r.InstrumentationScope(), r.DroppedAttributes(), attrs)
}

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.GroupValue(slog.Int("a", 1), slog.String("b", "x")) }

// TestEmitAsTheSDK: runlog's own path from the bridge to the queue
// (otelstore/emit.go) stores every record as the otelslog bridge and the
// SDK's logger store it: duplicate keys (last wins), groups, With,
// errors, values of every kind, many attributes, a trace context.
func TestEmitAsTheSDK(t *testing.T) {
	for _, source := range []bool{false, true} {
		t.Run(fmt.Sprint("source=", source), func(t *testing.T) { emitAsTheSDK(t, source) })
	}
}

func emitAsTheSDK(t *testing.T, source bool) {
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:]) // a source location for the records
	tid, _ := trace.TraceIDFromHex("0102030405060708090a0b0c0d0e0f10")
	sid, _ := trace.SpanIDFromHex("0102030405060708")
	traced := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	many := make([]any, 0, 80)
	for i := range 40 {
		many = append(many, fmt.Sprint("k", i%35), i)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	logAll := func(l *slog.Logger) {
		n := 0
		rec := func(ctx context.Context, l *slog.Logger, lvl slog.Level, msg string, args ...any) {
			n++ // one second apart: runlog would move equal times apart (prepare.go)
			r := slog.NewRecord(at.Add(time.Duration(n)*time.Second), lvl, msg, pcs[0])
			r.Add(args...)
			_ = l.Handler().Handle(ctx, r)
		}
		ctx := context.Background()
		rec(ctx, l, slog.LevelInfo, "plain", "method", "GET", "status", 200)
		rec(ctx, l, slog.LevelWarn, "dups", "a", 1, "b", 2, "a", "three")
		rec(ctx, l, slog.LevelDebug+1, "kinds", "f", 1.5, "t", at, "d", time.Second, "u", uint64(1<<63), "bool", true,
			"any", []string{"x"}, "v", valuer{}, slog.Group("", "inl", 1), "empty", nil)
		rec(ctx, l, slog.LevelInfo, "scalars", "f", 1.5, "t", at, "d", time.Second, "u", uint64(1<<63), "u2", uint64(7),
			"bool", true, "i", -3, "s", "text")
		rec(ctx, l, slog.LevelError, "err", "err", errors.New("boom"), "k", "v")
		rec(ctx, l, slog.LevelInfo, "group", slog.Group("g", "a", 1, "b", 2))
		rec(ctx, l, slog.LevelInfo, "group dups", slog.Group("g", "a", 1, "a", 2))
		rec(ctx, l, slog.LevelInfo, "many", many...)
		rec(traced, l, slog.LevelInfo, "traced", "k", "v")
		w := l.With("w", 1, "w", 2)
		rec(ctx, w, slog.LevelInfo, "with", "w", 3, "x", 4)
		g := l.WithGroup("outer").With("o", 1)
		rec(ctx, g, slog.LevelInfo, "in group", "a", 1)
		rec(ctx, g, slog.LevelInfo, "in group dups", "a", 1, "a", 2)
		rec(ctx, l, slog.LevelInfo, "six", "1", 1, "2", 2, "3", 3, "4", 4, "5", 5, "6", 6)
	}

	// The SDK's way: the bridge on a provider with the activation's resource.
	sdkExp := &recordKeeper{}
	p := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(sdkExp)),
		sdklog.WithResource(resource.New(runlog.Scope{RunID: "r"}, "a", nil)))
	logAll(slog.New(otelslog.NewHandler("runlog", otelslog.WithLoggerProvider(p), otelslog.WithSource(source))))
	_ = p.Shutdown(context.Background())

	ours := &recordKeeper{}
	s, err := otelstore.New(otelstore.Options{Console: slog.DiscardHandler, NoSpool: true, NoSource: !source, MinLevel: runlog.LevelTrace,
		Exporter: func(context.Context, *runlog.Activation) (sdklog.Exporter, error) { return ours, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	logAll(runlog.Logger(ctx))
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	ours.recs = slices.DeleteFunc(ours.recs, func(r sdklog.Record) bool { // the end marker
		end := false
		r.WalkAttributes(func(kv attribute.KeyValue) bool { end = end || resource.IsEnd(kv); return true })
		return end
	})
	if len(ours.recs) != len(sdkExp.recs) {
		t.Fatalf("stored %d records; the SDK %d", len(ours.recs), len(sdkExp.recs))
	}
	for i := range sdkExp.recs {
		if got, want := describe(&ours.recs[i]), describe(&sdkExp.recs[i]); got != want {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
