package otelstore

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

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
