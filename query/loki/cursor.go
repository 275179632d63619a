package loki

import (
	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
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

// next returns the cursor that follows a page of entries fetched with
// prev, more telling whether entries follow the page.
func (c cursor) next(prev runlog.Cursor, entries []runlog.LogEntry, more bool) runlog.Cursor {
	if n := len(entries); n > 0 {
		c.Last = pagination.KeyOf(&entries[n-1])
	}
	if !more && c.Live {
		// The run was recent: the next fetch with this cursor reads past
		// the span found so far, up to its own now. That is a live tail.
		c.Hi, c.Step, c.K0, c.Counts = 0, 0, 0, nil
	}
	if len(entries) == 0 && prev != "" && !c.Live {
		return prev
	}
	return c.encode()
}
