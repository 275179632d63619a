package otelstore

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// queueLogger is the otel/log Logger behind an activation's otelslog
// bridge: the first stage of the write path, between the bridge and the
// queue.
//
// The SDK's own logger would copy each record the bridge makes into an
// sdk/log Record one attribute at a time, every addition checked for
// duplicate keys through a map from a sync.Pool, and the processor would
// then clone it once more to queue it: about a quarter of the CPU of a
// log call in the profile of BenchmarkEmit. queueLogger fills a copy of a
// template record (the resource, scope and attribute limits of the
// activation's provider) with one SetAttributes of the attributes,
// deduplicated in place as the SDK does (the last value wins, at the
// first key's place), and queues that copy itself (a record of
// recordPool: no allocation). Records it does not cover — one carrying an
// error, whose exception.* attributes the SDK derives, an event, a body
// that is not a string, a group with repeated keys, more than
// maxFastAttrs attributes — go through the SDK's logger, so every record
// is stored as the SDK would have stored it (TestEmitAsTheSDK).
type queueLogger struct {
	embedded.Logger
	tmpl sdklog.Record // from a provider that allows duplicate keys: they are removed here
	q    *queue
	sdk  log.Logger // the activation's provider's, for the records above
}

// maxFastAttrs is the most attributes a record may have on the fast path:
// deduplication is quadratic there.
const maxFastAttrs = 32

// queueProvider hands the bridge its queueLogger, whatever name it asks.
type queueProvider struct {
	embedded.LoggerProvider
	l *queueLogger
}

func (p queueProvider) Logger(string, ...log.LoggerOption) log.Logger { return p.l }

// newQueueLogger returns the queueLogger of an activation: its records go
// to q with resource res and the scope of logger name; sdk is the
// activation's provider's logger of that name, for the records the fast
// path leaves. The template comes from a provider of its own, made and
// shut down here, that allows duplicate keys: the fast path removes them
// before SetAttributes, which would otherwise look for them again through
// a map.
func newQueueLogger(res *sdkresource.Resource, q *queue, sdk log.Logger, name string) *queueLogger {
	l := &queueLogger{q: q, sdk: sdk}
	tp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithAllowKeyDuplication(),
		sdklog.WithProcessor(templateProcessor{&l.tmpl}))
	tp.Logger(name).Emit(context.Background(), log.Record{})
	_ = tp.Shutdown(context.Background())
	return l
}

// templateProcessor keeps the one record a template provider emits.
type templateProcessor struct{ r *sdklog.Record }

func (p templateProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	*p.r = r.Clone()
	return nil
}
func (templateProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (templateProcessor) Shutdown(context.Context) error                         { return nil }
func (templateProcessor) ForceFlush(context.Context) error                       { return nil }

// Enabled lets everything through: the activation's sink checks the
// level before the bridge builds a record.
func (l *queueLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

func (l *queueLogger) Emit(ctx context.Context, r log.Record) {
	var buf [maxFastAttrs]attribute.KeyValue
	kvs, ok := l.fastAttrs(&r, buf[:0])
	if !ok {
		l.sdk.Emit(ctx, r)
		return
	}
	rec := recordPool.Get().(*sdklog.Record)
	*rec = l.tmpl
	ts := r.Timestamp()
	rec.SetTimestamp(ts)
	// The bridge leaves the observed time to the SDK, which reads the
	// clock again; the record was observed when slog made it.
	obs := r.ObservedTimestamp()
	if obs.IsZero() {
		obs = ts
		if obs.IsZero() {
			obs = time.Now()
		}
	}
	rec.SetObservedTimestamp(obs)
	rec.SetSeverity(r.Severity())
	rec.SetSeverityText(r.SeverityText())
	rec.SetBody(r.Body())
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec.SetTraceID(sc.TraceID())
		rec.SetSpanID(sc.SpanID())
		rec.SetTraceFlags(sc.TraceFlags())
	}
	rec.SetAttributes(kvs...)
	if err := l.q.enqueue(ctx, rec, true, false); err != nil {
		otel.Handle(err) // as the SDK's logger does with its processors' errors
	}
}

// fastAttrs appends r's attributes to kvs without duplicate keys, or
// reports that r is not for the fast path.
func (l *queueLogger) fastAttrs(r *log.Record, kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	if r.Err() != nil || r.EventName() != "" || r.Body().Type() != attribute.STRING || r.AttributesLen() > maxFastAttrs {
		return nil, false
	}
	ok := true
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Value.Type() == attribute.MAP && repeats(kv.Value.AsMap()) {
			ok = false
			return false
		}
		for i := range kvs {
			if kvs[i].Key == kv.Key {
				kvs[i].Value = kv.Value
				return true
			}
		}
		kvs = append(kvs, kv)
		return true
	})
	return kvs, ok
}

