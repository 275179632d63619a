package otelstore

import (
	"context"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

type nopExporter struct{}

func (nopExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (nopExporter) Shutdown(context.Context) error                { return nil }
func (nopExporter) ForceFlush(context.Context) error              { return nil }

// TestForceFlushAfterShutdown: a flush that races the activation's end
// (Store.Flush beside a Deactivate) returns at once, never waits for a
// worker that has stopped.
func TestForceFlushAfterShutdown(t *testing.T) {
	opts := Options{BatchSize: 10, QueueSize: 10, ExportInterval: time.Hour, ExportTimeout: time.Second, MaxMessageBytes: 1 << 10}
	for range 40 {
		p := newProcessor(nopExporter{}, "a", &opts, nil, nil, nil)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := p.ForceFlush(ctx) // with the bug: waits out ctx, then ctx.Err()
		cancel()
		if err != nil {
			t.Fatalf("ForceFlush after Shutdown = %v; want nil", err)
		}
	}
}
