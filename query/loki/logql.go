package loki

import (
	"strconv"
	"strings"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// quote renders s as a LogQL double-quoted string. LogQL reads string
// literals with Go's unquoting rules, so Go's quoting is exact: quotes,
// backslashes, backticks, newlines and regex metacharacters stay literal
// text and can never end the string or change the query.
func quote(s string) string { return strconv.Quote(s) }

// logQL builds the log query of q: a stream selector on the index labels
// runlog is configured with, then a line filter for the text, then label
// filters (exact equality, on labels or structured metadata) for run, step
// and source, and a numeric filter for the level.
func (c *Client) logQL(q *runlog.Query) string { return c.logQLOf(q, false) }

// logQLOf builds the query of q's entries, or, with markers, of the end
// markers of q's run (step, source), which entry queries leave out.
func (c *Client) logQLOf(q *runlog.Query, markers bool) string {
	sel := []string{"service_name=" + quote(c.cfg.ServiceName)}
	var filters []string
	eq := func(attr, value string) {
		name := resource.Loki(attr)
		m := name + "=" + quote(value)
		if c.index[attr] {
			sel = append(sel, m)
		} else {
			filters = append(filters, "| "+m)
		}
	}
	eq(resource.RunID, q.RunID)
	if q.StepID != "" {
		eq(resource.StepID, q.StepID)
	}
	if q.Source != "" {
		eq(resource.Source, q.Source)
	}
	var b strings.Builder
	b.WriteString("{" + strings.Join(sel, ", ") + "}")
	if q.Contains != "" {
		b.WriteString(" |= " + quote(q.Contains))
	}
	for _, f := range filters {
		b.WriteString(" " + f)
	}
	if q.MinLevel > 0 {
		b.WriteString(" | severity_number >= " + strconv.Itoa(int(q.MinLevel)))
	}
	// End markers are not entries (a missing label compares as "").
	op := " != "
	if markers {
		op = " = "
	}
	b.WriteString(" | " + resource.Loki(resource.End) + op + `"true"`)
	return b.String()
}