// repeats reports whether kvs, or a map inside, has a key twice.
func repeats(kvs []attribute.KeyValue) bool {
	for i, kv := range kvs {
		if kv.Value.Type() == attribute.MAP && repeats(kv.Value.AsMap()) {
			return true
		}
		for _, o := range kvs[:i] {
			if o.Key == kv.Key {
				return true
			}
		}
	}
	return false
}

// handle stores a record of the activation's root sink (no attributes or
// groups added with With) straight from slog, without the bridge's
// intermediate otel/log Record: the record the bridge and the SDK would
// have made, attribute for attribute. It reports false, having done
// nothing, for a record it does not cover — an attribute with an empty
// key, a group, an error, a LogValuer or any other value the bridge
// converts by reflection, more than maxFastAttrs attributes — which then
// goes through the bridge.
func (l *queueLogger) handle(ctx context.Context, r slog.Record, source bool) bool {
	n := r.NumAttrs()
	if source {
		n += 3
	}
	if n > maxFastAttrs {
		return false
	}
	var buf [maxFastAttrs]attribute.KeyValue
	kvs := buf[:0]
	if source {
		fs := runtime.CallersFrames([]uintptr{r.PC})
		f, _ := fs.Next()
		kvs = append(kvs,
			attribute.String(string(semconv.CodeFilePathKey), f.File),
			attribute.String(string(semconv.CodeFunctionNameKey), f.Function),
			attribute.Int(string(semconv.CodeLineNumberKey), f.Line))
	}
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		var v attribute.Value
		if v, ok = fastValue(a); !ok {
			return false
		}
		for i := range kvs {
			if string(kvs[i].Key) == a.Key {
				kvs[i].Value = v
				return true
			}
		}
		kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(a.Key), Value: v})
		return true
	})
	if !ok {
		return false
	}
	rec := recordPool.Get().(*sdklog.Record)
	*rec = l.tmpl
	rec.SetTimestamp(r.Time)
	obs := r.Time // observed when slog made it, as in Emit
	if obs.IsZero() {
		obs = time.Now()
	}
	rec.SetObservedTimestamp(obs)
	const sevOffset = slog.Level(log.SeverityDebug) - slog.LevelDebug // as the bridge maps levels
	rec.SetSeverity(log.Severity(r.Level + sevOffset))
	rec.SetSeverityText(r.Level.String())
	rec.SetBody(attribute.StringValue(r.Message))
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec.SetTraceID(sc.TraceID())
		rec.SetSpanID(sc.SpanID())
		rec.SetTraceFlags(sc.TraceFlags())
	}
	rec.SetAttributes(kvs...)
	if err := l.q.enqueue(ctx, rec, true, false); err != nil {
		otel.Handle(err)
	}
	return true
}

// fastValue converts a's value as the otelslog bridge does, for the kinds
// that need neither reflection nor recursion.
func fastValue(a slog.Attr) (attribute.Value, bool) {
	if a.Key == "" {
		return attribute.Value{}, false
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		return attribute.StringValue(v.String()), true
	case slog.KindInt64:
		return attribute.Int64Value(v.Int64()), true
	case slog.KindBool:
		return attribute.BoolValue(v.Bool()), true
	case slog.KindFloat64:
		return attribute.Float64Value(v.Float64()), true
	case slog.KindDuration:
		return attribute.Int64Value(v.Duration().Nanoseconds()), true
	case slog.KindTime:
		return attribute.Int64Value(v.Time().UnixNano()), true
	case slog.KindUint64:
		if u := v.Uint64(); u <= math.MaxInt64 {
			return attribute.Int64Value(int64(u)), true
		}
		return attribute.Float64Value(float64(v.Uint64())), true
	}
	return attribute.Value{}, false
}
