package loki

import (
	"regexp"
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

// logQL builds the log query of q: a stream selector (see selector), then
// a line filter for the text, then label filters (exact equality, on
// structured metadata) for run, step and source not in the selector, and a
// numeric filter for the level.
func (c *Client) logQL(q *runlog.Query) string { return c.logQLOf(q, false) }

// logQLOf builds the query of q's entries, or, with markers, of the end
// markers of q's run (step, source), which entry queries leave out.
func (c *Client) logQLOf(q *runlog.Query, markers bool) string {
	eq := [][2]string{{c.conv.RunID, q.RunID}}
	if q.StepID != "" {
		eq = append(eq, [2]string{c.conv.StepID, q.StepID})
	}
	if q.Source != "" {
		eq = append(eq, [2]string{c.conv.Source, q.Source})
	}
	sel, filters := c.selector(eq)
	var b strings.Builder
	b.WriteString(sel)
	if q.Contains != "" {
		b.WriteString(" |= " + quote(q.Contains))
	}
	b.WriteString(filters)
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

// selector returns the stream selector and the label filters that select
// the records with the equalities eq (dotted attribute name, value).
// Loki finds streams by index labels only, and needs a selector with a
// matcher that cannot match the empty string:
//
//   - an equality on an attribute of IndexLabels goes into the selector;
//     when the run id is one, the selector alone finds the run's streams,
//     across services: the cheapest, and the configured Services, if any,
//     only narrow it;
//   - otherwise the selector is on service_name: the configured Services
//     (or the convention's service, zenml's "zenml"), else every service,
//     service_name=~".+", and the equalities are label filters on
//     structured metadata, where Loki keeps record attributes and the
//     resource attributes it does not index. Loki then reads every chunk of
//     the selected services in the time range: for ".+", all of the
//     tenant's.
func (c *Client) selector(eq [][2]string) (sel, filters string) {
	var matchers []string
	var fs strings.Builder
	indexed := false
	for i, kv := range eq {
		m := resource.Loki(kv[0]) + "=" + quote(kv[1])
		if c.index[kv[0]] {
			matchers = append(matchers, m)
			indexed = indexed || i == 0
		} else {
			fs.WriteString(" | " + m)
		}
	}
	if m := c.serviceMatcher(indexed); m != "" {
		matchers = append([]string{m}, matchers...)
	}
	return "{" + strings.Join(matchers, ", ") + "}", fs.String()
}

// serviceMatcher is the selector's matcher on service_name: the
// configured services, else, when the run id is not indexed, the
// convention's service or any service; empty when the run id is indexed
// and no services are configured.
func (c *Client) serviceMatcher(indexed bool) string {
	services := c.services
	if len(services) == 0 && !indexed && c.conv.ServiceName != "" {
		services = []string{c.conv.ServiceName}
	}
	switch {
	case len(services) == 1:
		return "service_name=" + quote(services[0])
	case len(services) > 1:
		alt := make([]string, len(services))
		for i, s := range services {
			alt[i] = regexp.QuoteMeta(s)
		}
		return "service_name=~" + quote(strings.Join(alt, "|"))
	case !indexed:
		return `service_name=~".+"`
	}
	return ""
}
