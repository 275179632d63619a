package runlog

import (
	"context"
	"iter"
	"strconv"
	"strings"
	"time"
)

// DefaultLimit is the number of entries one Fetch returns when Query.Limit
// is zero, as in the pipeline frameworks runlog follows.
const DefaultLimit = 20000

// MaxPage is the most entries the readers built on Fetch — All, Check,
// `runlog logs` and serve's download — ask of a Fetcher at once, whatever
// limit they are given: what they hold is a page or two (one read ahead
// while the other is handled), never the run, the total asked for or the
// limit. A Fetcher may return fewer entries than asked with More set; the
// readers then fetch on from Next. It is smaller than DefaultLimit: a
// 1,000,000-line local step printed with 20,000-entry pages peaks at
// 1.6x the RSS, and takes twice the time, of 5,000-entry ones
// (bench/run.sh cli).
const MaxPage = 5000

// Direction orders a Fetch.
type Direction int

const (
	// Forward returns the oldest entries first. It is the zero Direction.
	Forward Direction = iota
	// Backward returns the newest entries first; the cursor then walks back
	// in time.
	Backward
)

func (d Direction) String() string {
	if d == Backward {
		return "backward"
	}
	return "forward"
}

// Query selects the entries Fetch returns. The zero value of every field but
// RunID means "no filter".
type Query struct {
	// RunID is the run whose logs are fetched. Required.
	RunID string
	// StepID keeps the entries of one step. Empty keeps the whole run: every
	// step and the run-level records.
	StepID string
	// Source keeps the entries of one source ("step", "orchestrator", ...).
	Source string
	// LogsURI points at where the logs are, for stores that keep a location
	// per run (a file or directory for the local store). Empty means the
	// store's own place.
	LogsURI string
	// Start and End bound the entries' timestamps: Start inclusive, End
	// exclusive. Zero means unbounded.
	Start, End time.Time
	// Limit caps the entries of one page; 0 means DefaultLimit. Negative is
	// invalid.
	Limit int
	// MinLevel keeps entries at this level or above; 0 keeps all.
	MinLevel Level
	// Contains keeps entries whose message contains this text, byte for byte
	// (case-sensitive, no pattern syntax).
	Contains string
	// Cursor resumes after the last entry of a previous page, from
	// Page.Next. A cursor is only valid with the query (other than Cursor and
	// Limit) that produced it.
	Cursor Cursor
	// Direction orders the entries; Forward is oldest first.
	Direction Direction
}

// Validate reports whether q is well-formed. Its error wraps ErrInvalid.
func (q Query) Validate() error {
	if q.RunID == "" {
		return invalidf("query: RunID is empty; fetch needs the id of a run")
	}
	for _, f := range []struct{ name, v string }{{"RunID", q.RunID}, {"StepID", q.StepID}, {"Source", q.Source}} {
		if err := ValidateID("query: "+f.name, f.v); err != nil {
			return err
		}
	}
	if q.Limit < 0 {
		return invalidf("query: Limit is %d; use 0 for the default (%d) or a positive number", q.Limit, DefaultLimit)
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.Start.Before(q.End) {
		return invalidf("query: Start %s is not before End %s", q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano))
	}
	if q.MinLevel < 0 || q.MinLevel > LevelFatal+3 {
		return invalidf("query: MinLevel %d is out of range; use a level from 1 (TRACE) to 24 (FATAL4)", int(q.MinLevel))
	}
	if q.Direction != Forward && q.Direction != Backward {
		return invalidf("query: unknown direction %d", int(q.Direction))
	}
	return nil
}

// EffectiveLimit returns q.Limit, or DefaultLimit when it is zero.
func (q Query) EffectiveLimit() int {
	if q.Limit == 0 {
		return DefaultLimit
	}
	return q.Limit
}

// PageLimit returns the page size a reader that walks every entry asks
// for: q.EffectiveLimit(), at most MaxPage. A negative Limit is kept, for
// Fetch to refuse.
func (q Query) PageLimit() int {
	if q.Limit < 0 {
		return q.Limit
	}
	return min(q.EffectiveLimit(), MaxPage)
}

// Match reports whether e passes q's filters (run, step, source, time range,
// level, text). Stores that filter in memory use it so that they agree.
func (q Query) Match(e *LogEntry) bool {
	switch {
	case e.RunID != q.RunID,
		q.StepID != "" && e.StepID != q.StepID,
		q.Source != "" && e.Source != q.Source,
		!q.Start.IsZero() && e.Time.Before(q.Start),
		!q.End.IsZero() && !e.Time.Before(q.End),
		e.Level < q.MinLevel:
		return false
	}
	return q.Contains == "" || strings.Contains(e.Message, q.Contains)
}

