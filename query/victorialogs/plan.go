package victorialogs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

// askedSpan returns the query's own time range; false when it ends before
// 1970, where nothing is stored.
func askedSpan(q *runlog.Query) (span, bool) {
	var asked span
	if !q.Start.IsZero() {
		asked.lo = max(q.Start.UnixNano(), 0)
	}
	if !q.End.IsZero() {
		asked.hi = q.End.UnixNano()
		if asked.hi <= 0 {
			return span{}, false
		}
	}
	return asked, true
}

// past returns what is left of sp to read in direction dir after the key
// k, the last entry an earlier page returned; false when nothing is.
func (sp span) past(k *pagination.Key, dir runlog.Direction) (span, bool) {
	if k != nil {
		if dir == runlog.Forward {
			sp.lo = max(sp.lo, k.T)
		} else if sp.hi == 0 || k.T+1 < sp.hi {
			sp.hi = k.T + 1
		}
	}
	return sp, sp.hi == 0 || sp.lo < sp.hi
}

// page reads up to limit entries f matches in sp after cur.Last (in dir),
// and whether more follow, with readPage; when records kept arriving in a
// window while it was read, it counts and reads again, three times at
// most.
func (c *Client) page(ctx context.Context, f string, sp span, limit int, dir runlog.Direction, cur *cursor) (entries []runlog.LogEntry, more bool, err error) {
	for attempt := 1; ; attempt++ {
		entries, more, err = c.readPage(ctx, f, sp, limit, dir, cur)
		if !errors.Is(err, errGrew) || attempt == 3 {
			break
		}
		cur.Plan = nil // count again
	}
	if errors.Is(err, errGrew) {
		err = &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(), Err: err,
			Hint: "records kept arriving in the span being read, three times over; retry, or fetch with an End time"}
	}
	return entries, more, err
}

// readPage reads up to limit entries of sp after cur.Last (in dir), and
// whether more follow. It reads the windows cur.Plan holds, else it counts
// what is left and plans windows; each window read is merged into the
// page at once. It leaves the windows not read, or not read to their end,
// in cur.Plan.
func (c *Client) readPage(ctx context.Context, f string, sp span, limit int, dir runlog.Direction, cur *cursor) ([]runlog.LogEntry, bool, error) {
	plan := cur.Plan
	cur.Plan = nil
	m := pagination.Merge{Last: cur.Last, Dir: dir, Limit: limit}
	var g group
	for !m.Full() {
		fresh := false
		if len(plan) == 0 {
			var err error
			if plan, err = c.plan(ctx, f, sp, limit, dir); err != nil || len(plan) == 0 {
				return m.Entries, false, err
			}
			fresh = true
		}
		g = plan[0]
		if n := len(m.Entries); n > 0 && n+g.N > limit {
			// The page ends between windows, a little short of limit,
			// rather than inside one that the next page would read again.
			break
		}
		plan = plan[1:]
		w := sp
		if dir == runlog.Forward {
			w.hi, sp.lo = g.Edge, g.Edge
		} else {
			w.lo, sp.hi = g.Edge, g.Edge
		}
		if m.Entries == nil {
			planned := 1
			for _, g := range plan {
				if planned += g.N; planned > limit {
					break
				}
			}
			m.Entries = make([]runlog.LogEntry, 0, min(limit+1, planned+g.N))
		}
		if err := c.readWindow(ctx, f, w, g.N, &m); err != nil {
			return nil, false, err
		}
		if fresh && len(plan) == 0 {
			break // read up to the newest entry counted: the end, for now
		}
	}
	out, cut := m.Cut()
	if cut {
		// The page ends inside window g: the next reads the rest of it.
		plan = append([]group{g}, plan...)
	}
	if len(plan) > maxPlan {
		plan = plan[:maxPlan]
	}
	cur.Plan = plan
	return out, len(plan) > 0, nil
}

// plan counts the entries f matches in sp and returns windows, in
// direction dir, up to the newest entry counted, each holding about a
// quarter of a page, and at least 4,096 entries or a page, where the counts
// allow: a page is a few whole windows, reads little that it does not
// return, and small pages do not cost a request each.
func (c *Client) plan(ctx context.Context, f string, sp span, limit int, dir runlog.Direction) ([]group, error) {
	n, first, newest, err := c.stats(ctx, f+sp.filter())
	if err != nil || n == 0 {
		return nil, err
	}
	all := span{first, newest + 1}
	if n <= limit+limit/4+64 {
		if dir == runlog.Forward {
			return []group{{all.hi, n}}, nil
		}
		return []group{{all.lo, n}}, nil
	}
	bs, err := c.buckets(ctx, f, all, n, maxWindow(limit), 0)
	if err != nil {
		return nil, err
	}
	if dir == runlog.Backward {
		slices.Reverse(bs)
	}
	most := max(limit/4, min(limit, 4096))
	var gs []group
	for i := 0; i < len(bs); {
		b := bs[i]
		w, count := b.span, b.n
		for i++; i < len(bs) && count+bs[i].n <= most; i++ {
			w.lo, w.hi = min(w.lo, bs[i].lo), max(w.hi, bs[i].hi)
			count += bs[i].n
		}
		if dir == runlog.Forward {
			gs = append(gs, group{w.hi, count})
		} else {
			gs = append(gs, group{w.lo, count})
		}
	}
	return gs, nil
}

// maxWindow is the most entries one window read may hold for a page of
// limit entries: memory stays a few pages whatever the run's size.
func maxWindow(limit int) int { return 2*limit + 1024 }

type bucket struct {
	span
	n int
}

// buckets is how finely a span is counted.
const buckets = 1024

// buckets counts the entries f matches in w, n in all, per time bucket,
// and returns the buckets that hold any, oldest first. A bucket holding
// more than most is counted again more finely, so that a window of
// buckets can stay under most entries.
func (c *Client) buckets(ctx context.Context, f string, w span, n, most, depth int) ([]bucket, error) {
	step := max((w.hi-w.lo+buckets-1)/buckets, 1)
	var bs []bucket
	err := c.rows(ctx, f+w.filter()+" | stats by (_time:"+strconv.FormatInt(step, 10)+"ns) count() N", func(line []byte) error {
		var row struct {
			Time string `json:"_time"`
			N    string
		}
		if err := json.Unmarshal(line, &row); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, row.Time)
		if err != nil {
			return err
		}
		k, err := strconv.Atoi(row.N)
		if err != nil {
			return err
		}
		lo := t.UnixNano()
		bs = append(bs, bucket{span{max(lo, w.lo), min(lo+step, w.hi)}, k})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.lo, b.lo) })
	if depth >= 3 || step == 1 {
		return bs, nil
	}
	var out []bucket
	for _, b := range bs {
		if b.n <= most || b.hi-b.lo <= 1 {
			out = append(out, b)
			continue
		}
		fine, err := c.buckets(ctx, f, b.span, b.n, most, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, fine...)
	}
	return out, nil
}
