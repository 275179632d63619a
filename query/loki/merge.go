package loki

import (
	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

// merge makes a page of the entries read for it, in any order: sorted in
// direction dir, past last (the cursor's last entry), each once, cut at
// limit; cut reports that entries were left out.
func merge(entries []runlog.LogEntry, last *pagination.Key, dir runlog.Direction, limit int) (page []runlog.LogEntry, cut bool) {
	if len(entries) == 0 {
		return entries, false
	}
	m := pagination.Merge{Last: last, Dir: dir, Limit: limit, Entries: make([]runlog.LogEntry, 0, min(limit+1, len(entries)))}
	m.Add(entries)
	return m.Cut()
}
