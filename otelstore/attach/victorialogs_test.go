package attach_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/otelstore/attach"
	"github.com/runlog/runlog/query/victorialogs"
	"github.com/runlog/runlog/storetest"
)

// TestConformanceThroughCollector runs storetest with the processor
// attached to a service's provider that exports over OTLP/HTTP through a
// real collector into a real VictoriaLogs, read back by
// query/victorialogs, which finds runs by the records' attributes. The
// service's BatchProcessor has a queue larger than any check's burst: the
// SDK's default would drop (see the package doc, Completeness).
func TestConformanceThroughCollector(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	vlc, err := victorialogs.New(victorialogs.Config{URL: vl.URL, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{Timeout: 60 * time.Second, New: func(t *testing.T) runlog.LogStore {
		exp, err := otlploghttp.New(t.Context(), otlploghttp.WithEndpointURL(col.OTLPEndpoint+"/v1/logs"))
		if err != nil {
			t.Fatal(err)
		}
		runs := attach.New(attach.Options{Name: "svc", Fetcher: vlc})
		lp := runs.NewLoggerProvider(
			sdklog.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", "attached-service"))),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithMaxQueueSize(1<<17), sdklog.WithExportInterval(100*time.Millisecond))),
		)
		prev := slog.Default()
		slog.SetDefault(otelslog.NewLogger("svc", otelslog.WithLoggerProvider(lp), otelslog.WithSource(true)))
		t.Cleanup(func() {
			slog.SetDefault(prev)
			_ = lp.Shutdown(context.Background())
		})
		return runs
	}})
}
