package otelstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// queue holds an activation's records between the goroutines that log
// them and the activation's worker. It never drops a record unless the
// drop overflow policy says so, counting each: when size records wait, or
// the store's memory bound is reached (budget.go), put blocks until the
// worker takes them (backpressure instead of loss).
type queue struct {
	size  int    // records held before put blocks (or drops)
	batch int    // records that make the worker worth waking
	drop  bool   // overflow policy: drop instead of blocking
	share *share // of the store's memory bound

	mu      sync.Mutex
	notFull *sync.Cond
	buf     []*sdklog.Record // from recordPool: a slot costs 8 bytes, not 584
	bytes   int64            // charged to share for buf
	closed  bool

	// kick wakes the worker: a batch is ready, or put waits for room.
	kick chan struct{}

	emitted   atomic.Uint64 // records accepted
	dropped   atomic.Uint64 // records refused by the drop policy
	taken     atomic.Uint64 // records the worker took
	lateDrops atomic.Uint64 // records put after close
}

func newQueue(size, batch int, drop bool, b *budget) *queue {
	q := &queue{size: size, batch: batch, drop: drop, kick: make(chan struct{}, 1)}
	q.notFull = sync.NewCond(&q.mu)
	q.share = b.join(q.wake)
	return q
}

// errClosed is put's error for a record that comes after its activation
// ended.
var errClosed = errors.New("runlog: record emitted after its activation ended")

// recordPool holds the records of every store's queues. Queues hold
// pointers: a queue of Record values would hold 584 bytes per slot of
// its capacity and of the spare the worker swaps in, which for 1,000
// activations is far more than the records themselves.
var recordPool = sync.Pool{New: func() any { return new(sdklog.Record) }}

// freeRecord returns r, delivered, to recordPool.
func freeRecord(r *sdklog.Record) {
	*r = sdklog.Record{}
	recordPool.Put(r)
}

// put queues a copy of r. A full queue, or the store's memory bound
// reached, blocks put, or, under the drop policy, makes it count r as
// dropped and return nil. With keep, r is queued even when the queue is
// full: the end marker neither waits nor is dropped, so Deactivate never
// blocks past its deadline.
func (q *queue) put(ctx context.Context, r *sdklog.Record, keep bool) error {
	return q.enqueue(ctx, r, false, keep)
}

// enqueue is put; with owned, r, taken from recordPool, is queued itself
// instead of a copy (the caller built it and lets go of it: see emit.go).
func (q *queue) enqueue(ctx context.Context, r *sdklog.Record, owned, keep bool) error {
	if !owned {
		c := recordPool.Get().(*sdklog.Record)
		*c = r.Clone()
		r = c
	}
	n := recordBytes(r)
	waited := false
	if keep {
		q.share.force(n)
	} else if ok, w := q.share.acquire(n, q.drop); !ok {
		freeRecord(r)
		return q.refuse(ctx)
	} else {
		waited = w
	}
	q.mu.Lock()
	if len(q.buf) >= q.size && !q.closed && !keep {
		if q.drop {
			q.mu.Unlock()
			q.share.release(n)
			freeRecord(r)
			return q.refuse(ctx)
		}
		waited = true
		for len(q.buf) >= q.size && !q.closed {
			q.wake()
			q.notFull.Wait()
		}
	}
	if q.closed {
		q.mu.Unlock()
		q.share.release(n)
		freeRecord(r)
		q.lateDrops.Add(1)
		return errClosed
	}
	q.buf = append(q.buf, r)
	q.bytes += n
	m := len(q.buf)
	q.mu.Unlock()
	q.emitted.Add(1)
	if waited {
		q.share.b.waits.Add(1)
	}
	if m == q.batch {
		q.wake()
	}
	return nil
}

// refuse counts a record the drop policy refused.
func (q *queue) refuse(ctx context.Context) error {
	q.dropped.Add(1)
	metrics().processed.Add(ctx, 1, metricAttrs.queueFull...)
	q.wake()
	return nil
}

func (q *queue) wake() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// take returns every record queued so far and the bytes charged for
// them, which the worker releases once it has delivered them; it gives
// the queue spare (an empty slice, for its capacity) in their place, and
// lets blocked puts go on.
func (q *queue) take(spare []*sdklog.Record) ([]*sdklog.Record, int64) {
	q.mu.Lock()
	batch, n := q.buf, q.bytes
	q.buf, q.bytes = spare[:0], 0
	q.notFull.Broadcast()
	q.mu.Unlock()
	q.taken.Add(uint64(len(batch)))
	return batch, n
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

// recordSize is what a record costs in memory before its strings: the
// sdk/log Record struct (584 bytes in v1.47, five attributes inline).
const recordSize = int64(unsafe.Sizeof(sdklog.Record{}))

// recordBytes estimates the memory r holds: the struct, its body, and its
// attributes (keys, values, and the slice of those past the first five).
// Strings shared with the caller are counted all the same: the record
// keeps them alive.
func recordBytes(r *sdklog.Record) int64 {
	n := recordSize + valueBytes(r.Body())
	extra := r.AttributesLen() - 5
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		n += int64(len(kv.Key)) + valueBytes(kv.Value)
		return true
	})
	if extra > 0 {
		n += int64(extra) * int64(unsafe.Sizeof(attribute.KeyValue{}))
	}
	return n
}

func valueBytes(v attribute.Value) int64 {
	switch v.Type() {
	case attribute.STRING:
		return int64(len(v.AsString()))
	case attribute.BYTESLICE:
		return int64(len(v.AsByteSlice()))
	case attribute.STRINGSLICE:
		n := int64(0)
		for _, s := range v.AsStringSlice() {
			n += 16 + int64(len(s))
		}
		return n
	case attribute.BOOLSLICE:
		return int64(len(v.AsBoolSlice()))
	case attribute.INT64SLICE:
		return 8 * int64(len(v.AsInt64Slice()))
	case attribute.FLOAT64SLICE:
		return 8 * int64(len(v.AsFloat64Slice()))
	case attribute.MAP:
		n := int64(0)
		for _, kv := range v.AsMap() {
			n += int64(unsafe.Sizeof(kv)) + int64(len(kv.Key)) + valueBytes(kv.Value)
		}
		return n
	case attribute.SLICE:
		n := int64(0)
		for _, e := range v.AsSlice() {
			n += int64(unsafe.Sizeof(e)) + valueBytes(e)
		}
		return n
	}
	return 0
}
