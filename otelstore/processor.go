package otelstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/resource"
)

// processor is the sdk/log Processor of one activation, in place of the
// SDK's BatchProcessor (which overwrites the oldest records of a full
// queue). It chains three stages, each in its own file, driven by one
// worker goroutine:
//
//	OnEmit -> queue (queue.go) -> worker: prepare (prepare.go) -> delivery (delivery.go: export or spool.go)
//
// The worker exports every interval, when a batch is queued, on
// ForceFlush and on Shutdown, in logging order.
type processor struct {
	q         *queue
	prep      preparer
	out       *delivery
	batchSize int
	interval  time.Duration

	flushes chan chan error
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once

	numbered atomic.Uint64 // records (chunks) prepared

	// Worker-only buffers, reused, and the size of recent batches, which
	// decays (see drain).
	spare     []*sdklog.Record
	prepared  []sdklog.Record
	highWater int
}

var _ sdklog.Processor = (*processor)(nil)

// newProcessor starts the worker of an activation whose records are
// bounded in memory by b, shared with the store's other activations (nil:
// by QueueSize alone).
func newProcessor(exp sdklog.Exporter, activationID string, o *Options, sp *spool, redact *redactor, b *budget) *processor {
	if b == nil {
		b = newBudget(math.MaxInt64)
	}
	p := &processor{
		q:         newQueue(o.QueueSize, o.BatchSize, o.Overflow == OverflowDrop, b),
		prep:      preparer{activationID: activationID, maxMsg: o.MaxMessageBytes, redact: redact},
		out:       &delivery{exp: exp, activationID: activationID, timeout: o.ExportTimeout, spool: sp},
		batchSize: o.BatchSize,
		interval:  o.ExportInterval,
		flushes:   make(chan chan error, 1),
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	go p.run()
	return p
}

// Enabled lets everything through: the level is checked before the record
// is built, by the activation's sink.
func (p *processor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit queues a copy of r; see queue.put. The end marker's context is
// marked with keepKey.
func (p *processor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	return p.q.put(ctx, r, ctx.Value(keepKey{}) != nil)
}

// keepKey marks the context of a record that is queued even when the
// queue is full: the end marker.
type keepKey struct{}

// ForceFlush returns once every record emitted before the call has been
// exported or spooled (a spool with records is replayed first), or when
// ctx is done. Records left in the spool make an error.
func (p *processor) ForceFlush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case p.flushes <- done:
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return errors.Join(err, p.out.exp.ForceFlush(ctx))
	case <-p.stopped: // shut down meanwhile: Shutdown flushed everything
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown flushes, stops the worker and shuts the exporter down. Exports
// end a little before ctx's deadline, leaving time to spool what is left.
// Records emitted afterwards are refused and counted.
func (p *processor) Shutdown(ctx context.Context) error {
	var err error
	p.once.Do(func() {
		if dl, ok := ctx.Deadline(); ok {
			reserve := min(250*time.Millisecond, time.Until(dl)/4)
			p.out.deadline.Store(dl.Add(-reserve).UnixNano())
		}
		p.q.close()
		close(p.stop)
		select {
		case <-p.stopped:
		case <-ctx.Done():
			err = fmt.Errorf("runlog: flush did not finish before the deadline: %w", ctx.Err())
			// The worker goes on spooling what it holds; shut the exporter
			// down (closing its file or connections) once it is done.
			go func() {
				<-p.stopped
				_ = p.out.exp.Shutdown(context.Background())
			}()
			return
		}
		err = p.out.exp.Shutdown(ctx)
	})
	return err
}

func (p *processor) run() {
	defer close(p.stopped)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.q.kick:
			p.drain(false)
		case <-t.C:
			p.drain(false)
		case done := <-p.flushes:
			p.drain(true)
			done <- p.out.backlogErr()
		case <-p.stop:
			p.drain(true)
			p.out.close()
			p.q.share.leave()
			return
		}
	}
}

// drain delivers everything queued so far, replaying the spool first,
// and then releases the memory the records were charged for. With force,
// the spool is replayed even if the last attempt failed moments ago.
func (p *processor) drain(force bool) {
	batch, charged := p.q.take(p.spare)
	defer p.q.share.release(charged)
	p.out.retrySpool(force)
	if len(batch) == 0 {
		p.spare = batch
		return
	}
	if cap(p.prepared) < len(batch) {
		p.prepared = make([]sdklog.Record, 0, len(batch)) // not grown by appends: 584 bytes a slot
	}
	recs := p.prep.prepare(p.prepared[:0], batch)
	for _, r := range batch {
		freeRecord(r) // copied into recs
	}
	clear(batch)
	p.spare = batch[:0]
	p.numbered.Add(uint64(len(recs)))
	var end *sdklog.Record
	all := recs
	if n := len(recs); n > 0 && isEndMarker(&recs[n-1]) {
		// The end marker goes alone, once the records before it were
		// delivered, with how many of them the backend rejected.
		end, recs = &recs[n-1], recs[:n-1]
	}
	for len(recs) > 0 {
		n := min(len(recs), p.batchSize)
		p.out.deliver(recs[:n])
		recs = recs[n:]
	}
	if end != nil {
		end.AddAttributes(attribute.Int64(resource.EndRejected, int64(p.out.rejected.Load())))
		p.out.deliver(all[len(all)-1:])
	}
	// Keep the buffer of records for the next batches while it is small
	// beside the activation's fair share of the memory bound, and not far
	// past what the recent batches needed: at 584 bytes a record, 1,000
	// activations must not each hold a batch's worth between batches, nor
	// one that logged a burst once hold it for the rest of its life. It
	// is not charged to the bound while it waits.
	p.highWater = max(len(all), p.highWater-p.highWater/8)
	clear(all)
	p.prepared = all[:0]
	if int64(cap(all))*recordSize > p.q.share.b.fair()/4 || cap(all) > 16 && cap(all) > 2*p.highWater {
		p.prepared = nil
	}
}

// account returns the delivery counts: numbered records delivered, in the
// spool, lost, and still in memory (queued or being exported); rejected
// records are counted by the delivery.
func (p *processor) account() (delivered, spooled, lost, pending uint64) {
	d := p.out
	delivered, lost = d.delivered.Load(), d.lost.Load()
	sp, rp := d.spooled.Load(), d.replayed.Load()
	spooled = sp - min(sp, rp)
	// Every numbered record was delivered, lost or spooled (and then maybe
	// replayed, or skipped as unreadable and counted lost), or is in flight.
	// Rejected records, directly or on replay, are neither delivered nor
	// spooled (those replayed left spooled) nor lost.
	inflight := p.numbered.Load() - min(p.numbered.Load(), delivered+spooled+lost+d.rejected.Load())
	return delivered, spooled, lost, p.q.waiting() + inflight
}
