package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

// cursor is what runlog.Cursor encodes for Loki: the sort key of the last
// entry returned, and the run's time span so that later pages need not
// look for it again.
type cursor struct {
	Last *pagination.Key `json:"k,omitempty"`
	Lo   int64           `json:"a,omitempty"`
	Hi   int64           `json:"b,omitempty"`
	Live bool            `json:"l,omitempty"` // the run was recent: once read up to Hi, read on up to now
	// Counts of buckets [K0, K0+len(Counts)) of width Step, from the page
	// that counted them, so that later pages plan without counting again.
	Step   int64 `json:"st,omitempty"`
	K0     int64 `json:"k0,omitempty"`
	Counts []int `json:"n,omitempty"`
}

func decodeCursor(c runlog.Cursor) (cursor, error) {
	var cur cursor
	if err := pagination.Decode(c, &cur); err != nil {
		return cursor{}, err
	}
	if cur.Lo < 0 || (cur.Hi != 0 && cur.Hi < cur.Lo) || cur.Step < 0 || cur.K0 < 0 {
		return cursor{}, pagination.Invalid(c)
	}
	return cur, nil
}

func (c cursor) encode() runlog.Cursor { return pagination.Encode(c) }

// liveWindow: a run whose newest entry is this recent is read up to now on
// every page, so that a tail sees what is written after the first page.
const liveWindow = 5 * time.Minute

// Fetch returns the entries matching q; see runlog.LogStore.
//
// It finds the time span to read (q.Start and q.End, else the run's own
// span, found with two limit-1 queries), counts the matching entries per
// time bucket with one metric query, and then reads just enough buckets,
// grouped into windows of at most MaxEntries entries, Parallelism windows
// at a time. Each window pages past Loki's per-query cap from the last
// timestamp it saw, dropping the entries it already has; the pages are
// then sorted, deduplicated and cut at the limit.
func (c *Client) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	logql := c.logQL(&q)
	now := time.Now().UnixNano()

	lo, hi := cur.Lo, cur.Hi
	if hi == 0 {
		hi = now + 1 // a live run, read up to now (see the end of Fetch)
	}
	if !q.End.IsZero() {
		hi = q.End.UnixNano()
	}
	if !q.Start.IsZero() {
		lo = q.Start.UnixNano()
	}
	if lo == 0 {
		first, last, found, err := c.span(ctx, logql, hi)
		if err != nil {
			return runlog.Page{}, err
		}
		if !found {
			return runlog.Page{Next: q.Cursor}, nil
		}
		lo = first
		if q.End.IsZero() {
			hi = last + 1
			cur.Live = now-last < int64(liveWindow)
		}
	}
	cur.Lo, cur.Hi = lo, hi
	if cur.Last != nil {
		if q.Direction == runlog.Forward {
			lo = max(lo, cur.Last.T)
		} else {
			hi = min(hi, cur.Last.T+1)
		}
	}
	if lo >= hi {
		return runlog.Page{Next: q.Cursor}, nil
	}

	limit := q.EffectiveLimit()
	var (
		entries []runlog.LogEntry
		rest    window
		more    bool
	)
	if small, cut, ok, err := c.smallPage(ctx, logql, lo, hi, limit, q.Direction, &cur); err != nil {
		return runlog.Page{}, err
	} else if ok {
		entries, more = small, cut
	} else {
		// Plan for a tenth more than the limit, since bucket counts are
		// approximate at their edges; when the windows still fall short,
		// plan again over what is left, for what is missing.
		want := limit + limit/10 + 2
		rest = window{lo, hi}
		plan := &cur
		for rest.hi > rest.lo && len(entries) <= limit+1 {
			var windows []window
			windows, rest = c.plan(ctx, logql, rest.lo, rest.hi, want-len(entries), q.Direction, plan)
			more, err := c.readWindows(ctx, logql, windows)
			if err != nil {
				return runlog.Page{}, err
			}
			entries = append(entries, more...)
		}
	}
	dir := 1
	if q.Direction == runlog.Backward {
		dir = -1
	}
	slices.SortFunc(entries, func(a, b runlog.LogEntry) int { return dir * runlog.Compare(&a, &b) })
	out := entries[:0]
	for i := range entries {
		e := &entries[i]
		if cur.Last != nil && cur.Last.Compare(e)*dir <= 0 {
			continue // returned by an earlier page
		}
		if n := len(out); n > 0 && runlog.Compare(&out[n-1], e) == 0 {
			continue // read twice, at a window or page boundary
		}
		out = append(out, *e)
	}
	p := runlog.Page{More: len(out) > limit || rest.hi > rest.lo || more}
	p.Entries = slices.Clone(out[:min(limit, len(out))])
	if n := len(p.Entries); n > 0 {
		cur.Last = pagination.KeyOf(&p.Entries[n-1])
	}
	if !p.More {
		// The last page: report the end markers of the span read, which
		// the entry query leaves out, so that a tail knows when to stop.
		// A marker comes after the span's last entry: read up to now.
		if p.Ends, err = c.ends(ctx, &q, cur.Lo, max(hi, time.Now().UnixNano()+1)); err != nil {
			return runlog.Page{}, err
		}
	}
	if !p.More && cur.Live {
		// The run was recent: the next fetch with this cursor reads past
		// the span found so far, up to its own now. That is a live tail.
		cur.Hi, cur.Step, cur.K0, cur.Counts = 0, 0, 0, nil
	}
	p.Next = cur.encode()
	if len(p.Entries) == 0 && q.Cursor != "" && !cur.Live {
		p.Next = q.Cursor
	}
	return p, nil
}

