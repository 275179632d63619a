package flavors_test

import (
	"context"
	"log/slog"
	"testing"

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
