package attach_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore/attach"
)

// discard is an exporter that keeps nothing: the benchmark measures the
// logging side, not an exporter.
type discard struct{}

func (discard) Export(context.Context, []sdklog.Record) error { return nil }
func (discard) Shutdown(context.Context) error                { return nil }
func (discard) ForceFlush(context.Context) error              { return nil }

// BenchmarkEmit measures what attaching adds to a service's own pipeline
// (otelslog bridge, BatchProcessor): "service" is the pipeline alone, the
// baseline of the same run; "attached" the same with the Processor in
// front and a step in force. Compare their ns/op.
func BenchmarkEmit(b *testing.B) {
	for _, attached := range []bool{false, true} {
		name := "service"
		if attached {
			name = "attached"
		}
		b.Run(name, func(b *testing.B) {
			batch := sdklog.WithProcessor(sdklog.NewBatchProcessor(discard{}))
			var lp *sdklog.LoggerProvider
			ctx := context.Background()
			if attached {
				runs := attach.New(attach.Options{})
				lp = runs.NewLoggerProvider(batch)
				var err error
				if ctx, err = runs.Activate(ctx, runlog.Scope{RunID: "r", StepID: "s"}); err != nil {
					b.Fatal(err)
				}
				defer runs.Deactivate(ctx)
			} else {
				lp = sdklog.NewLoggerProvider(batch)
			}
			defer lp.Shutdown(context.Background())
			log := otelslog.NewLogger("bench", otelslog.WithLoggerProvider(lp))
			b.ReportAllocs()
			for b.Loop() {
				log.InfoContext(ctx, "a message of ordinary length", "k", "v", "n", 42, "ok", true)
			}
		})
	}
}
