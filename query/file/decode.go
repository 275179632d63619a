package file

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// decodeLine decodes one OTLP JSON line into entries, in record order,
// conv mapping the attributes (nil: resource.CICD): by fastDecode when the
// line has the simple shape that pdata's marshaler writes, else by pdata.
func decodeLine(line []byte, conv *resource.Convention) ([]runlog.LogEntry, error) {
	return decodeLineHint(line, 0, conv)
}

// decodeLineHint is decodeLine for a line likely to hold hint records.
func decodeLineHint(line []byte, hint int, conv *resource.Convention) ([]runlog.LogEntry, error) {
	if es, ok := fastDecode(line, hint, conv); ok {
		return es, nil
	}
	return decodePdata(line, conv)
}

// decodePdata decodes one OTLP JSON line with pdata: any line that pdata
// reads, and the error of one it cannot.
func decodePdata(line []byte, conv *resource.Convention) ([]runlog.LogEntry, error) {
	var u plog.JSONUnmarshaler
	logs, err := u.UnmarshalLogs(line)
	if err != nil {
		return nil, err
	}
	out := make([]runlog.LogEntry, 0, logs.LogRecordCount())
	var resKV [][2]string
	rls := logs.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resKV = resKV[:0]
		flatten("", rl.Resource().Attributes(), func(k, v string) { resKV = append(resKV, [2]string{k, v}) })
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, toEntry(resKV, sl.Scope().Name(), lrs.At(k), conv))
			}
		}
	}
	return out, nil
}

func toEntry(resKV [][2]string, scope string, lr plog.LogRecord, conv *resource.Convention) runlog.LogEntry {
	var e runlog.LogEntry
	ent := resource.Entry{LogEntry: &e, Convention: conv}
	for _, kv := range resKV {
		ent.Set(kv[0], kv[1])
	}
	flatten("", lr.Attributes(), ent.Set)
	e.Message = lr.Body().AsString()
	e.Name = scope
	e.Level = runlog.Level(lr.SeverityNumber())
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	e.Time = ts.AsTime()
	if tid := lr.TraceID(); !tid.IsEmpty() {
		e.TraceID = hex.EncodeToString(tid[:])
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		e.SpanID = hex.EncodeToString(sid[:])
	}
	ent.Finish() // last: a foreign record's id is derived from all of it
	return e
}

// flatten calls set for every attribute of m as text, with nested maps
// (slog groups) flattened into dotted keys.
func flatten(prefix string, m pcommon.Map, set func(k, v string)) {
	m.Range(func(k string, v pcommon.Value) bool {
		switch v.Type() {
		case pcommon.ValueTypeMap:
			flatten(prefix+k+".", v.Map(), set)
		case pcommon.ValueTypeInt:
			set(prefix+k, strconv.FormatInt(v.Int(), 10))
		default:
			set(prefix+k, v.AsString())
		}
		return true
	})
}

// errSummary is a decoding error's reason, without the excerpt of the
// line the JSON decoder appends, at most 80 printable bytes: a damage
// report must not replay a file's content onto a terminal.
func errSummary(err error) string {
	msg, _, _ := strings.Cut(err.Error(), ", error found in")
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, msg)
	if len(msg) > 80 {
		msg = strings.ToValidUTF8(msg[:80], "") + "..."
	}
	return msg
}
