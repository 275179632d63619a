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

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/resource"
)

// batcher is the processor of one activation: it queues records without
// ever dropping one, and a single worker goroutine prepares them (sequence,
// chunks, UTF-8, timestamps) and exports them in batches, in order.
type batcher struct {
	exp          sdklog.Exporter
	activationID string
	batchSize    int
	queueSize    int
	interval     time.Duration
	timeout      time.Duration
	maxMsg       int

	mu      sync.Mutex
	notFull *sync.Cond
	buf     []sdklog.Record
	closed  bool

	kick    chan struct{}
	flushes chan chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once

	// Worker-only state.
	seq    uint64
	lastTS time.Time
	spare  []sdklog.Record
	out    []sdklog.Record

	emitted   atomic.Uint64 // records accepted by OnEmit
	taken     atomic.Uint64 // records the worker took from the queue
	exported  atomic.Uint64 // records (chunks) the exporter accepted
	failed    atomic.Uint64 // records (chunks) the exporter refused
	lateDrops atomic.Uint64 // records emitted after shutdown
	errMu     sync.Mutex
	lastErr   error
}

var _ sdklog.Processor = (*batcher)(nil)

func newBatcher(exp sdklog.Exporter, activationID string, o *Options) *batcher {
	b := &batcher{
		exp:          exp,
		activationID: activationID,
		batchSize:    o.BatchSize,
		queueSize:    o.QueueSize,
		interval:     o.ExportInterval,
		timeout:      o.ExportTimeout,
		maxMsg:       o.MaxMessageBytes,
		kick:         make(chan struct{}, 1),
		flushes:      make(chan chan struct{}),
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
// worker has taken it: backpressure instead of loss.
func (b *batcher) OnEmit(_ context.Context, r *sdklog.Record) error {
	b.mu.Lock()
	for len(b.buf) >= b.queueSize && !b.closed {
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

func (b *batcher) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// ForceFlush returns once every record emitted before the call has been
// handed to the exporter, or when ctx is done.
func (b *batcher) ForceFlush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case b.flushes <- done:
	case <-b.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return b.exp.ForceFlush(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown flushes, stops the worker and shuts the exporter down. Records
// emitted afterwards are refused and counted.
func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.notFull.Broadcast()
		b.mu.Unlock()
		close(b.stop)
		select {
		case <-b.stopped:
		case <-ctx.Done():
			err = fmt.Errorf("runlog: flush did not finish before the deadline: %w", ctx.Err())
			// The worker goes on exporting what it holds; shut the exporter
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
			b.drain()
		case <-t.C:
			b.drain()
		case done := <-b.flushes:
			b.drain()
			close(done)
		case <-b.stop:
			b.drain()
			return
		}
	}
}

// drain exports everything queued so far.
func (b *batcher) drain() {
	b.mu.Lock()
	batch := b.buf
	b.buf = b.spare[:0]
	b.notFull.Broadcast()
	b.mu.Unlock()
	if len(batch) == 0 {
		b.spare = batch
		return
	}
	b.taken.Add(uint64(len(batch)))
	b.out = b.prepare(b.out[:0], batch)
	clear(batch)
	b.spare = batch[:0]
	for recs := b.out; len(recs) > 0; {
		n := min(len(recs), b.batchSize)
		b.export(recs[:n])
		recs = recs[n:]
	}
	clear(b.out)
}

func (b *batcher) export(recs []sdklog.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if err := b.exp.Export(ctx, recs); err != nil {
		b.failed.Add(uint64(len(recs)))
		b.errMu.Lock()
		b.lastErr = err
		b.errMu.Unlock()
		return
	}
	b.exported.Add(uint64(len(recs)))
}

func (b *batcher) err() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.lastErr
}

// prepare appends to out the records of batch, in order, each numbered,
// with valid UTF-8, a timestamp no earlier than the one before, and long
// messages split into chunks.
func (b *batcher) prepare(out, batch []sdklog.Record) []sdklog.Record {
	for i := range batch {
		r := &batch[i]
		ts := r.Timestamp()
		if ts.IsZero() {
			ts = r.ObservedTimestamp()
		}
		if ts.Before(b.lastTS) {
			ts = b.lastTS
		}
		b.lastTS = ts
		r.SetTimestamp(ts)
		repairAttributes(r)

		body := r.Body()
		if body.Type() != attribute.STRING {
			b.seq++
			r.AddAttributes(attribute.Int64(resource.Sequence, int64(b.seq)))
			out = append(out, *r)
			continue
		}
		msg := body.AsString()
		if !utf8.ValidString(msg) {
			msg = strings.ToValidUTF8(msg, "\uFFFD")
			r.SetBody(attribute.StringValue(msg))
		}
		if len(msg) <= b.maxMsg {
			b.seq++
			r.AddAttributes(attribute.Int64(resource.Sequence, int64(b.seq)))
			out = append(out, *r)
			continue
		}
		chunks := splitUTF8(msg, b.maxMsg)
		uid := fmt.Sprintf("%s-%d", b.activationID, b.seq+1)
		for j, c := range chunks {
			b.seq++
			cr := r.Clone()
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
