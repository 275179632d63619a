package otelstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/resource"
)

// batcher is the processor of one activation: it queues records without
// ever dropping one (unless the drop overflow policy says so, counting
// each), and a single worker goroutine prepares them (sequence, chunks,
// UTF-8, timestamps) and exports them in batches, in order. A batch that
// cannot be exported goes to the activation's spool segment; while the
// segment holds records, later batches go behind them, and the worker
// replays the segment (with backoff) before exporting anything new, so the
// backend receives the records in order.
type batcher struct {
	exp          sdklog.Exporter
	activationID string
	batchSize    int
	queueSize    int
	interval     time.Duration
	timeout      time.Duration
	maxMsg       int
	drop         bool   // overflow policy: drop instead of blocking
	spool        *spool // nil: no spool

	mu      sync.Mutex
	notFull *sync.Cond
	buf     []sdklog.Record
	closed  bool

	kick    chan struct{}
	flushes chan chan error
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// deadline (Unix ns, 0 = none) is when exports must have ended, set by
	// Shutdown: what is left then goes to the spool.
	deadline atomic.Int64

	// Worker-only state.
	seq     uint64
	lastTS  time.Time
	spare   []sdklog.Record
	out     []sdklog.Record
	seg     *segment
	enc     plog.JSONMarshaler
	retryAt time.Time
	backoff time.Duration
	refused bool // the spool refused a batch and has not been replayed since

	emitted    atomic.Uint64 // records accepted by OnEmit
	dropped    atomic.Uint64 // records refused by the drop policy
	taken      atomic.Uint64 // records the worker took from the queue
	numbered   atomic.Uint64 // records (chunks) prepared
	delivered  atomic.Uint64 // numbered records exported, directly or from the spool
	spooled    atomic.Uint64 // numbered records written to the spool
	replayed   atomic.Uint64 // numbered records exported from the spool, or skipped unreadable
	lost       atomic.Uint64 // numbered records neither exported nor spooled
	lostReplay atomic.Uint64 // of replayed: skipped as unreadable
	lateDrops  atomic.Uint64 // records emitted after shutdown
	errMu      sync.Mutex
	exportErr  error  // the last export error
	spoolErr   error  // the last spool error
	segPath    string // the spool segment, once created
}

var _ sdklog.Processor = (*batcher)(nil)

func newBatcher(exp sdklog.Exporter, activationID string, o *Options, sp *spool) *batcher {
	b := &batcher{
		exp:          exp,
		activationID: activationID,
		batchSize:    o.BatchSize,
		queueSize:    o.QueueSize,
		interval:     o.ExportInterval,
		timeout:      o.ExportTimeout,
		maxMsg:       o.MaxMessageBytes,
		drop:         o.Overflow == OverflowDrop,
		spool:        sp,
		kick:         make(chan struct{}, 1),
		flushes:      make(chan chan error, 1),
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	b.notFull = sync.NewCond(&b.mu)
	go b.run()
	return b
}

// Enabled lets everything through: the level is checked before the record
// is built, by the activation's handler.
func (b *batcher) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit queues a copy of r. When the queue is full it blocks until the
// worker has taken it (backpressure instead of loss), or, under the drop
// policy, counts r as dropped.
func (b *batcher) OnEmit(ctx context.Context, r *sdklog.Record) error {
	b.mu.Lock()
	// The end marker neither waits nor is dropped: Deactivate must not
	// block on a full queue past its deadline.
	keep := ctx.Value(keepKey{}) != nil
	for len(b.buf) >= b.queueSize && !b.closed && !keep {
		if b.drop {
			b.mu.Unlock()
			b.dropped.Add(1)
			metrics().processed.Add(ctx, 1, metricAttrs.queueFull...)
			b.signal()
			return nil
		}
		b.signal()
		b.notFull.Wait()
	}
	if b.closed {
		b.mu.Unlock()
		b.lateDrops.Add(1)
		return errors.New("runlog: record emitted after its activation ended")
	}
	b.buf = append(b.buf, r.Clone())
	n := len(b.buf)
	b.mu.Unlock()
	b.emitted.Add(1)
	if n == b.batchSize {
		b.signal()
	}
	return nil
}

// keepKey marks the context of a record that is queued even when the
// queue is full: the end marker.
type keepKey struct{}

func (b *batcher) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// ForceFlush returns once every record emitted before the call has been
// exported or spooled (a spool with records is replayed first), or when
// ctx is done. Records left in the spool make an error.
func (b *batcher) ForceFlush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case b.flushes <- done:
	case <-b.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return errors.Join(err, b.exp.ForceFlush(ctx))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown flushes, stops the worker and shuts the exporter down. Exports
// end a little before ctx's deadline, leaving time to spool what is left.
// Records emitted afterwards are refused and counted.
func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		if dl, ok := ctx.Deadline(); ok {
			reserve := min(250*time.Millisecond, time.Until(dl)/4)
			b.deadline.Store(dl.Add(-reserve).UnixNano())
		}
		b.mu.Lock()
		b.closed = true
		b.notFull.Broadcast()
		b.mu.Unlock()
		close(b.stop)
		select {
		case <-b.stopped:
		case <-ctx.Done():
			err = fmt.Errorf("runlog: flush did not finish before the deadline: %w", ctx.Err())
			// The worker goes on spooling what it holds; shut the exporter
			// down (closing its file or connections) once it is done.
			go func() {
				<-b.stopped
				_ = b.exp.Shutdown(context.Background())
			}()
			return
		}
		err = b.exp.Shutdown(ctx)
	})
	return err
}

