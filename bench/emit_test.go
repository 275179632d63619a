package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
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

// BenchmarkEmitParallel is BenchmarkEmit's call from 16 goroutines at
// once (8 per core on 2): contention in the router and the queues. "one
// step" has every goroutine log into one activation (one queue), next to
// the raw pipeline with one provider; "16 steps" gives each goroutine an
// activation of its own, logged to by context (the router picks it per
// record), next to 16 raw providers. Exporters count and discard.
func BenchmarkEmitParallel(b *testing.B) {
	const goroutines = 16
	par := max(1, goroutines/runtime.GOMAXPROCS(0))
	b.Run("otelslog-raw", func(b *testing.B) {
		exp := &countingExporter{}
		p := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		l := otelslog.NewLogger("bench", otelslog.WithLoggerProvider(p))
		runParallel(b, par, func(int) (*slog.Logger, context.Context) { return l, context.Background() })
		_ = p.Shutdown(context.Background())
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
	})
	b.Run("runlog", func(b *testing.B) {
		exp := &countingExporter{}
		s, ctxs := activateSteps(b, exp, 1)
		runParallel(b, par, func(int) (*slog.Logger, context.Context) { return slog.Default(), context.Background() })
		deactivate(b, s, ctxs)
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
	})
	b.Run("otelslog-raw-16-providers", func(b *testing.B) {
		exp := &countingExporter{}
		ls := make([]*slog.Logger, goroutines)
		ps := make([]*sdklog.LoggerProvider, goroutines)
		for i := range ls {
			ps[i] = sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
			ls[i] = otelslog.NewLogger("bench", otelslog.WithLoggerProvider(ps[i]))
		}
		runParallel(b, par, func(g int) (*slog.Logger, context.Context) { return ls[g%goroutines], context.Background() })
		for _, p := range ps {
			_ = p.Shutdown(context.Background())
		}
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
	})
	b.Run("runlog-16-steps", func(b *testing.B) {
		exp := &countingExporter{}
		s, ctxs := activateSteps(b, exp, goroutines)
		runParallel(b, par, func(g int) (*slog.Logger, context.Context) { return slog.Default(), ctxs[g%goroutines] })
		deactivate(b, s, ctxs)
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "delivered/op")
	})
}

// runParallel logs from par goroutines per core; each gets its logger
// and context from pick, by the order it started in.
func runParallel(b *testing.B, par int, pick func(g int) (*slog.Logger, context.Context)) {
	var started atomic.Int64
	b.SetParallelism(par)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		l, ctx := pick(int(started.Add(1) - 1))
		for i := 0; pb.Next(); i++ {
			l.InfoContext(ctx, "request handled", "method", "GET", "status", 200, "iteration", i)
		}
	})
	b.StopTimer()
}

func activateSteps(b *testing.B, exp sdklog.Exporter, n int) (*otelstore.Store, []context.Context) {
	s, err := otelstore.New(otelstore.Options{Console: slog.DiscardHandler, NoSource: true,
		Exporter: func(context.Context, *runlog.Activation) (sdklog.Exporter, error) { return exp, nil }})
	if err != nil {
		b.Fatal(err)
	}
	ctxs := make([]context.Context, n)
	for i := range ctxs {
		if ctxs[i], err = s.Activate(context.Background(), runlog.Scope{RunID: "bench", StepID: fmt.Sprint("step-", i)}); err != nil {
			b.Fatal(err)
		}
	}
	return s, ctxs
}

func deactivate(b *testing.B, s *otelstore.Store, ctxs []context.Context) {
	for _, ctx := range ctxs {
		if err := s.Deactivate(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
