// Package render writes runlog.LogEntry values and text from stores for
// people and programs: the JSON object every JSON output of runlog uses,
// and the escaping of docs/security.md ("Terminal output"). The CLI and
// package serve both use it, so that `runlog logs` and serve's download
// stay byte for byte the same.
package render

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

// AppendEntry appends e as JSON, byte for byte what encoding/json writes
// for it (HTML-safe escaping included), without reflection: printing is
// most of what `runlog logs -o jsonl` does with a large run.
func AppendEntry(b []byte, e *runlog.LogEntry) ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return json.Marshal(e) // encoding/json's own error
	}
	b = append(b, `{"message":`...)
	b = AppendString(b, e.Message)
	if e.Name != "" {
		b = AppendString(append(b, `,"name":`...), e.Name)
	}
	b = AppendString(append(b, `,"level":`...), e.Level.String())
	b = append(b, `,"timestamp":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Module != "" {
		b = AppendString(append(b, `,"module":`...), e.Module)
	}
	if e.Filename != "" {
		b = AppendString(append(b, `,"filename":`...), e.Filename)
	}
	if e.Lineno != 0 {
		b = strconv.AppendInt(append(b, `,"lineno":`...), int64(e.Lineno), 10)
	}
	b = strconv.AppendInt(append(b, `,"chunk_index":`...), int64(e.ChunkIndex), 10)
	b = strconv.AppendInt(append(b, `,"total_chunks":`...), int64(e.TotalChunks), 10)
	b = AppendString(append(b, `,"id":`...), e.ID)
	b = AppendString(append(b, `,"run_id":`...), e.RunID)
	if e.StepID != "" {
		b = AppendString(append(b, `,"step_id":`...), e.StepID)
	}
	if e.Source != "" {
		b = AppendString(append(b, `,"source":`...), e.Source)
	}
	b = strconv.AppendInt(append(b, `,"attempt":`...), int64(e.Attempt), 10)
	if e.ActivationID != "" {
		b = AppendString(append(b, `,"activation_id":`...), e.ActivationID)
	}
	b = strconv.AppendUint(append(b, `,"sequence":`...), e.Sequence, 10)
	if e.TraceID != "" {
		b = AppendString(append(b, `,"trace_id":`...), e.TraceID)
	}
	if e.SpanID != "" {
		b = AppendString(append(b, `,"span_id":`...), e.SpanID)
	}
	if len(e.Attributes) > 0 {
		b = append(b, `,"attributes":{`...)
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = AppendString(append(b, ':'), e.Attributes[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string the way encoding/json does with
// HTML escaping on: <, > and & as \u escapes, control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped; and, unlike it, C1
// controls and bidi controls as \u escapes too (see JSONSafe), so that
// JSON on a terminal cannot drive it either. The value is the same.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if UnsafeRune(r) {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// JSONSafe returns the JSON b with every C1 control, bidi control and
// line separator that encoding/json leaves raw written as a \u escape:
// the same JSON value, safe on a terminal. Such characters can only be
// inside strings, where a \u escape means the character itself.
func JSONSafe(b []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if size > 1 && UnsafeRune(r) {
			out = append(out, b[start:i]...)
			out = append(out, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
			start = i + size
		}
		i += size
	}
	if out == nil {
		return b
	}
	return append(out, b[start:]...)
}
