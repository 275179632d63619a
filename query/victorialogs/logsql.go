package victorialogs

import (
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// quote renders s as a LogsQL double-quoted string. VictoriaLogs reads
// quoted strings with Go's strconv.Unquote, so Go's quoting is its exact
// inverse: quotes, backslashes, pipes, colons, asterisks, newlines and any
// other character stay literal text and can never end the string.
func quote(s string) string { return strconv.Quote(s) }

// filter builds the LogsQL filter of q's entries, or, with markers, of the
// end markers of q's run (step, source): a stream filter on the resource
// attributes runlog writes (each activation is one stream), then the
// level, the text, and the end-marker test.
func filter(q *runlog.Query, markers bool) string {
	var b strings.Builder
	b.WriteString("{" + quote(resource.RunID) + "=" + quote(q.RunID))
	if q.StepID != "" {
		b.WriteString(", " + quote(resource.StepID) + "=" + quote(q.StepID))
	}
	if q.Source != "" {
		b.WriteString(", " + quote(resource.Source) + "=" + quote(q.Source))
	}
	b.WriteString("}")
	if markers {
		b.WriteString(" " + quote(resource.End) + `:="true"`)
		return b.String()
	}
	if q.MinLevel > 0 {
		b.WriteString(" severity_number:>=" + strconv.Itoa(int(q.MinLevel)))
	}
	if q.Contains != "" {
		// The substring filter: case-sensitive, no pattern syntax inside
		// the quotes.
		b.WriteString(" _msg:*" + quote(q.Contains) + "*")
	}
	b.WriteString(" !" + quote(resource.End) + `:="true"`)
	return b.String()
}

// readPipe follows every query that reads entries: _stream repeats the
// stream fields each entry has anyway.
const readPipe = " | delete _stream, _stream_id"

// LogsQL returns the LogsQL query with which Fetch reads the entries q
// selects, before it adds the time range of each window: the query to run
// with another client (curl, vlogscli) to see what runlog reads. Start,
// End, Limit, Cursor and Direction do not appear in it.
func LogsQL(q runlog.Query) string { return filter(&q, false) + readPipe }

// timeRange renders [lo, hi) in nanoseconds as a LogsQL time filter; zero
// hi means no upper bound.
func timeRange(lo, hi int64) string {
	if hi == 0 {
		return " _time:>=" + formatTime(lo)
	}
	return " _time:[" + formatTime(lo) + ", " + formatTime(hi) + ")"
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// span is a time range [lo, hi) in nanoseconds; hi 0 is unbounded.
type span struct{ lo, hi int64 }

// filter renders s as a LogsQL time filter, empty for all time.
func (s span) filter() string {
	switch {
	case s.lo == 0 && s.hi == 0:
		return ""
	case s.hi == 0:
		return " _time:>=" + formatTime(s.lo)
	default:
		return timeRange(s.lo, s.hi)
	}
}
