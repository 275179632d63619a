package otelstore

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	otellog "go.opentelemetry.io/otel/log"
)

// The OTLP JSON codec: SDK records to the collector's data model (toPlog),
// whose JSON (plog.JSONMarshaler) is what the spool and the set-aside
// files write, and back to SDK records (fromPlog) for replay. The file
// exporter writes the same bytes without the model (jsonEncoder), which
// FuzzEncodeMatchesPdata checks against toPlog: a change here is one there.

// toPlog converts SDK records into the collector's data model, grouped by
// resource and instrumentation scope as OTLP requires, keeping their order.
func toPlog(records []sdklog.Record) plog.Logs {
	logs := plog.NewLogs()
	var (
		lastRes   *sdkresource.Resource
		lastScope instrumentation.Scope
		rl        plog.ResourceLogs
		sl        plog.ScopeLogs
	)
	for i := range records {
		r := &records[i]
		res, scope := r.Resource(), r.InstrumentationScope()
		if i == 0 || !res.Equal(lastRes) {
			rl = logs.ResourceLogs().AppendEmpty()
			if res != nil {
				rl.SetSchemaUrl(res.SchemaURL())
				putAttrs(rl.Resource().Attributes(), res.Attributes())
			}
			lastRes = res
			sl = plog.ScopeLogs{}
		}
		if sl == (plog.ScopeLogs{}) || scope != lastScope {
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scope.Name)
			sl.Scope().SetVersion(scope.Version)
			sl.SetSchemaUrl(scope.SchemaURL)
			lastScope = scope
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Timestamp()))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(r.ObservedTimestamp()))
		lr.SetSeverityNumber(plog.SeverityNumber(r.Severity()))
		lr.SetSeverityText(r.SeverityText())
		if n := r.EventName(); n != "" {
			lr.SetEventName(n)
		}
		putValue(lr.Body(), r.Body())
		attrs := lr.Attributes()
		attrs.EnsureCapacity(r.AttributesLen())
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			putValue(attrs.PutEmpty(string(kv.Key)), kv.Value)
			return true
		})
		lr.SetDroppedAttributesCount(uint32(r.DroppedAttributes()))
		if tid := r.TraceID(); tid.IsValid() {
			lr.SetTraceID(pcommon.TraceID(tid))
		}
		if sid := r.SpanID(); sid.IsValid() {
			lr.SetSpanID(pcommon.SpanID(sid))
		}
		lr.SetFlags(plog.LogRecordFlags(r.TraceFlags()))
	}
	return logs
}

func putAttrs(m pcommon.Map, kvs []attribute.KeyValue) {
	m.EnsureCapacity(len(kvs))
	for _, kv := range kvs {
		putValue(m.PutEmpty(string(kv.Key)), kv.Value)
	}
}

func putValue(dst pcommon.Value, v attribute.Value) {
	switch v.Type() {
	case attribute.BOOL:
		dst.SetBool(v.AsBool())
	case attribute.INT64:
		dst.SetInt(v.AsInt64())
	case attribute.FLOAT64:
		dst.SetDouble(v.AsFloat64())
	case attribute.STRING:
		dst.SetStr(v.AsString())
	case attribute.BYTESLICE:
		dst.SetEmptyBytes().FromRaw(v.AsByteSlice())
	case attribute.BOOLSLICE:
		s := dst.SetEmptySlice()
		for _, b := range v.AsBoolSlice() {
			s.AppendEmpty().SetBool(b)
		}
	case attribute.INT64SLICE:
		s := dst.SetEmptySlice()
		for _, n := range v.AsInt64Slice() {
			s.AppendEmpty().SetInt(n)
		}
	case attribute.FLOAT64SLICE:
		s := dst.SetEmptySlice()
		for _, f := range v.AsFloat64Slice() {
			s.AppendEmpty().SetDouble(f)
		}
	case attribute.STRINGSLICE:
		s := dst.SetEmptySlice()
		for _, str := range v.AsStringSlice() {
			s.AppendEmpty().SetStr(str)
		}
	case attribute.SLICE:
		s := dst.SetEmptySlice()
		for _, e := range v.AsSlice() {
			putValue(s.AppendEmpty(), e)
		}
	case attribute.MAP:
		putAttrs(dst.SetEmptyMap(), v.AsMap())
	}
}

// fromPlog turns decoded records back into SDK records, emitting them
// through a logger provider per resource and a logger per scope, so that
// any sdk/log exporter can send them again.
func fromPlog(ld plog.Logs) []sdklog.Record {
	var out collectProcessor
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		var attrs []attribute.KeyValue
		rl.Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
			attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(k), Value: valueOf(v)})
			return true
		})
		res := sdkresource.NewWithAttributes(rl.SchemaUrl(), attrs...)
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(&out),
			sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1))
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			lg := lp.Logger(sl.Scope().Name(), otellog.WithInstrumentationVersion(sl.Scope().Version()),
				otellog.WithSchemaURL(sl.SchemaUrl()))
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				var r otellog.Record
				r.SetTimestamp(lr.Timestamp().AsTime())
				r.SetObservedTimestamp(lr.ObservedTimestamp().AsTime())
				r.SetSeverity(otellog.Severity(lr.SeverityNumber()))
				r.SetSeverityText(lr.SeverityText())
				r.SetEventName(lr.EventName())
				r.SetBody(valueOf(lr.Body()))
				lr.Attributes().Range(func(k string, v pcommon.Value) bool {
					r.AddAttributes(attribute.KeyValue{Key: attribute.Key(k), Value: valueOf(v)})
					return true
				})
				ctx := context.Background()
				if tid, sid := trace.TraceID(lr.TraceID()), trace.SpanID(lr.SpanID()); tid.IsValid() || sid.IsValid() {
					ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
						TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(lr.Flags()),
					}))
				}
				lg.Emit(ctx, r)
			}
		}
	}
	return out.recs
}

// collectProcessor keeps the records emitted to it.
type collectProcessor struct{ recs []sdklog.Record }

func (c *collectProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *collectProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collectProcessor) Shutdown(context.Context) error                         { return nil }
func (c *collectProcessor) ForceFlush(context.Context) error                       { return nil }

// valueOf is putValue's inverse.
func valueOf(v pcommon.Value) attribute.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return attribute.StringValue(v.Str())
	case pcommon.ValueTypeBool:
		return attribute.BoolValue(v.Bool())
	case pcommon.ValueTypeInt:
		return attribute.Int64Value(v.Int())
	case pcommon.ValueTypeDouble:
		return attribute.Float64Value(v.Double())
	case pcommon.ValueTypeBytes:
		return attribute.ByteSliceValue(v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		vs := make([]attribute.Value, s.Len())
		for i := range vs {
			vs[i] = valueOf(s.At(i))
		}
		return attribute.SliceValue(vs...)
	case pcommon.ValueTypeMap:
		var kvs []attribute.KeyValue
		v.Map().Range(func(k string, e pcommon.Value) bool {
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: valueOf(e)})
			return true
		})
		return attribute.MapValue(kvs...)
	}
	return attribute.Value{}
}
