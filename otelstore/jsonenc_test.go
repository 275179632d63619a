package otelstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// The direct encoder (jsonEncoder) is checked against the route it
// replaces, pdata's marshal of toPlog, byte for byte.

// pdataJSON is what the file exporter wrote before jsonEncoder.
func pdataJSON(t testing.TB, recs []sdklog.Record) []byte {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(toPlog(recs))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkEncode fails unless jsonEncoder writes recs as pdata does. It
// appends after existing bytes and encodes twice with one encoder, as
// the file exporter does, so that neither the prefix nor the reused
// scratch space can go unnoticed.
func checkEncode(t testing.TB, recs []sdklog.Record) {
	t.Helper()
	want := pdataJSON(t, recs)
	var e jsonEncoder
	for round := range 2 {
		got := e.appendLogs([]byte("prefix"), recs)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("round %d: the prefix was overwritten: %q", round, got)
		}
		if got = got[len("prefix"):]; !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("round %d: direct and pdata differ at byte %d\ndirect: %q\npdata:  %q",
				round, i, got[max(0, i-60):min(len(got), i+60)], want[max(0, i-60):min(len(want), i+60)])
		}
	}
}

// emitted returns n records as the SDK makes them: through a provider
// with res and opts, from a logger of scope, so that they carry their
// resource, scope and limits; the tests then fill them with setters.
func emitted(res *sdkresource.Resource, scope instrumentation.Scope, n int, opts ...sdklog.LoggerProviderOption) []sdklog.Record {
	var c collectProcessor
	lp := sdklog.NewLoggerProvider(append([]sdklog.LoggerProviderOption{
		sdklog.WithResource(res), sdklog.WithProcessor(&c),
	}, opts...)...)
	lg := lp.Logger(scope.Name, otellog.WithInstrumentationVersion(scope.Version),
		otellog.WithSchemaURL(scope.SchemaURL), otellog.WithInstrumentationAttributeSet(scope.Attributes))
	for range n {
		lg.Emit(context.Background(), otellog.Record{})
	}
	_ = lp.Shutdown(context.Background())
	return c.recs
}

// capturedResource is an activation's resource as runlog exec makes it.
func capturedResource() *sdkresource.Resource {
	return sdkresource.NewWithAttributes("",
		attribute.String("cicd.pipeline.run.id", "q3"),
		attribute.String("cicd.pipeline.task.run.id", "s"),
		attribute.String("runlog.activation.id", "8a526113e6156749"),
		attribute.Int64("runlog.attempt", 0),
		attribute.String("runlog.source", "step"),
		attribute.String("service.name", "runlog"))
}

// capturedLines returns n records shaped like the lines of
// `runlog exec -- seq 1 n` once prepared: one resource and scope, a
// short body, the bridge's source attributes, stream and sequence.
func capturedLines(n int) []sdklog.Record {
	recs := emitted(capturedResource(), instrumentation.Scope{Name: "runlog"}, n, sdklog.WithAllowKeyDuplication())
	t0 := time.Unix(1796115056, 129190699)
	for i := range recs {
		r := &recs[i]
		r.SetTimestamp(t0.Add(time.Duration(i) * time.Microsecond))
		r.SetObservedTimestamp(t0.Add(time.Duration(i)*time.Microsecond + 48*time.Microsecond))
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue(fmt.Sprint(i + 1)))
		r.SetAttributes(
			attribute.String("code.file.path", ""),
			attribute.String("code.function.name", ""),
			attribute.Int64("code.line.number", 0),
			attribute.String("runlog.stream", "stdout"),
			attribute.Int64("runlog.sequence", int64(i+1)),
		)
	}
	return recs
}

// oddStrings are strings whose escaping pdata (jsoniter's ConfigFastest)
// decides: controls, quotes, HTML-sensitive characters, the JavaScript
// line separators, DEL, non-ASCII and invalid UTF-8.
var oddStrings = []string{
	"", "plain", `"quoted" \back\slash/`, "\n\r\t\b\f\v\x00\x01\x1f", "<script>&amp;</script>",
	"\u2028\u2029", "\x7f", "é日本語🙂", "\xff\xfe\xc3", "a\u0000b", "\ufffd", strings.Repeat("x", 300) + "\x1b[31m",
}

// oddFloats are doubles whose writing pdata and jsoniter decide.
var oddFloats = []float64{
	0, math.Copysign(0, -1), 1, -1.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789012345678901234.0,
	math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 1.0 / 3,
}

