package serve

import (
	"maps"
	"slices"
	"strings"
	"time"

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
