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
// end markers of q's run (step, source): the run, step and source by
// convention conv (see runFields), then the level, the text, and the
// end-marker test.
func filter(conv *resource.Convention, q *runlog.Query, markers bool) string {
	var b strings.Builder
	eq := [][2]string{{conv.RunID, q.RunID}}
	if q.StepID != "" {
		eq = append(eq, [2]string{conv.StepID, q.StepID})
	}
	if q.Source != "" {
		eq = append(eq, [2]string{conv.Source, q.Source})
	}
	b.WriteString(runFields(conv, eq))
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

// runFields renders the equalities eq (attribute name, value) as a LogsQL
// filter. Where conv's writers put them in the resource only, it is a
// stream filter, {"a"="x", "b"="y"}: resource attributes are VictoriaLogs
// stream fields, found through the stream index without reading a block
// of any other stream. Where they may be on the record (the default
// convention: a service's own provider, another SDK), it is exact field
// filters, "a":="x" "b":="y": VictoriaLogs gives stream fields to every
// entry as fields too, so these match either place. They cost a look at
// each block of the time range (its column header and bloom filter, not
// its values unless the bloom filter may hold the id); docs/victorialogs.md
// has the figures.
func runFields(conv *resource.Convention, eq [][2]string) string {
	var b strings.Builder
	if conv.Where == resource.InResource {
		b.WriteString("{")
		for i, kv := range eq {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(kv[0]) + "=" + quote(kv[1]))
		}
		b.WriteString("}")
		return b.String()
	}
	for i, kv := range eq {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(quote(kv[0]) + ":=" + quote(kv[1]))
	}
	return b.String()
}

// anyRun is the LogsQL filter of every record that names a run, by conv.
func anyRun(conv *resource.Convention) string {
	if conv.Where == resource.InResource {
		return "{" + quote(conv.RunID) + `!=""}`
	}
	return quote(conv.RunID) + ":*"
}

// readPipe follows every query that reads entries: _stream repeats the
// stream fields each entry has anyway.
const readPipe = " | delete _stream, _stream_id"

// LogsQL returns the LogsQL query with which a Client of the default
// convention (resource.CICD) reads the entries q selects, before it adds
// the time range of each window: the query to run with another client
// (curl, vlogscli) to see what runlog reads. Start, End, Limit, Cursor and
// Direction do not appear in it. [Client.LogsQL] is that of a client's
// own convention.
func LogsQL(q runlog.Query) string {
	conv := resource.CICD()
	return filter(&conv, &q, false) + readPipe
}

// LogsQL is [LogsQL] by the client's convention.
func (c *Client) LogsQL(q runlog.Query) string { return filter(&c.conv, &q, false) + readPipe }

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
