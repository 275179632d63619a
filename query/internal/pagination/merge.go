package pagination

import (
	"slices"

	"github.com/runlog/runlog"
)

// Merge gathers one page of at most Limit entries in Fetch order for Dir,
// from batches of entries read in any order (a backend's windows): each
// batch is sorted, entries at or before Last (returned by an earlier page)
// are dropped, so is an entry equal to the one before it (read twice, at a
// window or page boundary), and gathering stops at one entry more than
// Limit, which is enough to know that more follow.
//
// Batches must come in Fetch order, each after the one before; duplicates
// across batches are caught only where they meet. Entries holds the page
// so far; set it to an empty slice of the right capacity before the first
// Add to size the page once.
type Merge struct {
	Last    *Key
	Dir     runlog.Direction
	Limit   int
	Entries []runlog.LogEntry

	order []*runlog.LogEntry // a batch in Fetch order, reused by every Add
}

// Add merges batch into the page: Entries receives copies of its entries,
// so batch may be reused once Add returns.
func (m *Merge) Add(batch []runlog.LogEntry) {
	order := slices.Grow(m.order[:0], len(batch))
	for i := range batch {
		order = append(order, &batch[i])
	}
	if m.Dir == runlog.Backward {
		slices.SortFunc(order, func(a, b *runlog.LogEntry) int { return runlog.Compare(b, a) })
	} else {
		slices.SortFunc(order, func(a, b *runlog.LogEntry) int { return runlog.Compare(a, b) })
	}
	out, last, dir, limit := m.Entries, m.Last, m.Dir, m.Limit
	for _, e := range order {
		// Testing last for nil here spares a first page a call per entry.
		if last != nil && !last.After(e, dir) {
			continue // returned by an earlier page
		}
		if n := len(out); n > 0 && runlog.Compare(&out[n-1], e) == 0 {
			continue // read twice
		}
		if len(out) > limit {
			break // one more than the page is enough to know more follow
		}
		out = append(out, *e)
	}
	m.Entries, m.order = out, order
}

// Full reports whether the page holds more than Limit entries, so that
// reading more would change nothing.
func (m *Merge) Full() bool { return len(m.Entries) > m.Limit }

// Cut returns the page, its first Limit entries, and whether entries were
// left out.
func (m *Merge) Cut() (page []runlog.LogEntry, cut bool) {
	if len(m.Entries) > m.Limit {
		return m.Entries[:m.Limit], true
	}
	return m.Entries, false
}
