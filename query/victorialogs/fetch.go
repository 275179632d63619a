package victorialogs

import (
	"context"

	"github.com/runlog/runlog"
)

// Fetch returns the entries matching q; see runlog.LogStore.
//
// It counts the matching entries of the span left to read; when they fit
// one page comfortably it reads them in one request, else it counts them
// per time bucket and reads windows of buckets in q.Direction while they
// fit the page. Each window is sorted here, and the entries the cursor
// already returned are dropped.
//
// The steps live in their own files: the cursor in cursor.go, the query in
// logsql.go, the plan (and the walk through its windows) in plan.go, the
// requests in read.go, the merge in package pagination, the end markers in
// ends.go.
func (c *Client) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	asked, ok := askedSpan(&q)
	if !ok {
		return runlog.Page{Next: q.Cursor}, nil
	}
	p := runlog.Page{Next: q.Cursor}
	if left, ok := asked.past(cur.Last, q.Direction); ok {
		// Plan, read and merge, window by window, until the page is full.
		p.Entries, p.More, err = c.page(ctx, filter(&c.conv, &q, false), left, q.EffectiveLimit(), q.Direction, &cur)
		if err != nil {
			return runlog.Page{}, err
		}
	}
	p.Next = cur.next(q.Cursor, p.Entries)
	if !p.More {
		// The last page: report the end markers of the query's run (step,
		// source), which the entry query leaves out, so that a tail knows
		// when to stop.
		if p.Ends, err = c.ends(ctx, &q, asked); err != nil {
			return runlog.Page{}, err
		}
	}
	return p, nil
}
