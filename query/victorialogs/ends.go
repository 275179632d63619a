package victorialogs

import (
	"context"
	"slices"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// ends returns the end markers of q's run (step, source) within sp, the
// query's time range, oldest first.
func (c *Client) ends(ctx context.Context, q *runlog.Query, sp span) ([]runlog.End, error) {
	var ends []runlog.End
	err := c.rows(ctx, filter(&c.conv, q, true)+sp.filter(), func(line []byte) error {
		var e runlog.LogEntry
		if err := decodeLine(line, &e, c.mapping); err != nil {
			return err
		}
		if end, ok := resource.EndOf(&e); ok {
			ends = append(ends, end)
		}
		return nil
	})
	slices.SortFunc(ends, func(a, b runlog.End) int { return a.Time.Compare(b.Time) })
	return ends, err
}
