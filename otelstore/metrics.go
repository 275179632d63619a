package otelstore

import (
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/otelconv"
)

// The processor reports what it did with records through the OpenTelemetry
// SDK's own metric for log processors, otel.sdk.processor.log.processed,
// on the global MeterProvider (a no-op until the program sets one):
// without error.type for records delivered, error.type "queue_full" for
// records refused by the drop overflow policy, "spool_failed" for records
// neither exported nor spooled, "rejected" for records the backend refused
// as invalid.
const componentType = "runlog_log_processor"

var metricAttrs = struct{ ok, queueFull, lost, rejected []attribute.KeyValue }{
	ok:        []attribute.KeyValue{semconv.OTelComponentTypeKey.String(componentType)},
	queueFull: []attribute.KeyValue{semconv.OTelComponentTypeKey.String(componentType), semconv.ErrorTypeKey.String("queue_full")},
	lost:      []attribute.KeyValue{semconv.OTelComponentTypeKey.String(componentType), semconv.ErrorTypeKey.String("spool_failed")},
	rejected:  []attribute.KeyValue{semconv.OTelComponentTypeKey.String(componentType), semconv.ErrorTypeKey.String("rejected")},
}

type procMetrics struct {
	processed otelconv.SDKProcessorLogProcessed
}

var metrics = sync.OnceValue(func() *procMetrics {
	m := otel.GetMeterProvider().Meter("github.com/runlog/runlog/otelstore")
	p, err := otelconv.NewSDKProcessorLogProcessed(m)
	if err != nil {
		otel.Handle(err)
		p.Int64Counter = noop.Int64Counter{}
	}
	return &procMetrics{processed: p}
})
