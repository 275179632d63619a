package otelstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// queue holds an activation's records between the goroutines that log
// them and the activation's worker. It never drops a record unless the
// drop overflow policy says so, counting each: when size records wait,
// put blocks until the worker takes them (backpressure instead of loss).
type queue struct {
	size  int  // records held before put blocks (or drops)
	batch int  // records that make the worker worth waking
	drop  bool // overflow policy: drop instead of blocking

	mu      sync.Mutex
	notFull *sync.Cond
	buf     []sdklog.Record
	closed  bool

	// kick wakes the worker: a batch is ready, or put waits for room.
	kick chan struct{}

	emitted   atomic.Uint64 // records accepted
	dropped   atomic.Uint64 // records refused by the drop policy
	taken     atomic.Uint64 // records the worker took
	lateDrops atomic.Uint64 // records put after close
}

func newQueue(size, batch int, drop bool) *queue {
	q := &queue{size: size, batch: batch, drop: drop, kick: make(chan struct{}, 1)}
	q.notFull = sync.NewCond(&q.mu)
	return q
}

// errClosed is put's error for a record that comes after its activation
// ended.
var errClosed = errors.New("runlog: record emitted after its activation ended")

// put queues a copy of r. A full queue blocks put, or, under the drop
// policy, makes it count r as dropped and return nil. With keep, r is
// queued even when the queue is full: the end marker neither waits nor is
// dropped, so Deactivate never blocks past its deadline.
func (q *queue) put(ctx context.Context, r *sdklog.Record, keep bool) error {
	q.mu.Lock()
	for len(q.buf) >= q.size && !q.closed && !keep {
		if q.drop {
			q.mu.Unlock()
			q.dropped.Add(1)
			metrics().processed.Add(ctx, 1, metricAttrs.queueFull...)
			q.wake()
			return nil
		}
		q.wake()
		q.notFull.Wait()
	}
	if q.closed {
		q.mu.Unlock()
		q.lateDrops.Add(1)
		return errClosed
	}
	q.buf = append(q.buf, r.Clone())
	n := len(q.buf)
	q.mu.Unlock()
	q.emitted.Add(1)
	if n == q.batch {
		q.wake()
	}
	return nil
}

func (q *queue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns every record queued so far, giving the queue spare (an
// empty slice, for its capacity) in their place, and lets blocked puts go
// on.
func (q *queue) take(spare []sdklog.Record) []sdklog.Record {
	q.mu.Lock()
	batch := q.buf
	q.buf = spare[:0]
	q.notFull.Broadcast()
	q.mu.Unlock()
	q.taken.Add(uint64(len(batch)))
	return batch
}

// close refuses later records and releases puts that wait.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.notFull.Broadcast()
	q.mu.Unlock()
}

// waiting returns the number of records accepted but not taken yet.
func (q *queue) waiting() uint64 {
	e, t := q.emitted.Load(), q.taken.Load()
	return e - min(e, t)
}
