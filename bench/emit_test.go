package bench

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
)

// countingExporter drops what it is given after counting it: the cost of
// the pipeline in front of the exporter, without the exporter's own.
type countingExporter struct{ n atomic.Int64 }

func (e *countingExporter) Export(_ context.Context, rs []sdklog.Record) error {
	e.n.Add(int64(len(rs)))
	return nil
}
func (e *countingExporter) Shutdown(context.Context) error   { return nil }
func (e *countingExporter) ForceFlush(context.Context) error { return nil }

// logThree is the call measured: one record with three attributes.
func logThree(l *slog.Logger, i int) {
	l.Info("request handled", "method", "GET", "status", 200, "iteration", i)
}

// BenchmarkEmit compares one slog.Info with three attributes through an
// activated runlog store against the raw otelslog bridge with the SDK's
// BatchProcessor and against slog.JSONHandler to io.Discard, all in one
// run. Exporters count and discard, so the pipelines in front of them are
// what is measured. The "file" cases write real OTLP JSON files; there the
// SDK's BatchProcessor drops what its queue cannot hold, which the
// benchmark reports as delivered/op < 1.
func BenchmarkEmit(b *testing.B) {
	b.Run("slog-json-discard", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			logThree(l, i)
		}
	})
	for _, source := range []bool{false, true} {
		suffix := ""
		if source {
			suffix = "+source"
		}
		b.Run("otelslog-raw"+suffix, func(b *testing.B) {
			exp := &countingExporter{}
			benchRaw(b, exp, source)
			b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
		})
		b.Run("runlog"+suffix, func(b *testing.B) {
			exp := &countingExporter{}
			benchRunlog(b, func(*runlog.Activation) sdklog.Exporter { return exp }, source)
			b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
		})
	}
	b.Run("otelslog-raw-file", func(b *testing.B) {
		exp := &countedFile{FileExporter: otelstore.NewFileExporter(filepath.Join(b.TempDir(), "raw.jsonl"), false)}
		benchRaw(b, exp, false)
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
	})
	b.Run("runlog-file", func(b *testing.B) {
		dir := b.TempDir()
		var n atomic.Int64
		benchRunlog(b, func(a *runlog.Activation) sdklog.Exporter {
			return &countedFile{FileExporter: otelstore.NewFileExporter(filepath.Join(dir, a.ID+".jsonl"), false), shared: &n}
		}, false)
		b.ReportMetric(float64(n.Load())/float64(b.N), "delivered/op")
	})
}

type countedFile struct {
	*otelstore.FileExporter
	n      atomic.Int64
	shared *atomic.Int64
}

func (e *countedFile) Export(ctx context.Context, rs []sdklog.Record) error {
	err := e.FileExporter.Export(ctx, rs)
	if err == nil {
		e.n.Add(int64(len(rs)))
		if e.shared != nil {
			e.shared.Add(int64(len(rs)))
		}
	}
	return err
}

func benchRaw(b *testing.B, exp sdklog.Exporter, source bool) {
	p := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	l := otelslog.NewLogger("bench", otelslog.WithLoggerProvider(p), otelslog.WithSource(source))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		logThree(l, i)
	}
	b.StopTimer()
	if err := p.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func benchRunlog(b *testing.B, exp func(*runlog.Activation) sdklog.Exporter, source bool) {
	s, err := otelstore.New(otelstore.Options{
		Console:  slog.DiscardHandler,
		NoSource: !source,
		Exporter: func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) { return exp(a), nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: "bench", StepID: "emit"})
	if err != nil {
		b.Fatal(err)
	}
	l := slog.Default() // the router: what a pipeline's slog.Info goes through
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		logThree(l, i)
	}
	b.StopTimer()
	if err := s.Deactivate(ctx); err != nil {
		b.Fatal(err)
	}
}
