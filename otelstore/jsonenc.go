package otelstore

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// jsonEncoder writes SDK records as one OTLP JSON ExportLogsServiceRequest,
// byte for byte what plog.JSONMarshaler writes for toPlog of the same
// records, without pdata's data model in between. Building that model
// and marshaling it cost the file exporter more than half of the worker's
// time on `runlog exec -- seq 1 1000000` (issue 17): every record, value
// and attribute was allocated, then walked again by a generic marshaler.
//
// Byte-identical matters twice over: the reader's fast path
// (query/file/fastdecode.go) reads exactly pdata's shape, and the spool
// and set-aside files, still written through pdata, must read the same.
// FuzzEncodeMatchesPdata holds the two encoders together; what it pins:
//
//   - the grouping of toPlog: a resourceLogs per run of equal resources
//     (sdkresource.Resource.Equal, which ignores the schema URL: the
//     first one's is written), a scopeLogs per run of equal scopes within
//     it; scope attributes are not written, as toPlog does not set them;
//   - pdata's field order and omissions: zero times, severity 0, empty
//     severity text and event name, zero dropped count and flags, invalid
//     trace and span ids, empty keys and empty attribute lists are left
//     out; the body is always there ({} when empty);
//   - the proto JSON mapping: 64-bit ints and times as quoted decimals,
//     32-bit ones bare, bytes as padded standard base64, ids as lowercase
//     hex, NaN and ±Inf as the strings "NaN", "Infinity", "-Infinity",
//     other doubles as jsoniter writes them;
//   - jsoniter's ConfigFastest string escaping (appendString);
//   - pcommon.Map's handling of a repeated key (PutEmpty): the key stays
//     where it first appeared, with its last value. Records from
//     providers that allow duplicate keys (emit.go's template) can carry
//     them.
//
// The encoder is not safe for concurrent use: its scratch space is
// reused from one call to the next (the file exporter holds its lock).
// Nothing is allocated per record for plain values (strings, numbers,
// bools); slices, maps and bytes are copied out of attribute.Value by its
// accessors, the only way to read them.
type jsonEncoder struct {
	kvs   []attribute.KeyValue  // the current record's attributes
	index map[attribute.Key]int // hasDup's, for long attribute lists
}

// smallKVs is the longest attribute list whose keys are compared pairwise
// for duplicates; longer ones go through a map, where pairwise would cost
// more than hashing.
const smallKVs = 16

// appendLogs appends records to b as one JSON object (no newline).
func (e *jsonEncoder) appendLogs(b []byte, records []sdklog.Record) []byte {
	b = append(b, '{')
	if len(records) == 0 {
		return append(b, '}')
	}
	b = append(b, `"resourceLogs":[`...)
	var (
		lastRes   *sdkresource.Resource
		lastScope instrumentation.Scope
		rlSchema  string // the open resourceLogs' schema URL, written at its end
		slSchema  string // the open scopeLogs' schema URL
	)
	for i := range records {
		r := &records[i]
		res := r.Resource()
		newRes := i == 0 || (res != lastRes && !res.Equal(lastRes))
		scope := r.InstrumentationScope()
		switch {
		case newRes:
			if i > 0 {
				b = closeScopeLogs(b, slSchema)
				b = closeResourceLogs(b, rlSchema)
				b = append(b, ',')
			}
			b = append(b, `{"resource":{`...)
			rlSchema = ""
			if res != nil {
				rlSchema = res.SchemaURL()
				if res.Len() > 0 {
					// Through the iterator into e.kvs: Attributes would
					// allocate a slice per batch.
					e.kvs = e.kvs[:0]
					for it := res.Iter(); it.Next(); {
						e.kvs = append(e.kvs, it.Attribute())
					}
					b = append(b, `"attributes":`...)
					b = e.appendKVs(b, e.kvs)
				}
			}
			b = append(b, `},"scopeLogs":[`...)
			b, slSchema = appendScopeStart(b, scope)
			lastRes, lastScope = res, scope
		case scope != lastScope:
			b = closeScopeLogs(b, slSchema)
			b = append(b, ',')
			b, slSchema = appendScopeStart(b, scope)
			lastScope = scope
		default:
			b = append(b, ',')
		}
		b = e.appendRecord(b, r)
	}
	b = closeScopeLogs(b, slSchema)
	b = closeResourceLogs(b, rlSchema)
	clear(e.kvs[:cap(e.kvs)]) // keep no record's strings alive until the next batch
	return append(b, "]}"...)
}