func (b *batcher) run() {
	defer close(b.stopped)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.kick:
			b.drain(false)
		case <-t.C:
			b.drain(false)
		case done := <-b.flushes:
			b.drain(true)
			done <- b.backlogErr()
		case <-b.stop:
			b.drain(true)
			if b.seg != nil {
				b.setErr(nil, b.seg.close())
			}
			return
		}
	}
}

// drain exports everything queued so far, replaying the spool first. With
// force, the spool is replayed even if the last attempt failed moments ago.
func (b *batcher) drain(force bool) {
	b.mu.Lock()
	batch := b.buf
	b.buf = b.spare[:0]
	b.notFull.Broadcast()
	b.mu.Unlock()
	b.retrySpool(force)
	if len(batch) == 0 {
		b.spare = batch
		return
	}
	b.taken.Add(uint64(len(batch)))
	b.out = b.prepare(b.out[:0], batch)
	b.numbered.Add(uint64(len(b.out)))
	clear(batch)
	b.spare = batch[:0]
	for recs := b.out; len(recs) > 0; {
		n := min(len(recs), b.batchSize)
		b.deliver(recs[:n])
		recs = recs[n:]
	}
	clear(b.out)
}

// deliver exports recs, or spools them when the spool holds earlier
// records, the export fails, or the deadline has passed.
func (b *batcher) deliver(recs []sdklog.Record) {
	n := uint64(len(recs))
	// Behind spooled records, past the deadline, or backing off: to the
	// spool, unless it cannot take them (then an export is worth a try).
	if b.backlog() || b.late() || time.Now().Before(b.retryAt) && b.spool != nil && !b.refused {
		b.toSpool(recs, nil)
		return
	}
	ctx, cancel := b.exportContext()
	err := b.exp.Export(ctx, recs)
	cancel()
	if err != nil {
		b.setErr(err, nil)
		b.failed()
		b.toSpool(recs, err)
		return
	}
	b.delivered.Add(n)
	metrics().processed.Add(context.Background(), int64(n), metricAttrs.ok...)
}

// exportContext bounds one export by ExportTimeout and the deadline.
func (b *batcher) exportContext() (context.Context, context.CancelFunc) {
	d := time.Now().Add(b.timeout)
	if dl := b.deadline.Load(); dl != 0 && dl < d.UnixNano() {
		d = time.Unix(0, dl)
	}
	return context.WithDeadline(context.Background(), d)
}

// backlogErr says how many records wait in the spool, if any.
func (b *batcher) backlogErr() error {
	if !b.backlog() {
		return nil
	}
	exportErr, _, _ := b.errs()
	return fmt.Errorf("%d records wait in %s: %w", b.seg.pending, b.seg.path, exportErr)
}

func (b *batcher) backlog() bool { return b.seg != nil && b.seg.off < b.seg.size }

func (b *batcher) late() bool {
	dl := b.deadline.Load()
	return dl != 0 && time.Now().UnixNano() >= dl
}

