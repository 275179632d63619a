package loki

import (
	"context"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// ends returns the end markers of the query's run (step, source) in
// [lo, hi).
func (c *Client) ends(ctx context.Context, q *runlog.Query, lo, hi int64) ([]runlog.End, error) {
	mq := runlog.Query{RunID: q.RunID, StepID: q.StepID, Source: q.Source}
	vals, err := c.queryRange(ctx, c.logQLOf(&mq, true), lo, hi, 1000, "forward")
	if err != nil {
		return nil, err
	}
	var ends []runlog.End
	for i := range vals {
		if end, ok := resource.EndOf(&vals[i]); ok {
			ends = append(ends, end)
		}
	}
	return ends, nil
}