// appendScopeStart opens a scopeLogs up to its first record and returns
// the schema URL its end writes.
func appendScopeStart(b []byte, s instrumentation.Scope) ([]byte, string) {
	b = append(b, `{"scope":{`...)
	if s.Name != "" {
		b = append(b, `"name":`...)
		b = appendString(b, s.Name)
	}
	if s.Version != "" {
		if s.Name != "" {
			b = append(b, ',')
		}
		b = append(b, `"version":`...)
		b = appendString(b, s.Version)
	}
	return append(b, `},"logRecords":[`...), s.SchemaURL
}

func closeScopeLogs(b []byte, schema string) []byte {
	b = append(b, ']')
	if schema != "" {
		b = append(b, `,"schemaUrl":`...)
		b = appendString(b, schema)
	}
	return append(b, '}')
}

func closeResourceLogs(b []byte, schema string) []byte {
	return closeScopeLogs(b, schema) // the same shape: "]", schema, "}"
}

// appendRecord appends one logRecord object, its fields in pdata's order.
func (e *jsonEncoder) appendRecord(b []byte, r *sdklog.Record) []byte {
	b = append(b, '{')
	// Every field but the first is preceded by a comma; body always
	// comes, so only the fields before it need to ask.
	sep := false
	field := func(b []byte, name string) []byte {
		if sep {
			b = append(b, ',')
		}
		sep = true
		return append(b, name...)
	}
	if t := uint64(pcommon.NewTimestampFromTime(r.Timestamp())); t != 0 {
		b = field(b, `"timeUnixNano":"`)
		b = append(strconv.AppendUint(b, t, 10), '"')
	}
	if t := uint64(pcommon.NewTimestampFromTime(r.ObservedTimestamp())); t != 0 {
		b = field(b, `"observedTimeUnixNano":"`)
		b = append(strconv.AppendUint(b, t, 10), '"')
	}
	if n := int32(r.Severity()); n != 0 { // plog.SeverityNumber is an int32
		b = field(b, `"severityNumber":`)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	if s := r.SeverityText(); s != "" {
		b = field(b, `"severityText":`)
		b = appendString(b, s)
	}
	b = field(b, `"body":`)
	b = e.appendValue(b, r.Body())
	if r.AttributesLen() > 0 {
		e.kvs = e.kvs[:0]
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			e.kvs = append(e.kvs, kv)
			return true
		})
		b = append(b, `,"attributes":`...)
		b = e.appendKVs(b, e.kvs) // nested maps come with copies of their own: e.kvs is not reused below
	}
	if n := uint32(r.DroppedAttributes()); n != 0 {
		b = append(b, `,"droppedAttributesCount":`...)
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	if f := uint32(r.TraceFlags()); f != 0 {
		b = append(b, `,"flags":`...)
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	if tid := r.TraceID(); tid.IsValid() {
		b = append(b, `,"traceId":"`...)
		b = append(hex.AppendEncode(b, tid[:]), '"')
	}
	if sid := r.SpanID(); sid.IsValid() {
		b = append(b, `,"spanId":"`...)
		b = append(hex.AppendEncode(b, sid[:]), '"')
	}
	if n := r.EventName(); n != "" {
		b = append(b, `,"eventName":`...)
		b = appendString(b, n)
	}
	return append(b, '}')
}

// appendKVs appends a JSON array of KeyValue objects, as pdata writes a
// pcommon.Map filled by PutEmpty in kvs's order. kvs must not be empty.
func (e *jsonEncoder) appendKVs(b []byte, kvs []attribute.KeyValue) []byte {
	b = append(b, '[')
	if !e.hasDup(kvs) {
		for i := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendKV(b, kvs[i].Key, kvs[i].Value)
		}
		return append(b, ']')
	}
	// A repeated key: PutEmpty found the first entry and overwrote its
	// value, so each key is written once, where it first appeared, with
	// the value of its last appearance.
	first := true
	for i := range kvs {
		k := kvs[i].Key
		if seenBefore(kvs, i) {
			continue
		}
		last := i
		for j := i + 1; j < len(kvs); j++ {
			if kvs[j].Key == k {
				last = j
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = e.appendKV(b, k, kvs[last].Value)
	}
	return append(b, ']')
}

// seenBefore reports whether kvs[i]'s key appears before i. It is
// quadratic, which only lists with duplicates pay (they are rare: the SDK
// removes them unless told otherwise).
func seenBefore(kvs []attribute.KeyValue, i int) bool {
	for j := 0; j < i; j++ {
		if kvs[j].Key == kvs[i].Key {
			return true
		}
	}
	return false
}

// hasDup reports whether two of kvs have the same key.
func (e *jsonEncoder) hasDup(kvs []attribute.KeyValue) bool {
	if len(kvs) <= smallKVs {
		for i := 1; i < len(kvs); i++ {
			if seenBefore(kvs, i) {
				return true
			}
		}
		return false
	}
	if e.index == nil {
		e.index = make(map[attribute.Key]int, len(kvs))
	}
	defer clear(e.index) // hasDup is done with it before anything recurses
	for i := range kvs {
		if _, ok := e.index[kvs[i].Key]; ok {
			return true
		}
		e.index[kvs[i].Key] = i
	}
	return false
}

// appendKV appends one KeyValue object; pdata leaves out an empty key.
func (e *jsonEncoder) appendKV(b []byte, k attribute.Key, v attribute.Value) []byte {
	b = append(b, '{')
	if k != "" {
		b = append(b, `"key":`...)
		b = appendString(b, string(k))
		b = append(b, ',')
	}
	b = append(b, `"value":`...)
	b = e.appendValue(b, v)
	return append(b, '}')
}

// appendValue appends an AnyValue object as putValue would fill it.
func (e *jsonEncoder) appendValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.STRING:
		b = append(b, `{"stringValue":`...)
		b = appendString(b, v.AsString())
	case attribute.INT64:
		b = append(b, `{"intValue":"`...)
		b = append(strconv.AppendInt(b, v.AsInt64(), 10), '"')
	case attribute.BOOL:
		b = append(b, `{"boolValue":`...)
		b = strconv.AppendBool(b, v.AsBool())
	case attribute.FLOAT64:
		b = append(b, `{"doubleValue":`...)
		b = appendFloat(b, v.AsFloat64())
	case attribute.BYTESLICE:
		b = append(b, `{"bytesValue":"`...)
		b = append(base64.StdEncoding.AppendEncode(b, v.AsByteSlice()), '"')
	case attribute.BOOLSLICE:
		b = append(b, `{"arrayValue":{`...)
		s := v.AsBoolSlice()
		for i, x := range s {
			b = arrayElem(b, i)
			b = append(b, `{"boolValue":`...)
			b = append(strconv.AppendBool(b, x), '}')
		}
		b = endArray(b, len(s) > 0)
	case attribute.INT64SLICE:
		b = append(b, `{"arrayValue":{`...)
		s := v.AsInt64Slice()
		for i, x := range s {
			b = arrayElem(b, i)
			b = append(b, `{"intValue":"`...)
			b = append(strconv.AppendInt(b, x, 10), `"}`...)
		}
		b = endArray(b, len(s) > 0)
	case attribute.FLOAT64SLICE:
		b = append(b, `{"arrayValue":{`...)
		s := v.AsFloat64Slice()
		for i, x := range s {
			b = arrayElem(b, i)
			b = append(b, `{"doubleValue":`...)
			b = append(appendFloat(b, x), '}')
		}
		b = endArray(b, len(s) > 0)
	case attribute.STRINGSLICE:
		b = append(b, `{"arrayValue":{`...)
		s := v.AsStringSlice()
		for i, x := range s {
			b = arrayElem(b, i)
			b = append(b, `{"stringValue":`...)
			b = append(appendString(b, x), '}')
		}
		b = endArray(b, len(s) > 0)
	case attribute.SLICE:
		b = append(b, `{"arrayValue":{`...)
		s := v.AsSlice()
		for i, x := range s {
			b = arrayElem(b, i)
			b = e.appendValue(b, x)
		}
		b = endArray(b, len(s) > 0)
	case attribute.MAP:
		b = append(b, `{"kvlistValue":{`...)
		if m := v.AsMap(); len(m) > 0 {
			b = append(b, `"values":`...)
			b = e.appendKVs(b, m)
		}
		b = append(b, '}')
	default: // EMPTY, or a kind this code does not know: putValue leaves it empty too
		b = append(b, '{')
	}
	return append(b, '}')
}

// arrayElem starts element i of an ArrayValue's "values".
func arrayElem(b []byte, i int) []byte {
	if i == 0 {
		return append(b, `"values":[`...)
	}
	return append(b, ',')
}

// endArray closes an ArrayValue object; an empty one has no "values".
func endArray(b []byte, some bool) []byte {
	if some {
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendFloat writes a double as pdata's json.Stream.WriteFloat64 does:
// NaN and the infinities as the proto JSON strings, the rest as
// jsoniter's Stream.WriteFloat64 (shortest repr, exponent form below
// 1e-6 and from 1e21, and no clean-up of the exponent's leading zero).
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

// needsEscape marks the bytes jsoniter's ConfigFastest (EscapeHTML off,
// which pdata uses) escapes: controls, '"' and '\\'. Everything else,
// '<', '>', '&', DEL, U+2028 and invalid UTF-8 included, is copied as is.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const lowerHex = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as jsoniter's
// Stream.WriteString does: \n, \r, \t, \" and \\ by name, the other
// controls as \u00xx in lower case.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needsEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