// allValues is one value of every kind, nested and empty ones included.
func allValues() []attribute.Value {
	vs := []attribute.Value{
		{}, attribute.BoolValue(true), attribute.BoolValue(false),
		attribute.Int64Value(0), attribute.Int64Value(math.MinInt64), attribute.Int64Value(math.MaxInt64),
		attribute.ByteSliceValue(nil), attribute.ByteSliceValue([]byte{}), attribute.ByteSliceValue([]byte{0, 1, 2, 0xff}),
		attribute.ByteSliceValue([]byte("ab")), attribute.BoolSliceValue(nil), attribute.BoolSliceValue([]bool{true, false}),
		attribute.Int64SliceValue([]int64{}), attribute.Int64SliceValue([]int64{-1, 0, 1 << 62}),
		attribute.Float64SliceValue(oddFloats), attribute.StringSliceValue(oddStrings), attribute.StringSliceValue(nil),
		attribute.SliceValue(), attribute.MapValue(),
		attribute.SliceValue(attribute.Value{}, attribute.StringValue("x"), attribute.SliceValue(attribute.Int64Value(1)),
			attribute.MapValue(attribute.String("k", "v"))),
		attribute.MapValue(
			attribute.String("", "empty key"),
			attribute.KeyValue{Key: "empty value"},
			attribute.String("dup", "first"), attribute.Int64("dup", 2), attribute.Bool("dup", true),
			attribute.KeyValue{Key: "nested", Value: attribute.MapValue(
				attribute.String("a", "1"), attribute.String("a", "2"),
				attribute.KeyValue{Key: "deeper", Value: attribute.SliceValue(attribute.MapValue(attribute.Int("z", 1)))},
			)},
		),
	}
	for _, s := range oddStrings {
		vs = append(vs, attribute.StringValue(s))
	}
	for _, f := range oddFloats {
		vs = append(vs, attribute.Float64Value(f))
	}
	return vs
}

// TestEncodeMatchesPdata: the record shapes runlog writes, and the corners
// of the mapping, encode as pdata does.
func TestEncodeMatchesPdata(t *testing.T) {
	scope := instrumentation.Scope{Name: "runlog", Version: "v1", SchemaURL: "https://example.com/scope"}
	res := sdkresource.NewWithAttributes("https://example.com/res", attribute.String("service.name", "runlog"),
		attribute.KeyValue{Key: "r.map", Value: attribute.MapValue(attribute.String("b", "1"), attribute.String("b", "2"))})
	cases := map[string]func() []sdklog.Record{
		"none":         func() []sdklog.Record { return nil },
		"captured":     func() []sdklog.Record { return capturedLines(50) },
		"bare records": func() []sdklog.Record { return fileRecords("r", 3) }, // no resource, no scope
		"zero record":  func() []sdklog.Record { return make([]sdklog.Record, 2) },
		"every body": func() []sdklog.Record {
			vs := allValues()
			recs := emitted(res, scope, len(vs), sdklog.WithAllowKeyDuplication())
			for i, v := range vs {
				recs[i].SetBody(v)
			}
			return recs
		},
		"every attribute": func() []sdklog.Record {
			var kvs []attribute.KeyValue
			for i, v := range allValues() {
				kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(fmt.Sprint("k", i)), Value: v})
			}
			for _, s := range oddStrings[1:] {
				kvs = append(kvs, attribute.String(s, s)) // odd keys too
			}
			recs := emitted(res, scope, 1, sdklog.WithAllowKeyDuplication())
			recs[0].SetAttributes(kvs...)
			return recs
		},
		"duplicate keys": func() []sdklog.Record {
			recs := emitted(res, scope, 3, sdklog.WithAllowKeyDuplication())
			recs[0].SetAttributes(attribute.String("a", "1"), attribute.String("b", "1"), attribute.String("a", "2"))
			var long []attribute.KeyValue // past smallKVs: the map path
			for i := range 40 {
				long = append(long, attribute.Int(fmt.Sprint("k", i%25), i))
			}
			recs[1].SetAttributes(long...)
			long = long[:0]
			for i := range 30 {
				long = append(long, attribute.Int(fmt.Sprint("u", i), i))
			}
			recs[2].SetAttributes(long...) // long and unique
			return recs
		},
		"fields": func() []sdklog.Record {
			recs := emitted(res, scope, 8, sdklog.WithAttributeCountLimit(1))
			tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xff}
			sid := trace.SpanID{0xab, 0, 0, 0, 0, 0, 0, 1}
			recs[0].SetTraceID(tid)
			recs[0].SetSpanID(sid)
			recs[0].SetTraceFlags(trace.FlagsSampled)
			recs[1].SetTraceID(tid) // no span
			recs[2].SetSpanID(sid)  // no trace
			recs[2].SetTraceFlags(0xff)
			recs[3].SetAttributes(attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3)) // 2 dropped
			recs[4].SetSeverity(-3)
			recs[4].SetSeverityText(oddStrings[3])
			recs[5].SetSeverity(otellog.Severity(1 << 40)) // wraps as the int32 cast does
			recs[5].SetEventName("runlog.event <&>")
			recs[6].SetTimestamp(time.Time{})
			recs[6].SetObservedTimestamp(time.Unix(0, 0))
			recs[7].SetTimestamp(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)) // past int64 nanoseconds
			recs[7].SetObservedTimestamp(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC))
			return recs
		},
		"groups": func() []sdklog.Record {
			other := sdkresource.NewWithAttributes("", attribute.String("service.name", "other"))
			sameAttrsOtherSchema := sdkresource.NewWithAttributes("https://example.com/other", res.Attributes()...)
			s2 := instrumentation.Scope{Name: "other"}
			s3 := instrumentation.Scope{Name: "runlog", Version: "v1", SchemaURL: scope.SchemaURL,
				Attributes: attribute.NewSet(attribute.String("scope.attr", "x"))} // differs only by attributes, not written
			var recs []sdklog.Record
			for _, part := range [][]sdklog.Record{
				emitted(res, scope, 2), emitted(res, s2, 1), emitted(res, scope, 1), emitted(other, scope, 2),
				emitted(sameAttrsOtherSchema, s3, 1), emitted(res, scope, 1), emitted(nil, instrumentation.Scope{}, 1),
				emitted(sdkresource.Empty(), instrumentation.Scope{Version: "only version"}, 1),
				fileRecords("bare", 1), emitted(sdkresource.Empty(), scope, 1),
			} {
				recs = append(recs, part...)
			}
			for i := range recs {
				recs[i].SetBody(attribute.StringValue(fmt.Sprint("r", i)))
			}
			return recs
		},
	}
	for name, recs := range cases {
		t.Run(name, func(t *testing.T) { checkEncode(t, recs()) })
	}
}

