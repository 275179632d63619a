package serve

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

// appendEntry appends e as JSON: the object of `runlog logs -o jsonl`,
// byte for byte (encoding/json's output for runlog.LogEntry with
// HTML-safe escaping, plus the terminal-safe escapes of appendString),
// without reflection: encoding entries is most of what the logs
// endpoints do.
func appendEntry(b []byte, e *runlog.LogEntry) ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return json.Marshal(e) // encoding/json's own error
	}
	b = append(b, `{"message":`...)
	b = appendString(b, e.Message)
	if e.Name != "" {
		b = appendString(append(b, `,"name":`...), e.Name)
	}
	b = appendString(append(b, `,"level":`...), e.Level.String())
	b = append(b, `,"timestamp":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Module != "" {
		b = appendString(append(b, `,"module":`...), e.Module)
	}
	if e.Filename != "" {
		b = appendString(append(b, `,"filename":`...), e.Filename)
	}
	if e.Lineno != 0 {
		b = strconv.AppendInt(append(b, `,"lineno":`...), int64(e.Lineno), 10)
	}
	b = strconv.AppendInt(append(b, `,"chunk_index":`...), int64(e.ChunkIndex), 10)
	b = strconv.AppendInt(append(b, `,"total_chunks":`...), int64(e.TotalChunks), 10)
	b = appendString(append(b, `,"id":`...), e.ID)
	b = appendString(append(b, `,"run_id":`...), e.RunID)
	if e.StepID != "" {
		b = appendString(append(b, `,"step_id":`...), e.StepID)
	}
	if e.Source != "" {
		b = appendString(append(b, `,"source":`...), e.Source)
	}
	b = strconv.AppendInt(append(b, `,"attempt":`...), int64(e.Attempt), 10)
	if e.ActivationID != "" {
		b = appendString(append(b, `,"activation_id":`...), e.ActivationID)
	}
	b = strconv.AppendUint(append(b, `,"sequence":`...), e.Sequence, 10)
	if e.TraceID != "" {
		b = appendString(append(b, `,"trace_id":`...), e.TraceID)
	}
	if e.SpanID != "" {
		b = appendString(append(b, `,"span_id":`...), e.SpanID)
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
			b = appendString(b, k)
			b = appendString(append(b, ':'), e.Attributes[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping on (<, > and & as \u escapes, control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped) and, like the CLI,
// C1 and bidi controls as \u escapes too. The value is the same.
func appendString(b []byte, s string) []byte {
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
		if unsafeRune(r) {
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

// jsonSafe returns the JSON b (from encoding/json) with every C1
// control, bidi control and line separator written as a \u escape: the
// same value.
func jsonSafe(b []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if size > 1 && unsafeRune(r) {
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

// unsafeRune reports whether r, above ASCII, is a control a terminal or
// a text layout acts on: C1 controls, bidi controls, line separators.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f,
		r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
