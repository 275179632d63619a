package runlog

import (
	"context"
	"time"
)

// RunLister is implemented by stores that can list the runs they hold:
// what `runlog runs`, `runlog gc` and the run list of `runlog serve` use.
//
// ListRuns returns the runs that have records in the store, newest first
// by the time of their last record, at most q.EffectiveLimit() of them,
// with a cursor to the next page. Only runs whose last record is before
// q.Before are listed when it is set (what `runlog gc --older-than` asks).
// A store that cannot tell a run's first or last time leaves it zero.
// Errors wrap ErrInvalid, ErrUnavailable or ErrUnauthorized.
type RunLister interface {
	ListRuns(ctx context.Context, q RunQuery) (RunPage, error)
}

// RunQuery selects runs for RunLister.ListRuns.
type RunQuery struct {
	// Before, if set, keeps only runs whose last record is before it.
	Before time.Time
	// Limit is the most runs returned; zero means DefaultRunLimit.
	Limit int
	// Cursor resumes after the last run of a previous page (its Next).
	Cursor Cursor
}

// DefaultRunLimit is the page size of RunQuery when Limit is zero;
// MaxRunLimit the largest honoured.
const (
	DefaultRunLimit = 100
	MaxRunLimit     = 10000
)

// EffectiveLimit returns the limit ListRuns applies.
func (q RunQuery) EffectiveLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultRunLimit
	case q.Limit > MaxRunLimit:
		return MaxRunLimit
	}
	return q.Limit
}

// RunInfo is one run a store holds.
type RunInfo struct {
	RunID string
	// First and Last are the times of its first and last records, as
	// closely as the store can tell them cheaply: the local store takes
	// the last from its files' modification times, Loki rounds to the
	// hour it counts in.
	First, Last time.Time
	// Steps is the number of distinct steps with records (the run level
	// counts as one), Records the number of records, when the store knows
	// them cheaply; -1 when it does not.
	Steps, Records int64
}

// RunPage is one page of ListRuns.
type RunPage struct {
	Runs []RunInfo
	// Next resumes after the last run; More says whether there are more.
	Next Cursor
	More bool
}

// Deleter is implemented by stores that can delete a run's logs: what
// `runlog delete`, `runlog gc` and DELETE of `runlog serve` use.
//
// DeleteRun removes every record of run, all steps and sources, or asks
// the backend to (a deletion task); it reports what it deleted or
// queued. Deleting a run that does not exist is not an error: the report
// says nothing was there, where the store can tell cheaply (a backend
// that deletes in the background may queue a task that finds nothing).
// Deletion is final: the store does not keep a copy. Errors wrap ErrInvalid (for one, a backend whose deletion is
// turned off, with how to turn it on), ErrUnavailable or ErrUnauthorized.
type Deleter interface {
	DeleteRun(ctx context.Context, run string) (DeleteReport, error)
}

// DeleteReport says what DeleteRun did.
type DeleteReport struct {
	RunID string
	// Deleted is what was removed at once: files for the local store;
	// -1 when the backend does not say (VictoriaLogs and Loki delete in
	// the background).
	Deleted int64
	// Queued reports that the backend deletes in the background; Task is
	// its id for the deletion (VictoriaLogs' task_id; empty when the
	// backend gives none, as Loki does).
	Queued bool
	Task   string
	// Detail says, in a sentence, what was done and where.
	Detail string
}
