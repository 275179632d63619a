package serve

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

// The text download is what `runlog logs` prints without colour, and is
// escaped with the scheme of docs/security.md ("Terminal output"), so
// that a downloaded log shown with cat cannot drive the terminal:
//
//	\t \r \n             for TAB, CR and LF (where a newline is not a line break)
//	\xNN                 for the other C0 controls, DEL, and bytes that are not UTF-8
//	\u0080 ... \u009f    for C1 controls
//	\u061c \u200e \u200f \u202a-\u202e \u2066-\u2069 \u2028 \u2029
//	                     for bidi controls and line/paragraph separators

// continuation starts each line after the first of a multi-line message.
const continuation = "    │ "

// appendText appends e as `runlog logs` prints it: time (in loc), level,
// [step], the message (its later lines as continuation lines), the
// attributes but code.*, and a newline.
func appendText(b []byte, e *runlog.LogEntry, loc *time.Location) []byte {
	b = e.Time.In(loc).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, ' ')
	n := len(b)
	b = appendEscaped(b, e.Level.String(), false)
	for len(b)-n < 5 {
		b = append(b, ' ')
	}
	b = append(b, " ["...)
	if e.StepID == "" {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, e.StepID, false)
	}
	b = append(b, "] "...)
	msg := strings.TrimRight(e.Message, "\r\n")
	for i := 0; ; i++ {
		line, rest, more := strings.Cut(msg, "\n")
		if i > 0 {
			b = append(b, '\n')
			b = append(b, continuation...)
		}
		b = appendEscaped(b, strings.TrimSuffix(line, "\r"), false)
		if !more {
			break
		}
		msg = rest
	}
	if len(e.Attributes) > 0 {
		for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
			if strings.HasPrefix(k, "code.") {
				continue
			}
			b = append(b, ' ')
			if k != "" && isSafe(k) && !strings.ContainsAny(k, " =\"\\") {
				b = append(b, k...)
			} else {
				b = appendQuoted(b, k)
			}
			b = append(b, '=')
			b = appendQuoted(b, e.Attributes[k])
		}
	}
	return append(b, '\n')
}

// isSafe reports whether s has nothing to escape.
func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s, true)
	return append(b, '"')
}

// appendEscaped appends s escaped; quoted escapes '"' and '\' too.
func appendEscaped(b []byte, s string, quoted bool) []byte {
	if !quoted && isSafe(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case quoted && (c == '"' || c == '\\'):
				b = append(b, '\\', c)
			case c == '\t':
				b = append(b, `\t`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\n':
				b = append(b, `\n`...)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		case unsafeRune(r):
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
