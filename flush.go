package runlog

import (
	"context"
	"fmt"
)

// Flusher is implemented by stores that keep records they could not
// deliver (backend down, process killed) and deliver them later: what
// `runlog flush` calls. Stores that deliver every record before Deactivate
// returns, or drop what they cannot deliver, need not implement it.
//
// Flush delivers what the store's activations in force still hold, then
// the records kept from earlier activations, of this process or of others
// that ended, in the order they were logged, and stops keeping what it
// delivered. It must leave alone what an activation of another process
// still in force holds. It returns within ctx's deadline, with what it did
// so far. When records stay undelivered, its error wraps [ErrUnavailable]
// and says where they are kept; the report counts them either way.
type Flusher interface {
	Flush(ctx context.Context) (FlushReport, error)
}

// FlushReport is what a [Flusher]'s Flush did with the records kept for
// later delivery, which stores keep in files ("spool files") in a
// directory.
type FlushReport struct {
	// Dir is the directory the records are kept in; empty when the store
	// keeps none (its spool is off), and then the other fields are zero.
	Dir string
	// Replayed is the number of records delivered.
	Replayed uint64
	// Segments is the number of spool files delivered completely and
	// removed.
	Segments int
	// Remaining is the number of spool files left: their backend is still
	// unavailable, or another process holds them.
	Remaining int
	// Expired is the number of spool files removed undelivered because they
	// were older than the store's maximum age.
	Expired int
	// Unreadable is the number of batches that could not be decoded (a
	// write cut short by a crash) and were skipped.
	Unreadable uint64
	// Rejected is the number of records the backend refused as invalid,
	// which are set aside (not delivered, not kept for another try).
	Rejected uint64
}

// String says what was delivered and what is left, in one line:
// "replayed 3 records from 1 spool files in DIR[; ...]".
func (r FlushReport) String() string {
	s := fmt.Sprintf("replayed %d records from %d spool files in %s", r.Replayed, r.Segments, r.Dir)
	if r.Remaining > 0 {
		s += fmt.Sprintf("; %d files remain", r.Remaining)
	}
	if r.Expired > 0 {
		s += fmt.Sprintf("; %d files older than the spool's maximum age removed", r.Expired)
	}
	if r.Unreadable > 0 {
		s += fmt.Sprintf("; %d unreadable batches skipped", r.Unreadable)
	}
	if r.Rejected > 0 {
		s += fmt.Sprintf("; %d records rejected by the backend, set aside in %s", r.Rejected, r.Dir)
	}
	return s
}