// TestEncodeAllocs: encoding a batch of captured lines into a buffer
// that has grown allocates nothing (pdata's route allocated every record,
// value and attribute).
func TestEncodeAllocs(t *testing.T) {
	recs := capturedLines(1024)
	var e jsonEncoder
	buf := e.appendLogs(nil, recs)
	if n := testing.AllocsPerRun(10, func() { buf = e.appendLogs(buf[:0], recs) }); n != 0 {
		t.Errorf("a batch of %d captured lines: %v allocations, want 0", len(recs), n)
	}
}

// fuzzInput hands out the fuzzer's bytes as the choices that build a
// batch; past the end every choice is zero.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) n(limit int) int { return int(in.byte()) % limit }

func (in *fuzzInput) u64() uint64 {
	var x [8]byte
	n := copy(x[:], in.b)
	in.b = in.b[n:]
	return binary.LittleEndian.Uint64(x[:])
}

// str is one of oddStrings, or raw bytes of the input (any bytes: control
// characters, non-ASCII, invalid UTF-8).
func (in *fuzzInput) str() string {
	c := in.byte()
	if c < 128 {
		return oddStrings[int(c)%len(oddStrings)]
	}
	n := min(int(c-128)%32, len(in.b))
	s := string(in.b[:n])
	in.b = in.b[n:]
	return s
}

// key draws from a small set most of the time, so that duplicate keys
// are common.
func (in *fuzzInput) key() attribute.Key {
	if c := in.byte(); c < 200 {
		return attribute.Key("k" + string(rune('a'+c%6)))
	}
	return attribute.Key(in.str())
}

func (in *fuzzInput) value(depth int) attribute.Value {
	switch in.n(13) {
	case 0:
		return attribute.Value{}
	case 1:
		return attribute.BoolValue(in.byte()&1 == 1)
	case 2:
		return attribute.Int64Value(int64(in.u64()))
	case 3:
		if c := in.byte(); c < 128 {
			return attribute.Float64Value(oddFloats[int(c)%len(oddFloats)])
		}
		return attribute.Float64Value(math.Float64frombits(in.u64()))
	case 4, 5, 6:
		return attribute.StringValue(in.str())
	case 7:
		return attribute.ByteSliceValue([]byte(in.str()))
	case 8:
		s := make([]string, in.n(4))
		for i := range s {
			s[i] = in.str()
		}
		return attribute.StringSliceValue(s)
	case 9:
		s := make([]int64, in.n(4))
		for i := range s {
			s[i] = int64(in.u64())
		}
		if in.byte()&1 == 1 {
			b := make([]bool, len(s))
			for i := range b {
				b[i] = s[i]&1 == 1
			}
			return attribute.BoolSliceValue(b)
		}
		return attribute.Int64SliceValue(s)
	case 10:
		s := make([]float64, in.n(4))
		for i := range s {
			s[i] = math.Float64frombits(in.u64())
		}
		return attribute.Float64SliceValue(s)
	case 11:
		if depth == 0 {
			return attribute.StringValue(in.str())
		}
		s := make([]attribute.Value, in.n(4))
		for i := range s {
			s[i] = in.value(depth - 1)
		}
		return attribute.SliceValue(s...)
	default:
		if depth == 0 {
			return attribute.Int64Value(int64(in.byte()))
		}
		return attribute.MapValue(in.kvs(depth-1, 5)...)
	}
}

