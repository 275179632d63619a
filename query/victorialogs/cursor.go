package victorialogs

import (
	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
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

// next returns the cursor that follows a page of entries fetched with
// prev: past the page's last entry, with what is left of the plan; prev
// itself when the page is empty.
func (c cursor) next(prev runlog.Cursor, entries []runlog.LogEntry) runlog.Cursor {
	n := len(entries)
	if n == 0 {
		return prev
	}
	c.Last = pagination.KeyOf(&entries[n-1])
	return c.encode()
}
