package file

import (
	"cmp"
	"container/heap"
	"context"
	"math"
	"path/filepath"
	"slices"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

type streamHeap []*stream

func (h streamHeap) Len() int           { return len(h) }
func (h streamHeap) Less(i, j int) bool { return h[i].before(h[j]) }
func (h streamHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// before orders the merge's streams by their heads; a stream not read yet
// (lazy) stands at its lower bound, ahead of a head of that very time, so
// that it is read before anything that might sort after its first entry.
func (s *stream) before(t *stream) bool {
	switch {
	case s.lazy && t.lazy:
		return s.low < t.low
	case s.lazy:
		return s.low <= t.head().Time.UnixNano()
	case t.lazy:
		return s.head().Time.UnixNano() < t.low
	}
	return s.head().Before(t.head())
}

// mergeForward reads a forward page of the local store: a k-way merge of
// its files, each resumed at the cursor's position.
//
// A file is read (opened, its segment decoded) only once the merge gets to
// the time of its next record: until then it waits in the heap at a lower
// bound of that time, which the cursor carries from the page before (the
// time of the head it stopped at), or, for a file not read yet, its first
// record's time, read from the head of its first segment (readHead) without
// decoding it. The steps of a run mostly follow each other in time; so a
// page of a 100-step run decodes the few segments it returns, not one of
// every step, and holds those alone. A file with no bound (one read to its
// end, that may have grown; one whose head cannot be read) is read at once,
// as before.
func mergeForward(ctx context.Context, src *source, q *runlog.Query, cur cursor, cache *lineCache) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	next := cursor{Pos: make(map[string][3]int64, len(src.files)), Key: cur.Key}
	o := &opener{src: src}
	defer o.closeAll()
	var (
		h streamHeap
		p runlog.Page
	)
	done := func(s *stream) {
		next.Pos[s.rel] = s.pos()
		p.Ends = append(p.Ends, s.ends...)
		p.Damaged = append(p.Damaged, s.damages()...)
		o.release(s)
	}
	for _, rel := range src.files {
		if ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		pos := cur.Pos[rel]
		s := newStream(src, rel, [2]int64{pos[0], pos[1]}, q, cache)
		s.low = pos[2]
		if s.low == 0 && pos[0] == 0 && pos[1] == 0 {
			if _, first, _ := readHead(src.root, s.name); !first.IsZero() {
				s.low = first.UnixNano()
			}
		}
		if s.low > 0 {
			s.lazy = true
			h = append(h, s)
			continue
		}
		s.fill(o)
		if s.head() == nil {
			done(s)
			continue
		}
		h = append(h, s)
	}
	heap.Init(&h)
	for len(h) > 0 && len(p.Entries) < limit {
		if len(p.Entries)%1024 == 0 && ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		s := h[0]
		if s.lazy {
			s.lazy = false
			s.fill(o)
			if s.head() == nil {
				heap.Pop(&h)
				done(s)
			} else {
				heap.Fix(&h, 0)
			}
			continue
		}
		if len(p.Entries) == cap(p.Entries) {
			// Entries are large: grown by append's 1.25x, a page spent
			// more on copying than on decoding. Doubling, up to the limit.
			p.Entries = slices.Grow(p.Entries, min(max(len(p.Entries), 256), limit-len(p.Entries)))
		}
		p.Entries = append(p.Entries, *s.head())
		s.advance(o)
		if s.head() == nil {
			heap.Pop(&h)
			done(s)
		} else {
			heap.Fix(&h, 0)
		}
	}
	for _, s := range h {
		done(s)
		if !s.lazy && s.pos()[1] > 0 {
			cache.put(s.allKey, s.all) // the next page resumes inside this line
		}
	}
	p.More = len(h) > 0
	if n := len(p.Entries); n > 0 {
		next.Key = pagination.KeyOf(&p.Entries[n-1])
	}
	p.Next = next.encode()
	return p, nil
}

// ranked keeps the best limit entries offered, in q's direction: a heap
// whose root is the worst kept, so that memory is the page's, whatever the
// files hold. The heap holds indices: entries are large, and are written
// once each, not moved by every swap.
type ranked struct {
	dir   int
	limit int
	es    []rankedEntry
	h     []int // indices into es, the worst first
	seen  int   // entries offered: More when over the limit
}

type rankedEntry struct {
	e    runlog.LogEntry
	file int   // index in the source's files
	line int64 // offset of the segment it came from
}

func (r *ranked) Len() int { return len(r.h) }
func (r *ranked) Less(i, j int) bool {
	return r.dir*runlog.Compare(&r.es[r.h[i]].e, &r.es[r.h[j]].e) > 0
}
func (r *ranked) Swap(i, j int) { r.h[i], r.h[j] = r.h[j], r.h[i] }
func (r *ranked) Push(x any)    { r.h = append(r.h, x.(int)) }
func (r *ranked) Pop() any {
	x := r.h[len(r.h)-1]
	r.h = r.h[:len(r.h)-1]
	return x
}

func (r *ranked) full() bool { return len(r.h) >= r.limit }

// worst is the worst entry kept; the heap must not be empty.
func (r *ranked) worst() *runlog.LogEntry { return &r.es[r.h[0]].e }

// beats reports whether e would be kept.
func (r *ranked) beats(e *runlog.LogEntry) bool {
	return !r.full() || r.dir*runlog.Compare(e, r.worst()) < 0
}

// offer keeps e if it beats the worst kept, and returns the file, segment
// and time (Unix ns) of the entry that is let go (e or the worst), if any.
func (r *ranked) offer(e *runlog.LogEntry, file int, line int64) (dropFile int, dropLine, dropT int64, dropped bool) {
	r.seen++
	if !r.beats(e) {
		return file, line, e.Time.UnixNano(), true
	}
	if r.full() {
		i := r.h[0]
		old := r.es[i]
		r.es[i] = rankedEntry{*e, file, line}
		heap.Fix(r, 0)
		return old.file, old.line, old.e.Time.UnixNano(), true
	}
	r.es = append(r.es, rankedEntry{*e, file, line})
	heap.Push(r, len(r.es)-1)
	return 0, 0, 0, false
}

// drain empties r into a page's entries, best first, calling each for
// every entry's origin.
func (r *ranked) drain(each func(re *rankedEntry)) []runlog.LogEntry {
	out := make([]runlog.LogEntry, len(r.h))
	for i := len(r.h) - 1; i >= 0; i-- {
		re := &r.es[heap.Pop(r).(int)]
		out[i] = re.e
		if each != nil {
			each(re)
		}
	}
	r.es = nil
	return out
}

// sorted reads the files of a source whose order is not known (foreign
// files), or backward, and returns the first page past the cursor's key in
// q's direction. Memory is bounded by the page (ranked), not the files:
// every page reads the files again.
//
// Reading forward, a file found in order is not read again from its
// start: the cursor keeps, for each file, the offset of the segment the
// page's last entry from it came from (everything before is on earlier
// pages) and how far the file was found in order; within that stretch, a
// read stops at the first entry that cannot make the page. A file that
// grew is read on past that stretch, as one out of order is read whole.
func sorted(ctx context.Context, src *source, q *runlog.Query, cur cursor) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	dir := 1
	if q.Direction == runlog.Backward {
		dir = -1
	}
	o := &opener{src: src}
	defer o.closeAll()
	var (
		best    = ranked{dir: dir, limit: limit}
		ends    []runlog.End
		damaged []runlog.Damage
		marks   = make([][2]int64, len(src.files)) // from, in order up to
		inOrder = make([]bool, len(src.files))
	)
	for i, rel := range src.files {
		if ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		mark := cur.Files[rel]
		if dir < 0 {
			mark = [2]int64{}
		}
		if fi, err := src.root.Stat(filepath.Join(src.base, rel)); err != nil || fi.Size() < mark[1] {
			mark = [2]int64{} // not the file the cursor saw
		}
		s := newStream(src, rel, [2]int64{mark[0], 0}, q, nil)
		var prev pagination.Key
		ordered, first := true, true
		for s.fill(o); s.head() != nil; {
			e := s.head()
			if !first && prev.Compare(e) < 0 {
				ordered = false
			}
			prev, first = pagination.Key{T: e.Time.UnixNano(), Seq: e.Sequence, ID: e.ID, Chunk: e.ChunkIndex}, false
			switch {
			case cur.Key != nil && cur.Key.Compare(e)*dir <= 0:
			case ordered && s.lineOff < mark[1] && !best.beats(e):
				// In order up to mark[1]: nothing more before it makes
				// the page.
				best.seen++
				s.seek(o, mark[1])
				first = true
				continue
			default:
				best.offer(e, i, s.lineOff)
			}
			s.advance(o)
		}
		inOrder[i] = ordered
		if ordered {
			marks[i] = [2]int64{mark[0], max(s.next, mark[1])}
		}
		ends = append(ends, s.ends...)
		damaged = append(damaged, s.damages()...)
		o.release(s)
	}
	p := runlog.Page{More: best.seen > limit, Ends: ends, Damaged: damaged}
	p.Entries = best.drain(func(re *rankedEntry) {
		if inOrder[re.file] && marks[re.file][0] < re.line {
			marks[re.file][0] = re.line // the page's last entry from it is at or after
		}
	})
	if n := len(p.Entries); n > 0 {
		next := cursor{Key: pagination.KeyOf(&p.Entries[n-1])}
		if dir > 0 {
			for i, rel := range src.files {
				if inOrder[i] && marks[i][1] > 0 {
					if next.Files == nil {
						next.Files = make(map[string][2]int64)
					}
					next.Files[rel] = marks[i]
				}
			}
		}
		p.Next = next.encode()
	}
	return p, nil
}

