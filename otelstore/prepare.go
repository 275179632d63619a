package otelstore

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/resource"
)

// preparer readies an activation's records for export, in logging order:
// it numbers them, repairs invalid UTF-8, makes timestamps strictly
// increase, and splits long messages into chunks. It runs in the
// activation's worker, off the logging goroutines.
type preparer struct {
	activationID string
	maxMsg       int       // longest message in one record, in bytes
	redact       *redactor // nil: nothing to redact

	seq      uint64    // the last sequence number given
	lastTS   time.Time // the last timestamp given
	redacted uint64    // records that had a secret replaced
}

// prepare appends to out the records of batch, in order, each numbered,
// with valid UTF-8, secrets redacted, a timestamp later than the one
// before, and long messages split into chunks. Timestamps strictly
// increase within an activation (by a nanosecond where the clock did not
// move) because Loki keeps one of two entries of a stream with the same
// timestamp and line: two identical lines logged in the same clock tick,
// or two identical chunks, would otherwise become one. The records of
// batch are changed on the way.
func (b *preparer) prepare(out []sdklog.Record, batch []*sdklog.Record) []sdklog.Record {
	next := func(ts time.Time) time.Time {
		if !b.lastTS.IsZero() && !ts.After(b.lastTS) {
			ts = b.lastTS.Add(time.Nanosecond)
		}
		b.lastTS = ts
		return ts
	}
	for i, r := range batch {
		ts := r.Timestamp()
		if ts.IsZero() {
			ts = r.ObservedTimestamp()
		}
		repairAttributes(r)
		if i == len(batch)-1 && isEndMarker(r) {
			// The end marker comes last, after every record it counts.
			r.AddAttributes(attribute.Int64(resource.EndRedacted, int64(b.redacted)))
		} else if b.redact != nil && b.redact.record(r) {
			b.redacted++
		}

		body := r.Body()
		msg := ""
		if body.Type() == attribute.STRING {
			msg = body.AsString()
			if !utf8.ValidString(msg) {
				msg = strings.ToValidUTF8(msg, "\uFFFD")
				r.SetBody(attribute.StringValue(msg))
			}
		}
		if len(msg) <= b.maxMsg {
			b.seq++
			r.SetTimestamp(next(ts))
			r.AddAttributes(attribute.Int64(resource.Sequence, int64(b.seq)))
			out = append(out, *r)
			continue
		}
		chunks := splitUTF8(msg, b.maxMsg)
		uid := fmt.Sprintf("%s-%d", b.activationID, b.seq+1)
		for j, c := range chunks {
			b.seq++
			cr := r.Clone()
			cr.SetTimestamp(next(ts))
			cr.SetBody(attribute.StringValue(c))
			cr.AddAttributes(
				attribute.Int64(resource.Sequence, int64(b.seq)),
				attribute.String(resource.RecordUID, uid),
				attribute.Int(resource.ChunkIndex, j),
				attribute.Int(resource.ChunkTotal, len(chunks)),
			)
			out = append(out, cr)
		}
	}
	return out
}

// splitUTF8 cuts s into pieces of at most n bytes, never inside a rune.
func splitUTF8(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// repairAttributes replaces invalid UTF-8 in string attributes, which OTLP
// cannot carry (a protobuf string must be UTF-8: one bad record would fail
// its whole batch).
func repairAttributes(r *sdklog.Record) {
	bad := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		bad = !validValue(kv)
		return !bad
	})
	if !bad {
		return
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, repairKV(kv))
		return true
	})
	r.SetAttributes(attrs...)
}

func validValue(kv attribute.KeyValue) bool {
	if !utf8.ValidString(string(kv.Key)) {
		return false
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		return utf8.ValidString(kv.Value.AsString())
	case attribute.STRINGSLICE:
		for _, s := range kv.Value.AsStringSlice() {
			if !utf8.ValidString(s) {
				return false
			}
		}
	case attribute.MAP:
		for _, e := range kv.Value.AsMap() {
			if !validValue(e) {
				return false
			}
		}
	case attribute.SLICE:
		for _, v := range kv.Value.AsSlice() {
			if !validValue(attribute.KeyValue{Value: v}) {
				return false
			}
		}
	}
	return true
}

func repairKV(kv attribute.KeyValue) attribute.KeyValue {
	fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	kv.Key = attribute.Key(fix(string(kv.Key)))
	switch kv.Value.Type() {
	case attribute.STRING:
		kv.Value = attribute.StringValue(fix(kv.Value.AsString()))
	case attribute.STRINGSLICE:
		ss := kv.Value.AsStringSlice()
		for i := range ss {
			ss[i] = fix(ss[i])
		}
		kv.Value = attribute.StringSliceValue(ss)
	case attribute.MAP:
		m := kv.Value.AsMap()
		for i := range m {
			m[i] = repairKV(m[i])
		}
		kv.Value = attribute.MapValue(m...)
	case attribute.SLICE:
		vs := kv.Value.AsSlice()
		for i := range vs {
			vs[i] = repairKV(attribute.KeyValue{Value: vs[i]}).Value
		}
		kv.Value = attribute.SliceValue(vs...)
	}
	return kv
}