// failed backs off: the next export is tried 1s, 2s, 4s ... 30s later;
// until then batches go to the spool.
func (b *batcher) failed() {
	b.backoff = min(max(2*b.backoff, time.Second), 30*time.Second)
	b.retryAt = time.Now().Add(b.backoff)
}

// toSpool writes recs to the activation's spool segment, or counts them
// lost when there is no spool or it cannot take them.
func (b *batcher) toSpool(recs []sdklog.Record, cause error) {
	n := uint64(len(recs))
	lose := func(n uint64, err error) {
		b.lost.Add(n)
		if err != nil {
			b.setErr(nil, err)
		}
		metrics().processed.Add(context.Background(), int64(n), metricAttrs.lost...)
	}
	if b.spool == nil {
		if cause == nil {
			cause = errors.New("export deadline passed")
		}
		lose(n, fmt.Errorf("no spool to keep them: %w", cause))
		return
	}
	if b.seg == nil {
		if b.refused {
			lose(n, nil)
			return
		}
		seg, err := b.spool.create(b.activationID)
		if err != nil {
			b.refused = true // not again for every batch
			lose(n, fmt.Errorf("cannot spool to %s: %w", b.spool.dir, err))
			return
		}
		b.seg = seg
		b.errMu.Lock()
		b.segPath = seg.path
		b.errMu.Unlock()
	}
	if b.refused {
		lose(n-b.keepMarkers(recs), nil)
		return
	}
	if err := b.seg.write(recs, &b.enc, false); err != nil {
		// Once the spool refused, later records are refused too until it
		// has been replayed: what is lost is the end of a stretch, not
		// holes in it. The end marker is kept all the same, so that
		// readers know how many records to expect.
		b.refused = true
		lose(n-b.keepMarkers(recs), fmt.Errorf("cannot spool to %s: %w", b.seg.path, err))
		return
	}
	b.spooled.Add(n)
}

// keepMarkers spools the end markers among recs, which the spool refused,
// past its size bound, and returns how many it kept.
func (b *batcher) keepMarkers(recs []sdklog.Record) uint64 {
	var kept uint64
	for i := range recs {
		if isEndMarker(&recs[i]) && b.seg.write(recs[i:i+1], &b.enc, true) == nil {
			kept++
		}
	}
	b.spooled.Add(kept)
	return kept
}

func isEndMarker(r *sdklog.Record) bool {
	end := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		end = kv.Key == resource.End
		return !end
	})
	return end
}

// retrySpool replays the spool segment, if it holds records and the
// backoff allows (force ignores it), emptying it when all went through.
func (b *batcher) retrySpool(force bool) {
	if !b.backlog() || b.late() || !force && time.Now().Before(b.retryAt) {
		return
	}
	ctx := context.Background()
	if dl := b.deadline.Load(); dl != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, dl))
		defer cancel()
	}
	n, bad, err := b.seg.replay(ctx, b.exp, b.timeout)
	b.replayed.Add(n + bad)
	b.delivered.Add(n)
	b.lost.Add(bad)
	b.lostReplay.Add(bad)
	metrics().processed.Add(ctx, int64(n), metricAttrs.ok...)
	if err != nil {
		b.setErr(err, nil)
		b.failed()
		return
	}
	b.backoff, b.retryAt, b.refused = 0, time.Time{}, false
	b.setErr(nil, b.seg.reset())
}

// setErr remembers the last export and spool errors (nil keeps the old).
func (b *batcher) setErr(export, spool error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if export != nil {
		b.exportErr = export
	}
	if spool != nil {
		b.spoolErr = spool
	}
}

func (b *batcher) errs() (export, spool error, segPath string) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.exportErr, b.spoolErr, b.segPath
}

// account returns the delivery counts: numbered records delivered, in the
// spool, lost, and still in memory (queued or being exported).
func (b *batcher) account() (delivered, spooled, lost, pending uint64) {
	delivered, lost = b.delivered.Load(), b.lost.Load()
	sp, rp := b.spooled.Load(), b.replayed.Load()
	spooled = sp - min(sp, rp)
	queued := b.emitted.Load() - min(b.emitted.Load(), b.taken.Load())
	// Every numbered record was delivered, lost or spooled (and then maybe
	// replayed, or skipped as unreadable and counted lost), or is in flight.
	inflight := b.numbered.Load() - min(b.numbered.Load(), delivered+spooled+lost)
	return delivered, spooled, lost, queued + inflight
}