// smallPage serves a page that fits one Loki query: it asks for a few more
// entries than the limit and keeps those before the last timestamp seen,
// which are complete (entries sharing the last timestamp may have been
// cut); cut reports that entries were left out. ok is false when that
// leaves too few; Fetch then plans windows.
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
	sign := 1
	if dir == runlog.Backward {
		sign = -1
	}
	fresh := 0
	for i := range out {
		if cur.Last == nil || cur.Last.Compare(&out[i])*sign > 0 {
			fresh++
		}
	}
	return out, true, fresh > limit, nil
}

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

// span finds the time span of the entries logql matches before end: the
// newest, looked for in growing windows back to MaxLookback, then the
// oldest, at most MaxRunDuration before it.
func (c *Client) span(ctx context.Context, logql string, end int64) (first, last int64, found bool, err error) {
	prev := end
	for _, d := range []time.Duration{15 * time.Minute, 2 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, c.cfg.MaxLookback} {
		from := end - int64(min(d, c.cfg.MaxLookback))
		if from >= prev {
			continue
		}
		vals, err := c.queryRange(ctx, logql, from, prev, 1, "backward")
		if err != nil {
			return 0, 0, false, err
		}
		if len(vals) > 0 {
			last, found = vals[0].Time.UnixNano(), true
			break
		}
		prev = from
	}
	if !found {
		return 0, 0, false, nil
	}
	vals, err := c.queryRange(ctx, logql, last-int64(c.cfg.MaxRunDuration), last+1, 1, "forward")
	if err != nil {
		return 0, 0, false, err
	}
	first = last
	if len(vals) > 0 {
		first = vals[0].Time.UnixNano()
	}
	return first, last, true, nil
}

type window struct{ lo, hi int64 }

// buckets is how finely plan counts entries over the span it reads.
const buckets = 128

