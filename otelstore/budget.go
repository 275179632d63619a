package otelstore

import (
	"sync"
	"sync/atomic"
)

// budget bounds the bytes of records a Store holds in memory across all its
// activations (Options.MemoryMaxBytes): a record is charged when it is
// queued and released once its batch has been exported or spooled. When
// the bound is reached, logging waits (or, under the drop policy, drops
// and counts) — backpressure shared by the whole process, so that 1,000
// steps logging at once hold what one bound allows, not 1,000 queues.
//
// Waiting is fair between activations: while an activation below its fair
// share (the bound divided by the activations in force) waits, one above
// it does not take what is freed, so a hot step cannot starve the others;
// and the first to wait wakes every activation's worker to export what it
// holds instead of waiting for the next tick.
//
// The fast path is one atomic add; the lock is taken only while someone
// waits.
type budget struct {
	limit int64

	used    atomic.Int64  // charged bytes, including attempts being undone
	peak    atomic.Int64  // the most ever charged
	waiting atomic.Int32  // acquirers on the slow path
	waits   atomic.Uint64 // records whose logging waited, for memory or for room in their queue
	active  atomic.Int64  // shares registered: activations in force

	mu      sync.Mutex
	cond    *sync.Cond
	starved int  // waiters below their fair share
	kicked  bool // workers woken since the last release
	shares  map[*share]struct{}
}

func newBudget(limit int64) *budget {
	b := &budget{limit: limit, shares: map[*share]struct{}{}}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// share is one activation's part of the budget.
type share struct {
	b    *budget
	used atomic.Int64
	wake func() // wakes the activation's worker
}

// join registers an activation; wake makes its worker export.
func (b *budget) join(wake func()) *share {
	s := &share{b: b, wake: wake}
	b.mu.Lock()
	b.shares[s] = struct{}{}
	b.mu.Unlock()
	b.active.Add(1)
	return s
}

// leave unregisters s, whose records are all released.
func (s *share) leave() {
	b := s.b
	b.mu.Lock()
	delete(b.shares, s)
	b.cond.Broadcast() // fair shares grew
	b.mu.Unlock()
	b.active.Add(-1)
}

// take charges n bytes if they fit; a record larger than the whole bound
// fits when nothing else is held (it would never fit otherwise).
func (b *budget) take(n int64) bool {
	m := b.used.Add(n)
	if m > b.limit && m != n {
		b.used.Add(-n)
		return false
	}
	for p := b.peak.Load(); m > p && !b.peak.CompareAndSwap(p, m); p = b.peak.Load() {
	}
	return true
}

func (b *budget) fair() int64 { return b.limit / max(1, b.active.Load()) }

// acquire charges n bytes to s, waiting while they do not fit (or, with
// noWait, returning false at once). It reports whether it waited.
func (s *share) acquire(n int64, noWait bool) (ok, waited bool) {
	b := s.b
	if b.waiting.Load() == 0 && b.take(n) {
		s.used.Add(n)
		return true, false
	}
	if noWait {
		return false, false
	}
	b.mu.Lock()
	b.waiting.Add(1)
	under := false
	for {
		fair := s.used.Load()+n <= b.fair()
		if fair != under {
			if fair {
				b.starved++
			} else {
				b.starved--
			}
			under = fair
		}
		if (fair || b.starved == 0) && b.take(n) {
			break
		}
		if !b.kicked {
			b.kicked = true
			for o := range b.shares {
				if o.used.Load() > 0 {
					o.wake()
				}
			}
		}
		b.cond.Wait()
	}
	if under {
		b.starved--
		b.cond.Broadcast() // those above their share may take again
	}
	b.waiting.Add(-1)
	b.mu.Unlock()
	s.used.Add(n)
	return true, true
}

// force charges n bytes whether they fit or not: the end marker, which
// must not wait.
func (s *share) force(n int64) {
	s.used.Add(n)
	s.b.used.Add(n)
}

// release gives back n bytes charged to s.
func (s *share) release(n int64) {
	if n == 0 {
		return
	}
	b := s.b
	s.used.Add(-n)
	b.used.Add(-n)
	if b.waiting.Load() > 0 {
		b.mu.Lock()
		b.kicked = false
		b.cond.Broadcast()
		b.mu.Unlock()
	}
}