// prepare appends to out the records of batch, in order, each numbered,
// with valid UTF-8, a timestamp later than the one before, and long
// messages split into chunks. Timestamps strictly increase within an
// activation (by a nanosecond where the clock did not move) because Loki
// keeps one of two entries of a stream with the same timestamp and line:
// two identical lines logged in the same clock tick, or two identical
// chunks, would otherwise become one.
func (b *batcher) prepare(out, batch []sdklog.Record) []sdklog.Record {
	next := func(ts time.Time) time.Time {
		if !b.lastTS.IsZero() && !ts.After(b.lastTS) {
			ts = b.lastTS.Add(time.Nanosecond)
		}
		b.lastTS = ts
		return ts
	}
	for i := range batch {
		r := &batch[i]
		ts := r.Timestamp()
		if ts.IsZero() {
			ts = r.ObservedTimestamp()
		}
		repairAttributes(r)

		body := r.Body()
		msg := ""
		if body.Type() == attribute.STRING {
			msg = body.AsString()
			if !utf8.ValidString(msg) {
				msg = strings.ToValidUTF8(msg, "\uFFFD")
				r.SetBody(attribute.StringValue(msg))
			}
		}
		if len(msg) <= b.maxMsg {
			b.seq++
			r.SetTimestamp(next(ts))
			r.AddAttributes(attribute.Int64(resource.Sequence, int64(b.seq)))
			out = append(out, *r)
			continue
		}
		chunks := splitUTF8(msg, b.maxMsg)
		uid := fmt.Sprintf("%s-%d", b.activationID, b.seq+1)
		for j, c := range chunks {
			b.seq++
			cr := r.Clone()
			cr.SetTimestamp(next(ts))
			cr.SetBody(attribute.StringValue(c))
			cr.AddAttributes(
				attribute.Int64(resource.Sequence, int64(b.seq)),
				attribute.String(resource.RecordUID, uid),
				attribute.Int(resource.ChunkIndex, j),
				attribute.Int(resource.ChunkTotal, len(chunks)),
			)
			out = append(out, cr)
		}
	}
	return out
}

// splitUTF8 cuts s into pieces of at most n bytes, never inside a rune.
func splitUTF8(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// repairAttributes replaces invalid UTF-8 in string attributes, which OTLP
// cannot carry (a protobuf string must be UTF-8: one bad record would fail
// its whole batch).
func repairAttributes(r *sdklog.Record) {
	bad := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		bad = !validValue(kv)
		return !bad
	})
	if !bad {
		return
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, repairKV(kv))
		return true
	})
	r.SetAttributes(attrs...)
}

func validValue(kv attribute.KeyValue) bool {
	if !utf8.ValidString(string(kv.Key)) {
		return false
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		return utf8.ValidString(kv.Value.AsString())
	case attribute.STRINGSLICE:
		for _, s := range kv.Value.AsStringSlice() {
			if !utf8.ValidString(s) {
				return false
			}
		}
	case attribute.MAP:
		for _, e := range kv.Value.AsMap() {
			if !validValue(e) {
				return false
			}
		}
	case attribute.SLICE:
		for _, v := range kv.Value.AsSlice() {
			if !validValue(attribute.KeyValue{Value: v}) {
				return false
			}
		}
	}
	return true
}

func repairKV(kv attribute.KeyValue) attribute.KeyValue {
	fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	kv.Key = attribute.Key(fix(string(kv.Key)))
	switch kv.Value.Type() {
	case attribute.STRING:
		kv.Value = attribute.StringValue(fix(kv.Value.AsString()))
	case attribute.STRINGSLICE:
		ss := kv.Value.AsStringSlice()
		for i := range ss {
			ss[i] = fix(ss[i])
		}
		kv.Value = attribute.StringSliceValue(ss)
	case attribute.MAP:
		m := kv.Value.AsMap()
		for i := range m {
			m[i] = repairKV(m[i])
		}
		kv.Value = attribute.MapValue(m...)
	case attribute.SLICE:
		vs := kv.Value.AsSlice()
		for i := range vs {
			vs[i] = repairKV(attribute.KeyValue{Value: vs[i]}).Value
		}
		kv.Value = attribute.SliceValue(vs...)
	}
	return kv
}