// plan splits [lo, hi) into windows of at most MaxEntries entries each,
// enough of them, in direction dir, to hold want entries. rest is the part
// of [lo, hi) left outside the windows. The
// counts come from one count_over_time query; they only size the windows
// (every window is read whole, and Fetch reads rest too when the windows
// fall short), so a failed or rough count costs speed, never correctness.
//
// Loki aligns the points of a metric query to multiples of the step, so
// buckets are aligned too: bucket k is [k*step, (k+1)*step), counted by the
// point at its end. The counts of the whole span are kept in cur, and later
// calls (later pages) use them.
func (c *Client) plan(ctx context.Context, logql string, lo, hi int64, want int, dir runlog.Direction, cur *cursor) (ws []window, rest window) {
	const ms = int64(time.Millisecond)
	covers := func() bool {
		return cur.Step > 0 && lo/cur.Step >= cur.K0 && (hi+cur.Step-1)/cur.Step-cur.K0 <= int64(len(cur.Counts))
	}
	if !covers() {
		step := max((hi-lo+buckets-1)/buckets, ms)
		step = (step + ms - 1) / ms * ms
		k0 := lo / step
		n := int((hi+step-1)/step - k0)
		cur.Step, cur.K0, cur.Counts = 0, 0, nil
		if n <= 1 {
			return []window{{lo, hi}}, window{}
		}
		counts, err := c.count(ctx, logql, k0, n, step)
		if err != nil {
			return []window{{lo, hi}}, window{}
		}
		cur.Step, cur.K0, cur.Counts = step, k0, counts
	}
	step := cur.Step
	k0, k1 := lo/step, (hi+step-1)/step
	n := int(k1 - k0)
	if n <= 1 {
		return []window{{lo, hi}}, window{}
	}
	counts := cur.Counts[k0-cur.K0 : k1-cur.K0]
	bucket := func(i int) window {
		return window{max((k0+int64(i))*step, lo), min((k0+int64(i)+1)*step, hi)}
	}
	total, inWin := 0, 0
	var w window
	flush := func() {
		if w.hi > w.lo {
			ws = append(ws, w)
		}
		w, inWin = window{}, 0
	}
	i, end, inc := 0, n, 1
	if dir == runlog.Backward {
		i, end, inc = n-1, -1, -1
	}
	for ; i != end && total < want; i += inc {
		b := bucket(i)
		total += counts[i]
		if w.hi > w.lo && inWin+counts[i] > c.cfg.MaxEntries {
			flush()
		}
		if w.hi == w.lo {
			w = b
		} else {
			w.lo, w.hi = min(w.lo, b.lo), max(w.hi, b.hi)
		}
		inWin += counts[i]
	}
	flush()
	if i != end {
		if dir == runlog.Forward {
			rest = window{ws[len(ws)-1].hi, hi}
		} else {
			rest = window{lo, ws[len(ws)-1].lo}
		}
	}
	return ws, rest
}

// count returns the matching entries of n buckets of width step, the first
// being [k0*step, (k0+1)*step).
func (c *Client) count(ctx context.Context, logql string, k0 int64, n int, step int64) ([]int, error) {
	ms := step / int64(time.Millisecond)
	params := url.Values{
		"query": {fmt.Sprintf("sum(count_over_time(%s [%dms]))", logql, ms)},
		"start": {strconv.FormatInt((k0+1)*step, 10)},
		"end":   {strconv.FormatInt((k0+int64(n))*step, 10)},
		"step":  {fmt.Sprintf("%dms", ms)},
	}
	body, err := c.get(ctx, "/loki/api/v1/query_range", params)
	if err != nil {
		return nil, err
	}
	var resp matrixResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, c.decodeError(err)
	}
	counts := make([]int, n)
	for _, r := range resp.Data.Result {
		for _, v := range r.Values {
			sec, ok1 := v[0].(float64)
			s, ok2 := v[1].(string)
			if !ok1 || !ok2 {
				continue
			}
			k, _ := strconv.Atoi(s)
			i := int(int64(math.Round(sec*1e3))*int64(time.Millisecond)/step-k0) - 1
			counts[min(max(i, 0), n-1)] += k
		}
	}
	return counts, nil
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
		out = append(out, toEntry(ts, line, meta))
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
