package loki

import (
	"context"
	"time"

	"github.com/runlog/runlog"
)

// Fetch returns the entries matching q; see runlog.LogStore.
//
// It finds the time span to read (q.Start and q.End, else the run's own
// span, found with two limit-1 queries), counts the matching entries per
// time bucket with one metric query, and then reads just enough buckets,
// grouped into windows of at most MaxEntries entries, Parallelism windows
// at a time. Each window pages past Loki's per-query cap from the last
// timestamp it saw, dropping the entries it already has; the pages are
// then sorted, deduplicated and cut at the limit.
//
// The steps live in their own files: the cursor in cursor.go, the query in
// logql.go, the span and the windows in plan.go, the requests in read.go,
// the merge in merge.go (on package pagination), the end markers in
// ends.go.
func (c *Client) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	logql := c.logQL(&q)
	w, ok, err := c.toRead(ctx, &q, logql, &cur)
	if err != nil {
		return runlog.Page{}, err
	}
	if !ok {
		return runlog.Page{Next: q.Cursor}, nil
	}
	limit := q.EffectiveLimit()
	entries, unread, err := c.read(ctx, logql, w, limit, q.Direction, &cur)
	if err != nil {
		return runlog.Page{}, err
	}
	var p runlog.Page
	var cut bool
	p.Entries, cut = merge(entries, cur.Last, q.Direction, limit)
	p.More = cut || unread
	if !p.More {
		// The last page: report the end markers of the span read, which
		// the entry query leaves out, so that a tail knows when to stop.
		// A marker comes after the span's last entry: read up to now.
		if p.Ends, err = c.ends(ctx, &q, cur.Lo, max(w.hi, time.Now().UnixNano()+1)); err != nil {
			return runlog.Page{}, err
		}
	}
	p.Next = cur.next(q.Cursor, p.Entries, p.More)
	return p, nil
}