// backward reads a page of the local store backward: each file is in
// order, so it is read segment by segment from its end (or from where the
// cursor says the previous page left it), and left as soon as the rest,
// all older, cannot make the page. A page costs about a page of
// decoding, wherever it is in the step. The cursor keeps, for each file,
// the bound below which its segments are still to be read (Back), and an
// upper bound of the time of what is left there (Up: the first entry of
// the segment it was left at, or an entry let go from the page). Files are
// read newest bound first, and once the page is full a file whose bound
// is older than the page's oldest entry is not opened: a page of a
// 100-step run whose steps follow each other reads the step or two it
// returns, not a segment of every step. A file whose segments cannot be
// told from their delimiters (a damaged frame) is read whole, as sorted
// does.
func backward(ctx context.Context, src *source, q *runlog.Query, cur cursor) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	o := &opener{src: src}
	defer o.closeAll()
	var (
		best    = ranked{dir: -1, limit: limit}
		ends    []runlog.End
		damaged []runlog.Damage
		bound   = make([]int64, len(src.files)) // segments below it still to read
		up      = make([]int64, len(src.files)) // what is left below bound is at or before it
		keep    = func(e *runlog.LogEntry) bool { return cur.Key == nil || cur.Key.Compare(e) < 0 }
	)
	drop := func(f int, line, t int64) {
		bound[f] = max(bound[f], line+1)
		up[f] = max(up[f], t)
	}
	// upOf is file i's upper bound from the cursor: none (math.MaxInt64)
	// for a file read from its end, or one the cursor does not bound.
	upOf := func(i int) int64 {
		rel := src.files[i]
		if end, partial := cur.Back[rel]; partial && end > 0 {
			if u, ok := cur.Up[rel]; ok {
				return u
			}
		}
		return math.MaxInt64
	}
	order := make([]int, len(src.files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(upOf(b), upOf(a)) })
	for _, i := range order {
		if ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		rel := src.files[i]
		end, partial := cur.Back[rel]
		if u := upOf(i); u < math.MaxInt64 && best.full() && u < best.worst().Time.UnixNano() {
			// All it has left is older than the page: for a later one.
			bound[i], up[i] = end, u
			continue
		}
		s := newStream(src, rel, [2]int64{}, q, nil)
		segs, ok := s.segments(o)
		switch {
		case partial && end == 0:
			// Read to its start by earlier pages.
		case !ok:
			for s.fill(o); s.head() != nil; s.advance(o) {
				if e := s.head(); keep(e) {
					if f, l, t, d := best.offer(e, i, s.lineOff); d {
						drop(f, l, t)
					}
				}
			}
		default:
			for j := len(segs) - 1; j >= 0; j-- {
				if partial && segs[j] >= end {
					continue
				}
				s.until = 0
				if j+1 < len(segs) {
					s.until = segs[j+1]
				}
				s.seek(o, segs[j])
				var first *runlog.LogEntry
				for ; s.head() != nil; s.advance(o) {
					e := s.head()
					if first == nil {
						c := *e
						first = &c
					}
					if keep(e) {
						if f, l, t, d := best.offer(e, i, segs[j]); d {
							drop(f, l, t)
						}
					}
				}
				if first != nil && best.full() && runlog.Compare(first, best.worst()) <= 0 {
					// Everything before is older than the page's oldest.
					bound[i] = max(bound[i], segs[j])
					up[i] = max(up[i], first.Time.UnixNano())
					break
				}
			}
		}
		ends = append(ends, s.ends...)
		damaged = append(damaged, s.damages()...)
		o.release(s)
	}
	p := runlog.Page{Ends: ends, Damaged: damaged}
	p.Entries = best.drain(nil)
	next := cursor{Back: make(map[string]int64, len(src.files))}
	for i, rel := range src.files {
		next.Back[rel] = bound[i]
		if bound[i] > 0 {
			p.More = true
			if next.Up == nil {
				next.Up = make(map[string]int64)
			}
			next.Up[rel] = up[i]
		}
	}
	if n := len(p.Entries); n > 0 {
		next.Key = pagination.KeyOf(&p.Entries[n-1])
		p.Next = next.encode()
	}
	return p, nil
}
