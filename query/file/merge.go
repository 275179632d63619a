package file

import (
	"container/heap"
	"context"
	"slices"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

type streamHeap []*stream

func (h streamHeap) Len() int           { return len(h) }
func (h streamHeap) Less(i, j int) bool { return h[i].head().Before(h[j].head()) }
func (h streamHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

func mergeForward(ctx context.Context, src *source, q *runlog.Query, cur cursor, cache *lineCache) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	next := cursor{Pos: make(map[string][2]int64, len(src.files)), Key: cur.Key}
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
		s := newStream(src, rel, cur.Pos[rel], q, cache)
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
		if s.pos()[1] > 0 {
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

// sorted reads every matching entry past the cursor's key, sorts them in
// q's direction and returns the first page.
func sorted(ctx context.Context, src *source, q *runlog.Query, cur cursor) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	dir := 1
	if q.Direction == runlog.Backward {
		dir = -1
	}
	o := &opener{src: src}
	defer o.closeAll()
	var (
		all     []runlog.LogEntry
		ends    []runlog.End
		damaged []runlog.Damage
	)
	for _, rel := range src.files {
		if ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		s := newStream(src, rel, [2]int64{}, q, nil)
		for s.fill(o); s.head() != nil; s.advance(o) {
			if e := s.head(); cur.Key == nil || cur.Key.Compare(e)*dir > 0 {
				all = append(all, *e)
			}
		}
		ends = append(ends, s.ends...)
		damaged = append(damaged, s.damages()...)
		o.release(s)
	}
	slices.SortFunc(all, func(a, b runlog.LogEntry) int { return dir * runlog.Compare(&a, &b) })
	p := runlog.Page{More: len(all) > limit, Ends: ends, Damaged: damaged}
	p.Entries = slices.Clone(all[:min(limit, len(all))]) // let the rest go
	if n := len(p.Entries); n > 0 {
		p.Next = cursor{Key: pagination.KeyOf(&p.Entries[n-1])}.encode()
	}
	return p, nil
}
