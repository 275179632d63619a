package victorialogs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

// cursor is what runlog.Cursor encodes for VictoriaLogs: the sort key of
// the last entry returned, and the windows planned for the next pages, so
// that they need not count again.
type cursor struct {
	Last *pagination.Key
	Plan []group
}

// group is a planned window: from where the previous one ended to Edge
// (its end reading forward, its start reading backward), holding about N
// entries when it was planned.
type group struct {
	Edge int64
	N    int
}

// maxPlan bounds the windows a cursor carries.
const maxPlan = 64

// wireCursor is a cursor as encoded: the plan as pairs of the distance
// from the previous edge (the first from Last) and the count, so that a
// cursor stays short enough for a URL.
type wireCursor struct {
	Last *pagination.Key `json:"k,omitempty"`
	Plan []int64         `json:"p,omitempty"`
}

func (c cursor) encode() runlog.Cursor {
	w := wireCursor{Last: c.Last}
	if c.Last != nil {
		prev := c.Last.T
		for _, g := range c.Plan {
			w.Plan = append(w.Plan, g.Edge-prev, int64(g.N))
			prev = g.Edge
		}
	}
	return pagination.Encode(w)
}

func decodeCursor(c runlog.Cursor) (cursor, error) {
	var w wireCursor
	if err := pagination.Decode(c, &w); err != nil {
		return cursor{}, err
	}
	if w.Last != nil && w.Last.T < 0 || len(w.Plan) > 2*maxPlan || len(w.Plan)%2 != 0 || w.Plan != nil && w.Last == nil {
		return cursor{}, pagination.Invalid(c)
	}
	cur := cursor{Last: w.Last}
	if w.Last != nil {
		prev := w.Last.T
		for i := 0; i < len(w.Plan); i += 2 {
			edge, n := prev+w.Plan[i], w.Plan[i+1]
			if edge < 0 || n < 0 || n > 1<<40 {
				return cursor{}, pagination.Invalid(c)
			}
			cur.Plan = append(cur.Plan, group{edge, int(n)})
			prev = edge
		}
	}
	return cur, nil
}

// span is a time range [lo, hi) in nanoseconds; hi 0 is unbounded.
type span struct{ lo, hi int64 }

func (s span) filter() string {
	switch {
	case s.lo == 0 && s.hi == 0:
		return ""
	case s.hi == 0:
		return " _time:>=" + formatTime(s.lo)
	default:
		return timeRange(s.lo, s.hi)
	}
}

// Fetch returns the entries matching q; see runlog.LogStore.
//
// It counts the matching entries of the span left to read; when they fit
// one page comfortably it reads them in one request, else it counts them
// per time bucket and reads windows of buckets in q.Direction while they
// fit the page. Each window is sorted here, and the entries the cursor
// already returned are dropped.
func (c *Client) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	var asked span // the query's own time range; sp is what is left of it
	if !q.Start.IsZero() {
		asked.lo = max(q.Start.UnixNano(), 0)
	}
	if !q.End.IsZero() {
		asked.hi = q.End.UnixNano()
		if asked.hi <= 0 {
			return runlog.Page{Next: q.Cursor}, nil
		}
	}
	sp := asked
	if k := cur.Last; k != nil {
		if q.Direction == runlog.Forward {
			sp.lo = max(sp.lo, k.T)
		} else if sp.hi == 0 || k.T+1 < sp.hi {
			sp.hi = k.T + 1
		}
	}
	p := runlog.Page{Next: q.Cursor}
	if sp.hi == 0 || sp.lo < sp.hi {
		var err error
		for attempt := 1; ; attempt++ {
			p.Entries, p.More, err = c.page(ctx, filter(&q, false), sp, q.EffectiveLimit(), q.Direction, &cur)
			if !errors.Is(err, errGrew) || attempt == 3 {
				break
			}
			cur.Plan = nil // count again
		}
		if errors.Is(err, errGrew) {
			err = &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(), Err: err,
				Hint: "records kept arriving in the span being read, three times over; retry, or fetch with an End time"}
		}
		if err != nil {
			return runlog.Page{}, err
		}
	}
	if n := len(p.Entries); n > 0 {
		cur.Last = pagination.KeyOf(&p.Entries[n-1])
		p.Next = cur.encode()
	}
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