func (in *fuzzInput) kvs(depth, limit int) []attribute.KeyValue {
	kvs := make([]attribute.KeyValue, in.n(limit))
	for i := range kvs {
		kvs[i] = attribute.KeyValue{Key: in.key(), Value: in.value(depth)}
	}
	return kvs
}

func (in *fuzzInput) time() time.Time {
	switch in.n(4) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, 0)
	default:
		return time.Unix(0, int64(in.u64()))
	}
}

// fuzzBatch builds a batch from in: records of up to three resources and
// three scopes, interleaved, each record's every field drawn from in.
func fuzzBatch(in *fuzzInput) []sdklog.Record {
	var resources []*sdkresource.Resource
	for range 1 + in.n(3) {
		if in.byte() == 0 {
			resources = append(resources, nil)
			continue
		}
		resources = append(resources, sdkresource.NewWithAttributes(in.str(), in.kvs(2, 4)...))
	}
	var scopes []instrumentation.Scope
	for range 1 + in.n(3) {
		scopes = append(scopes, instrumentation.Scope{Name: in.str(), Version: in.str(), SchemaURL: in.str(),
			Attributes: attribute.NewSet(in.kvs(0, 2)...)})
	}
	var opts []sdklog.LoggerProviderOption
	if in.byte()&1 == 1 {
		opts = append(opts, sdklog.WithAllowKeyDuplication())
	}
	if c := in.byte(); c < 64 {
		opts = append(opts, sdklog.WithAttributeCountLimit(int(c%5))) // dropped counts
	} else {
		opts = append(opts, sdklog.WithAttributeCountLimit(-1))
	}
	recs := make([]sdklog.Record, 1+in.n(8))
	for i := range recs {
		r := &recs[i]
		*r = emitted(resources[in.n(len(resources))], scopes[in.n(len(scopes))], 1, opts...)[0]
		r.SetTimestamp(in.time())
		r.SetObservedTimestamp(in.time())
		r.SetSeverity(otellog.Severity(int8(in.byte())))
		r.SetSeverityText(in.str())
		if in.byte()&1 == 1 {
			r.SetEventName(in.str())
		}
		r.SetBody(in.value(3))
		r.AddAttributes(in.kvs(3, 8)...)
		if in.byte()&1 == 1 {
			r.AddAttributes(in.kvs(1, 20)...) // past smallKVs at times
		}
		var tid trace.TraceID
		var sid trace.SpanID
		if c := in.byte(); c&1 == 1 {
			binary.LittleEndian.PutUint64(tid[:], in.u64())
			binary.LittleEndian.PutUint64(tid[8:], in.u64())
		}
		if c := in.byte(); c&1 == 1 {
			binary.LittleEndian.PutUint64(sid[:], in.u64())
		}
		r.SetTraceID(tid)
		r.SetSpanID(sid)
		r.SetTraceFlags(trace.TraceFlags(in.byte()))
	}
	return recs
}

// FuzzEncodeMatchesPdata: for any batch, the direct encoder writes the
// bytes pdata's marshaler writes for toPlog of it.
func FuzzEncodeMatchesPdata(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a captured line"))
	f.Add(bytes.Repeat([]byte{0xff, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 20))
	f.Add([]byte("\x02\x01\x90<>&\u2028\x00\x1f\"\\\x7f\xc3\x28é" + strings.Repeat("\x0c\x05", 40)))
	for i := range 13 { // each value kind as the first record's body
		seed := []byte{0, 1, 0, 0, 1, 1, 1, 1, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i), 3, 0xfe, 0xff}
		f.Add(append(seed, bytes.Repeat([]byte{byte(i * 19)}, 60)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEncode(t, fuzzBatch(&fuzzInput{b: data}))
	})
}

// BenchmarkEncode compares the file exporter's encoding of a batch of
// captured lines (the default batch size) before (pdata: toPlog, then its
// marshaler) and after (direct).
func BenchmarkEncode(b *testing.B) {
	recs := capturedLines(1024)
	b.Run("pdata", func(b *testing.B) {
		var m plog.JSONMarshaler
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.MarshalLogs(toPlog(recs)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
	b.Run("direct", func(b *testing.B) {
		var e jsonEncoder
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = e.appendLogs(buf[:0], recs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
}
