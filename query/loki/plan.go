package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/runlog/runlog"
)

// liveWindow: a run whose newest entry is this recent is read up to now on
// every page, so that a tail sees what is written after the first page.
const liveWindow = 5 * time.Minute

type window struct{ lo, hi int64 }

// toRead returns the span of q left to read: q.Start and q.End, else the
// cursor's, else the run's own span (found with span; a recent run is
// marked live), then narrowed past the cursor's last entry. It records
// the span in cur. ok is false when nothing is left to read.
func (c *Client) toRead(ctx context.Context, q *runlog.Query, logql string, cur *cursor) (w window, ok bool, err error) {
	now := time.Now().UnixNano()
	lo, hi := cur.Lo, cur.Hi
	if hi == 0 {
		hi = now + 1 // a live run, read up to now (see cursor.next)
	}
	if !q.End.IsZero() {
		hi = q.End.UnixNano()
	}
	if !q.Start.IsZero() {
		lo = q.Start.UnixNano()
	}
	if lo == 0 {
		first, last, found, err := c.span(ctx, logql, hi)
		if err != nil || !found {
			return window{}, false, err
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
	return window{lo, hi}, lo < hi, nil
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

// buckets is how finely plan counts entries over the span it reads.
const buckets = 128

// plan splits [lo, hi) into windows of at most MaxEntries entries each,
// enough of them, in direction dir, to hold want entries. rest is the part
// of [lo, hi) left outside the windows. The
// counts come from one count_over_time query; they only size the windows
// (every window is read whole, and read reads rest too when the windows
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
