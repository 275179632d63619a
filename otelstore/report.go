package otelstore

import (
	"errors"
	"fmt"

	"github.com/runlog/runlog"
)

// Stats counts what happened to the records of a store's ended
// activations, and to those its replays of the spool delivered. Logged
// counts records as logged; the others count numbered records (a chunk
// counts one, an end marker counts one).
type Stats struct {
	Logged    uint64 // records accepted
	Delivered uint64 // exported, directly or replayed from the spool
	Spooled   uint64 // written to the spool (replayed since or not)
	Replayed  uint64 // delivered from the spool
	Dropped   uint64 // dropped by the overflow policy, or neither exported nor spooled
	Rejected  uint64 // refused by the backend as invalid, set aside
	// Late counts records logged with the context of an activation that
	// had ended: printed on the console, stored nowhere.
	Late uint64
	// Waited counts records whose logging waited (backpressure): for room
	// in their activation's queue (QueueSize) or under the store's memory
	// bound (MemoryMaxBytes). Of activations in force too.
	Waited uint64
	// Memory is the bytes of records held in memory now, MemoryPeak the
	// most ever held at once (never above MemoryMaxBytes but for end
	// markers and a single record larger than it).
	Memory, MemoryPeak int64
}

func (st Stats) String() string {
	s := fmt.Sprintf("logged %d, delivered %d, spooled %d (replayed %d), dropped %d",
		st.Logged, st.Delivered, st.Spooled, st.Replayed, st.Dropped)
	if st.Rejected > 0 {
		s += fmt.Sprintf(", rejected %d", st.Rejected)
	}
	if st.Late > 0 {
		s += fmt.Sprintf(", %d logged after their activation ended (not stored)", st.Late)
	}
	if st.Waited > 0 {
		s += fmt.Sprintf(", %d waited for memory or queue room", st.Waited)
	}
	return s
}

// Stats returns the store's counts so far.
func (s *Store) Stats() Stats {
	return Stats{Logged: s.stats.logged.Load(), Delivered: s.stats.delivered.Load(), Spooled: s.stats.spooled.Load(),
		Replayed: s.stats.replayed.Load(), Dropped: s.stats.dropped.Load(), Rejected: s.stats.rejected.Load(),
		Late: s.router.Late(), Waited: s.memory.waits.Load(), Memory: s.memory.used.Load(), MemoryPeak: s.memory.peak.Load()}
}

func (s *Store) countReplay(rep ReplayReport) {
	s.stats.delivered.Add(rep.Replayed)
	s.stats.replayed.Add(rep.Replayed)
	s.stats.dropped.Add(rep.Unreadable)
	s.stats.rejected.Add(rep.Rejected)
}

// account adds an ended activation's counts (logged: records before its
// end marker) to the store's and returns
// Deactivate's error: nil when every record was delivered, else a
// *runlog.Error wrapping a *runlog.DeliveryError that says what became of
// them and what to do.
func (s *Store) account(a *activation, logged uint64, shutErr error) error {
	p := a.proc
	refused := p.q.dropped.Load()
	delivered, spooled, lost, pending := p.account()
	dropped := refused + lost
	replayed, lostReplay := p.out.replayed.Load(), p.out.lostReplay.Load()
	s.stats.logged.Add(logged)
	s.stats.delivered.Add(delivered)
	s.stats.spooled.Add(p.out.spooled.Load())
	// Replayed counts what the spool delivered: not what was skipped as
	// unreadable, nor what the backend rejected on replay.
	notDelivered := lostReplay + p.out.rejectedSp.Load()
	s.stats.replayed.Add(replayed - min(replayed, notDelivered))
	s.stats.dropped.Add(dropped)
	rejected := p.out.rejected.Load()
	s.stats.rejected.Add(rejected)
	if spooled == 0 && dropped == 0 && pending == 0 && rejected == 0 && shutErr == nil {
		return nil
	}
	exportErr, spoolErr, segPath := p.out.errs()
	p.out.errMu.Lock()
	rejectErr, rejectedAt := p.out.rejectErr, p.out.rejectedAt
	p.out.errMu.Unlock()
	de := &runlog.DeliveryError{Scope: a.Scope, Activation: a.ID, Logged: logged,
		Delivered: delivered, Spooled: spooled, SpoolPath: segPath, Dropped: dropped, Pending: pending,
		Rejected: rejected, RejectedPath: rejectedAt,
		Err: errors.Join(exportErr, rejectErr, spoolErr, shutErr)}
	e := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "deactivate", Store: s.opts.Name, Err: de}
	switch {
	case rejected > 0:
		e.Hint = fmt.Sprintf("the backend refused %d records as invalid and will not take them again; the records after them were delivered", rejected)
		if rejectedAt != "" {
			e.Hint += "; the refused ones are in " + rejectedAt
		}
	case lost > 0 && s.spool != nil:
		e.Hint = fmt.Sprintf("%d records could not be spooled: make %s writable, free space or raise the spool's maximum size (spool_max_bytes)", lost, s.spool.dir)
	case lost > 0:
		e.Hint = "turn the spool on to keep records the backend refuses"
	case spooled > 0:
		e.Hint = "they are replayed by the next Activate, Store.Flush or `runlog flush` once the backend is reachable"
	case pending > 0:
		e.Hint = "give Deactivate a longer deadline; records still in memory are lost when the process exits"
	case refused > 0:
		e.Kind = runlog.ErrOverLimit
		e.Hint = "the queue was full and the overflow policy is drop; raise the queue size or use the block policy"
	default:
		e.Hint = "check that the backend is reachable"
	}
	if fe, ok := a.exporter.(*FileExporter); ok && exportErr != nil {
		e.Hint += "; check that " + fe.Path() + " is writable"
	}
	return e
}