// Cursor is an opaque position in a store's results. The empty Cursor is the
// start. Cursors are text, safe to put in URLs and files, and only the store
// that made one can read it.
type Cursor string

// Page is one answer of Fetch.
type Page struct {
	// Entries are in the query's direction, at most the query's limit.
	Entries []LogEntry
	// Next resumes right after the last entry of Entries. Fetching with it
	// returns the entries not yet returned, including ones stored later:
	// that is how a live tail works. When Entries is empty, Next is the
	// query's own cursor.
	Next Cursor
	// More reports that more matching entries were already stored when the
	// page was read: fetch again with Next to get them.
	More bool
	// Ends lists the activations (of the query's run, step and source)
	// whose end marker the page read: Deactivate writes one after their
	// last record. A live tail stops at its step's. Stores without end
	// markers leave it empty; an end may be listed on more than one page.
	Ends []End
	// Damaged lists what the read of this page reached but could not use
	// (see Damage). The page still holds every entry that could be read
	// around it: a damaged part never fails a fetch on its own, and never
	// goes unlisted. A damaged line is listed on the page whose read passed
	// it, and again on a later page only if that page reads it again (a
	// store that rereads to sort does); a file or directory that cannot be
	// opened, and a last line left unterminated, are listed on every page
	// that tries them again. The same damage always has the same File and
	// Offset, so callers that show it dedupe by them, as Check does. Stores
	// that cannot tell leave it empty.
	Damaged []Damage
}

// Damage is a part of a store that a read reached but could not use: a
// line that does not decode or is over the store's bound, a file or
// directory that cannot be opened or is not of the kind the store writes,
// a symbolic link that leads out of the store's directory (never
// followed). What it held is not in the page; what is around it is.
type Damage struct {
	// File names the file or directory, as the store reached it: a path
	// for the local store.
	File string
	// Offset is the byte offset in File of the damaged line, or -1 when
	// File as a whole could not be read.
	Offset int64
	// Err says what is wrong and what to do. It never quotes more than a
	// few bytes of the damaged content, and nothing of a file outside the
	// store's directory.
	Err string
	// RunID, StepID, Source and ActivationID are the scope of the records
	// File holds, where the store can tell; empty where it cannot.
	RunID, StepID, Source, ActivationID string
}

func (d Damage) String() string {
	if d.Offset < 0 {
		return d.File + ": " + d.Err
	}
	return d.File + " at byte " + strconv.FormatInt(d.Offset, 10) + ": " + d.Err
}

// End is the end marker of one activation.
type End struct {
	RunID, StepID, Source string
	// ActivationID is the activation's, as in LogEntry.ActivationID.
	ActivationID string
	Time         time.Time
	// Count is the number of records the activation logged before it.
	Count uint64
	// Last is the sequence number of the activation's last record (chunks
	// are numbered one by one): records 1..Last precede the marker.
	Last uint64
	// Dropped is the number of records refused by the drop overflow policy.
	Dropped uint64
	// Rejected is the number of records the backend refused as invalid
	// before the marker was sent (set aside by the write path, not
	// stored); Redacted the number that had a secret replaced.
	Rejected, Redacted uint64
	// Cause says how the activation ended: one of the Cause constants
	// (CauseOK, CauseError, ...) or what the store was told.
	Cause string
	// Result is the cause in the words of the OpenTelemetry CI/CD
	// conventions (ResultSuccess, ResultFailure, ...; see ResultOf), as the
	// marker's cicd.pipeline.task.run.result records it.
	Result string
}

// Fetcher is the read half of a LogStore: what a query adapter for a
// backend implements.
type Fetcher interface {
	Fetch(ctx context.Context, q Query) (Page, error)
}

// All returns every entry matching q, fetching page after page with
// q.Limit as the page size (at most MaxPage, whatever q.Limit says), until
// no more are stored. While the caller handles one page, the next is being
// fetched. It stops at the first
// error, which it yields with a zero LogEntry.
func All(ctx context.Context, f Fetcher, q Query) iter.Seq2[LogEntry, error] {
	return func(yield func(LogEntry, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // a prefetch the caller no longer wants
		type fetched struct {
			p   Page
			err error
		}
		fetch := func(q Query) <-chan fetched {
			ch := make(chan fetched, 1)
			go func() {
				p, err := f.Fetch(ctx, q)
				ch <- fetched{p, err}
			}()
			return ch
		}
		q.Limit = q.PageLimit()
		pending := fetch(q)
		for {
			r := <-pending
			if r.err != nil {
				yield(LogEntry{}, r.err)
				return
			}
			more := r.p.More && len(r.p.Entries) > 0
			if more {
				q.Cursor = r.p.Next
				pending = fetch(q)
			}
			for _, e := range r.p.Entries {
				if !yield(e, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}
