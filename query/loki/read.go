package loki

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/runlog/runlog"
)

// read returns the entries of w read for a page of limit entries, in no
// particular order, and whether entries of w were left unread. A page that
// fits one Loki query takes one request (smallPage); otherwise windows are
// planned and read until they hold the page: plan for a tenth more than
// the limit, since bucket counts are approximate at their edges, and when
// the windows still fall short, plan again over what is left, for what is
// missing.
func (c *Client) read(ctx context.Context, logql string, w window, limit int, dir runlog.Direction, cur *cursor) (entries []runlog.LogEntry, unread bool, err error) {
	if small, cut, ok, err := c.smallPage(ctx, logql, w.lo, w.hi, limit, dir, cur); err != nil {
		return nil, false, err
	} else if ok {
		return small, cut, nil
	}
	want := limit + limit/10 + 2
	rest := w
	for rest.hi > rest.lo && len(entries) <= limit+1 {
		var windows []window
		windows, rest = c.plan(ctx, logql, rest.lo, rest.hi, want-len(entries), dir, cur)
		more, err := c.readWindows(ctx, logql, windows)
		if err != nil {
			return nil, false, err
		}
		entries = append(entries, more...)
	}
	return entries, rest.hi > rest.lo, nil
}

// smallPage serves a page that fits one Loki query: it asks for a few more
// entries than the limit and keeps those before the last timestamp seen,
// which are complete (entries sharing the last timestamp may have been
// cut); cut reports that entries were left out. ok is false when that
// leaves too few; read then plans windows.
func (c *Client) smallPage(ctx context.Context, logql string, lo, hi int64, limit int, dir runlog.Direction, cur *cursor) (entries []runlog.LogEntry, cut, ok bool, err error) {
	want := limit + 16
	if want > c.cfg.MaxEntries {
		return nil, false, false, nil
	}
	direction := "forward"
	if dir == runlog.Backward {
		direction = "backward"
	}
	vals, err := c.queryRange(ctx, logql, lo, hi, want, direction)
	if err != nil {
		return nil, false, false, err
	}
	whole := len(vals) < want
	edge := int64(0)
	if !whole {
		edge = vals[len(vals)-1].Time.UnixNano()
	}
	out := vals[:0]
	for i := range vals {
		if !whole && vals[i].Time.UnixNano() == edge {
			continue
		}
		out = append(out, vals[i])
	}
	if whole {
		return out, false, true, nil
	}
	fresh := 0
	for i := range out {
		if cur.Last.After(&out[i], dir) {
			fresh++
		}
	}
	return out, true, fresh > limit, nil
}

// readWindows reads every entry of every window, Parallelism at a time.
func (c *Client) readWindows(ctx context.Context, logql string, ws []window) ([]runlog.LogEntry, error) {
	results := make([][]runlog.LogEntry, len(ws))
	errs := make([]error, len(ws))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, c.cfg.Parallelism)
	var wg sync.WaitGroup
	for i, w := range ws {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i], errs[i] = c.readWindow(ctx, logql, w)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var n int
	for _, r := range results {
		n += len(r)
	}
	all := make([]runlog.LogEntry, 0, n)
	for _, r := range results {
		all = append(all, r...)
	}
	return all, nil
}

// readWindow reads every entry of w, paging past MaxEntries: each page
// starts at the newest timestamp of the one before (entries sharing it may
// have been cut), and the entries at that timestamp already read are
// dropped.
func (c *Client) readWindow(ctx context.Context, logql string, w window) ([]runlog.LogEntry, error) {
	var out []runlog.LogEntry
	from := w.lo
	seen := map[string]bool{} // ids of entries at timestamp from
	for {
		vals, err := c.queryRange(ctx, logql, from, w.hi, c.cfg.MaxEntries, "forward")
		if err != nil {
			return nil, err
		}
		newest := from
		for i := range vals {
			e := &vals[i]
			ts := e.Time.UnixNano()
			if ts == from && seen[entryKey(e)] {
				continue
			}
			out = append(out, *e)
			newest = max(newest, ts)
		}
		if len(vals) < c.cfg.MaxEntries {
			return out, nil
		}
		if newest == from {
			return nil, &runlog.Error{Kind: runlog.ErrOverLimit, Op: "fetch", Store: c.URL(),
				Err:  fmt.Errorf("more than %d entries share the timestamp %s", c.cfg.MaxEntries, time.Unix(0, from).UTC().Format(time.RFC3339Nano)),
				Hint: "raise Loki's max_entries_limit_per_query and the max_entries setting"}
		}
		clear(seen)
		for i := range out {
			if out[i].Time.UnixNano() == newest {
				seen[entryKey(&out[i])] = true
			}
		}
		from = newest
	}
}

func entryKey(e *runlog.LogEntry) string { return e.ID + "/" + strconv.Itoa(e.ChunkIndex) }

// queryRange runs one log query and returns its entries in timestamp
// order (Loki sorts within a stream; entries of several streams are merged
// here).
func (c *Client) queryRange(ctx context.Context, logql string, from, to int64, limit int, direction string) ([]runlog.LogEntry, error) {
	params := url.Values{
		"query":     {logql},
		"start":     {strconv.FormatInt(from, 10)},
		"end":       {strconv.FormatInt(to, 10)},
		"limit":     {strconv.Itoa(limit)},
		"direction": {direction},
	}
	body, err := c.get(ctx, "/loki/api/v1/query_range", params)
	if err != nil {
		return nil, err
	}
	out := make([]runlog.LogEntry, 0, min(limit, 1024))
	sorted := true
	err = decodeStreams(body, func(ts int64, line string, meta [][2]string) {
		if n := len(out); n > 0 && out[n-1].Time.UnixNano() > ts {
			sorted = false
		}
		out = append(out, toEntry(ts, line, meta, c.mapping))
	})
	if err != nil {
		return nil, c.decodeError(err)
	}
	if direction == "backward" {
		slices.SortStableFunc(out, func(a, b runlog.LogEntry) int { return b.Time.Compare(a.Time) })
	} else if !sorted {
		slices.SortStableFunc(out, func(a, b runlog.LogEntry) int { return a.Time.Compare(b.Time) })
	}
	return out, nil
}