// errGrew: a window held more entries than counted a moment before
// (records still arriving); the page is read again.
var errGrew = errors.New("more entries than counted")

// page reads up to limit entries of sp after cur.Last (in dir), and
// whether more follow. It reads the windows cur.Plan holds, else it counts
// what is left and plans windows; it leaves the windows not read, or not
// read to their end, in cur.Plan.
func (c *Client) page(ctx context.Context, f string, sp span, limit int, dir runlog.Direction, cur *cursor) ([]runlog.LogEntry, bool, error) {
	last, plan := cur.Last, cur.Plan
	cur.Plan = nil
	var out []runlog.LogEntry
	var order []*runlog.LogEntry
	keep := func(es []runlog.LogEntry) {
		order = slices.Grow(order[:0], len(es))
		for i := range es {
			order = append(order, &es[i])
		}
		sortEntries(order, dir)
		for _, e := range order {
			if last != nil && after(last, e, dir) <= 0 {
				continue // returned by an earlier page
			}
			if k := len(out); k > 0 && runlog.Compare(&out[k-1], e) == 0 {
				continue
			}
			if len(out) > limit {
				return // one more than the page is enough to know more follow
			}
			out = append(out, *e)
		}
	}
	var g group
	for len(out) <= limit {
		fresh := false
		if len(plan) == 0 {
			var err error
			if plan, err = c.plan(ctx, f, sp, limit, dir); err != nil || len(plan) == 0 {
				return out, false, err
			}
			fresh = true
		}
		g = plan[0]
		if len(out) > 0 && len(out)+g.N > limit {
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
		if out == nil {
			planned := 1
			for _, g := range plan {
				if planned += g.N; planned > limit {
					break
				}
			}
			out = make([]runlog.LogEntry, 0, min(limit+1, planned+g.N))
		}
		buf := windows.Get().(*[]runlog.LogEntry)
		es, err := c.read(ctx, f, w, g.N, (*buf)[:0])
		if err == nil {
			keep(es)
		}
		clear(es) // what the pool holds keeps no entry alive
		*buf = es[:0]
		windows.Put(buf)
		if err != nil {
			return nil, false, err
		}
		if fresh && len(plan) == 0 {
			break // read up to the newest entry counted: the end, for now
		}
	}
	if len(out) > limit {
		// The page ends inside window g: the next reads the rest of it.
		plan = append([]group{g}, plan...)
		out = out[:limit]
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

// after returns -1, 0 or +1 as e comes before, at or after the key k in
// direction dir.
func after(k *pagination.Key, e *runlog.LogEntry, dir runlog.Direction) int {
	if dir == runlog.Backward {
		return -k.Compare(e)
	}
	return k.Compare(e)
}

func sortEntries(es []*runlog.LogEntry, dir runlog.Direction) {
	if dir == runlog.Backward {
		slices.SortFunc(es, func(a, b *runlog.LogEntry) int { return runlog.Compare(b, a) })
		return
	}
	slices.SortFunc(es, func(a, b *runlog.LogEntry) int { return runlog.Compare(a, b) })
}

// windows holds the buffers windows are read into, so that each page does
// not allocate (and clear) megabytes anew.
var windows = sync.Pool{New: func() any { return new([]runlog.LogEntry) }}

// read returns every entry f matches in w, which were counted as n a
// moment ago. An answer longer than that by more than the records that may
// have arrived since is cut off, and errGrew returned.
func (c *Client) read(ctx context.Context, f string, w span, n int, out []runlog.LogEntry) ([]runlog.LogEntry, error) {
	a, err := c.query(ctx, f+w.filter()+readPipe)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	limit := n + n/8 + 256
	// Lines are gathered into chunks, each turned into one string that
	// the entries' fields are substrings of, and decoded by workers while
	// the next chunk is read: out's capacity is fixed, so each worker
	// writes its chunk's entries in place.
	out = slices.Grow(out[:0], limit)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstBad error
	)
	work := make(chan chunk, decoders)
	all := out[:cap(out)] // the workers' view; out's length is the reader's
	for range decoders {
		wg.Go(func() {
			for ch := range work {
				start := 0
				for i, end := range ch.ends {
					if err := decodeString(ch.s[start:end], &all[ch.at+i]); err != nil {
						mu.Lock()
						if firstBad == nil {
							firstBad = c.badLine([]byte(ch.s[start:end]), err)
						}
						mu.Unlock()
						break
					}
					start = end
				}
			}
		})
	}
	var buf []byte
	var ends []int
	send := func() {
		if len(ends) == 0 {
			return
		}
		at := len(out)
		out = out[:at+len(ends)]
		work <- chunk{s: unsafe.String(unsafe.SliceData(buf), len(buf)), ends: ends, at: at}
		buf, ends = nil, nil // the string owns buf now: never write it again
	}
	for {
		var line []byte
		line, err = a.line()
		if err == io.EOF {
			err = nil
			break
		}
		if err == nil && len(out)+len(ends) == limit {
			err = errGrew
		}
		if err != nil {
			break
		}
		if buf == nil {
			buf, ends = make([]byte, 0, chunkBytes), make([]int, 0, 256)
		}
		buf = append(buf, line...)
		ends = append(ends, len(buf))
		if len(buf) >= chunkBytes-maxLineGuess || len(ends) == cap(ends) {
			send()
		}
	}
	send()
	close(work)
	wg.Wait()
	if err == nil {
		err = firstBad
	}
	return out, err
}

// A chunk is lines of an answer, held in one string s: line i ends at
// ends[i]; its entry goes to out[at+i].
type chunk struct {
	s    string
	ends []int
	at   int
}

const (
	decoders     = 2
	chunkBytes   = 256 << 10
	maxLineGuess = 4 << 10 // start a new chunk rather than grow one past chunkBytes
)

// badLine is the error for a line that is not a record: VictoriaLogs
// writes its error there when a query fails after the answer began.
func (c *Client) badLine(line []byte, err error) error {
	return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(),
		Err:  fmt.Errorf("the answer broke off (%v): %s", err, httpconf.Clean(string(line), 300)),
		Hint: "VictoriaLogs failed mid-answer; retry, and check its logs (for a cluster, its storage nodes)"}
}

// stats returns how many entries q matches, and the timestamps of the
// oldest and newest.
func (c *Client) stats(ctx context.Context, q string) (n int, first, last int64, err error) {
	var row struct{ N, Lo, Hi string }
	rows := 0
	err = c.rows(ctx, q+" | stats count() N, min(_time) Lo, max(_time) Hi", func(line []byte) error {
		rows++
		return json.Unmarshal(line, &row)
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if rows != 1 {
		return 0, 0, 0, c.badLine(nil, fmt.Errorf("stats gave %d rows; want 1", rows))
	}
	if n, err = strconv.Atoi(row.N); err != nil || n == 0 {
		return 0, 0, 0, nil
	}
	lo, err1 := time.Parse(time.RFC3339Nano, row.Lo)
	hi, err2 := time.Parse(time.RFC3339Nano, row.Hi)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, c.badLine([]byte(row.Lo+" "+row.Hi), errors.New("stats: bad time"))
	}
	return n, lo.UnixNano(), hi.UnixNano(), nil
}

// rows runs a query whose answer is small and calls fn with each line.
func (c *Client) rows(ctx context.Context, q string, fn func(line []byte) error) error {
	a, err := c.query(ctx, q)
	if err != nil {
		return err
	}
	defer a.Close()
	for i := 0; ; i++ {
		line, err := a.line()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if i == 100000 {
			return c.badLine(nil, errors.New("more than 100000 rows of statistics"))
		}
		if err := fn(line); err != nil {
			return c.badLine(line, err)
		}
	}
}

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

// ends returns the end markers of q's run (step, source) within sp, the
// query's time range.
func (c *Client) ends(ctx context.Context, q *runlog.Query, sp span) ([]runlog.End, error) {
	var ends []runlog.End
	err := c.rows(ctx, filter(q, true)+sp.filter(), func(line []byte) error {
		var e runlog.LogEntry
		if err := decodeLine(line, &e); err != nil {
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
