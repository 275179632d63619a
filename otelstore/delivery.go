package otelstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/resource"
)

// delivery exports an activation's prepared batches in order, or keeps
// them in the activation's spool segment: a batch the exporter refuses,
// every batch while the segment holds earlier records (so that the
// backend receives records in order), and what is left once the deadline
// has passed. The segment is replayed, with backoff, before anything new
// is exported. Used by the activation's worker alone, but for the
// counters and errors, which others read.
type delivery struct {
	exp          sdklog.Exporter
	activationID string
	timeout      time.Duration // of one export
	spool        *spool        // nil: no spool

	// deadline (Unix ns, 0 = none) is when exports must have ended, set by
	// Shutdown: what is left then goes to the spool.
	deadline atomic.Int64

	// Worker-only state.
	seg     *segment
	enc     plog.JSONMarshaler
	retryAt time.Time
	backoff time.Duration
	refused bool // the spool refused a batch and has not been replayed since

	delivered  atomic.Uint64 // records exported, directly or from the spool
	spooled    atomic.Uint64 // records written to the spool
	replayed   atomic.Uint64 // records exported from the spool, or skipped unreadable
	lost       atomic.Uint64 // records neither exported nor spooled
	lostReplay atomic.Uint64 // of replayed: skipped as unreadable
	rejected   atomic.Uint64 // records the backend refused as invalid, set aside
	rejectedSp atomic.Uint64 // of rejected: from the spool (also counted in replayed)

	errMu      sync.Mutex
	exportErr  error  // the last export error
	spoolErr   error  // the last spool error
	segPath    string // the spool segment, once created
	rejectErr  error  // the last rejection
	rejectedAt string // where rejected batches were set aside
}

// reject sets a batch the backend refused as invalid aside: counted,
// written beside the spool (when there is one) for a person to look at,
// and not retried, so that it does not hold back the records after it.
func (d *delivery) reject(recs []sdklog.Record, cause error) {
	n := uint64(len(recs))
	d.rejected.Add(n)
	metrics().processed.Add(context.Background(), int64(n), metricAttrs.rejected...)
	var path string
	var err error
	if d.spool != nil {
		path = rejectPath(d.spool.dir, d.activationID)
		err = setAside(path, recs, &d.enc)
	}
	d.errMu.Lock()
	defer d.errMu.Unlock()
	d.rejectErr = cause
	if err != nil {
		d.spoolErr = fmt.Errorf("cannot set rejected records aside in %s: %w", path, err)
	} else {
		d.rejectedAt = path
	}
}

// deliver exports recs, or spools them when the spool holds earlier
// records, the export fails, or the deadline has passed.
func (d *delivery) deliver(recs []sdklog.Record) {
	n := uint64(len(recs))
	// Behind spooled records, past the deadline, or backing off: to the
	// spool, unless it cannot take them (then an export is worth a try).
	if d.backlog() || d.late() || time.Now().Before(d.retryAt) && d.spool != nil && !d.refused {
		d.toSpool(recs, nil)
		return
	}
	ctx, cancel := d.exportContext()
	err := d.exp.Export(ctx, recs)
	cancel()
	if err != nil && rejected(err) {
		d.reject(recs, err)
		return
	}
	if err != nil {
		d.setErr(err, nil)
		d.failed()
		d.toSpool(recs, err)
		return
	}
	d.delivered.Add(n)
	metrics().processed.Add(context.Background(), int64(n), metricAttrs.ok...)
}

// exportContext bounds one export by the timeout and the deadline.
func (d *delivery) exportContext() (context.Context, context.CancelFunc) {
	t := time.Now().Add(d.timeout)
	if dl := d.deadline.Load(); dl != 0 && dl < t.UnixNano() {
		t = time.Unix(0, dl)
	}
	return context.WithDeadline(context.Background(), t)
}

// backlogErr says how many records wait in the spool, if any.
func (d *delivery) backlogErr() error {
	if !d.backlog() {
		return nil
	}
	exportErr, _, _ := d.errs()
	return fmt.Errorf("%d records wait in %s: %w", d.seg.pending, d.seg.path, exportErr)
}

func (d *delivery) backlog() bool { return d.seg != nil && d.seg.off < d.seg.size }

func (d *delivery) late() bool {
	dl := d.deadline.Load()
	return dl != 0 && time.Now().UnixNano() >= dl
}

// failed backs off: the next export is tried 1s, 2s, 4s ... 30s later;
// until then batches go to the spool.
func (d *delivery) failed() {
	d.backoff = min(max(2*d.backoff, time.Second), 30*time.Second)
	d.retryAt = time.Now().Add(d.backoff)
}

// toSpool writes recs to the activation's spool segment, or counts them
// lost when there is no spool or it cannot take them.
func (d *delivery) toSpool(recs []sdklog.Record, cause error) {
	n := uint64(len(recs))
	lose := func(n uint64, err error) {
		d.lost.Add(n)
		if err != nil {
			d.setErr(nil, err)
		}
		metrics().processed.Add(context.Background(), int64(n), metricAttrs.lost...)
	}
	if d.spool == nil {
		if cause == nil {
			cause = errors.New("export deadline passed")
		}
		lose(n, fmt.Errorf("no spool to keep them: %w", cause))
		return
	}
	if d.seg == nil {
		if d.refused {
			lose(n, nil)
			return
		}
		seg, err := d.spool.create(d.activationID)
		if err != nil {
			d.refused = true // not again for every batch
			lose(n, fmt.Errorf("cannot spool to %s: %w", d.spool.dir, err))
			return
		}
		d.seg = seg
		d.errMu.Lock()
		d.segPath = seg.path
		d.errMu.Unlock()
	}
	if d.refused {
		lose(n-d.keepMarkers(recs), nil)
		return
	}
	if err := d.seg.write(recs, &d.enc, false); err != nil {
		// Once the spool refused, later records are refused too until it
		// has been replayed: what is lost is the end of a stretch, not
		// holes in it. The end marker is kept all the same, so that
		// readers know how many records to expect.
		d.refused = true
		lose(n-d.keepMarkers(recs), fmt.Errorf("cannot spool to %s: %w", d.seg.path, err))
		return
	}
	d.spooled.Add(n)
}

// keepMarkers spools the end markers among recs, which the spool refused,
// past its size bound, and returns how many it kept.
func (d *delivery) keepMarkers(recs []sdklog.Record) uint64 {
	var kept uint64
	for i := range recs {
		if isEndMarker(&recs[i]) && d.seg.write(recs[i:i+1], &d.enc, true) == nil {
			kept++
		}
	}
	d.spooled.Add(kept)
	return kept
}

func isEndMarker(r *sdklog.Record) bool {
	end := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		end = resource.IsEnd(kv)
		return !end
	})
	return end
}

// retrySpool replays the spool segment, if it holds records and the
// backoff allows (force ignores it), emptying it when all went through.
func (d *delivery) retrySpool(force bool) {
	if !d.backlog() || d.late() || !force && time.Now().Before(d.retryAt) {
		return
	}
	ctx := context.Background()
	if dl := d.deadline.Load(); dl != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, dl))
		defer cancel()
	}
	rej0 := d.seg.rejected
	n, bad, err := d.seg.replay(ctx, d.exp, d.timeout)
	rej := d.seg.rejected - rej0
	d.replayed.Add(n + bad + rej)
	d.delivered.Add(n)
	if rej > 0 {
		d.rejected.Add(rej)
		d.rejectedSp.Add(rej)
		d.errMu.Lock()
		d.rejectErr, d.rejectedAt = d.seg.rejectErr, rejectPath(d.spool.dir, d.activationID)
		d.errMu.Unlock()
	}
	d.lost.Add(bad)
	d.lostReplay.Add(bad)
	metrics().processed.Add(ctx, int64(n), metricAttrs.ok...)
	if err != nil {
		d.setErr(err, nil)
		d.failed()
		return
	}
	d.backoff, d.retryAt, d.refused = 0, time.Time{}, false
	d.setErr(nil, d.seg.reset())
}

// close closes the spool segment, if one was made.
func (d *delivery) close() {
	if d.seg != nil {
		d.setErr(nil, d.seg.close())
	}
}

// setErr remembers the last export and spool errors (nil keeps the old).
func (d *delivery) setErr(export, spool error) {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	if export != nil {
		d.exportErr = export
	}
	if spool != nil {
		d.spoolErr = spool
	}
}

func (d *delivery) errs() (export, spool error, segPath string) {
	d.errMu.Lock()
	defer d.errMu.Unlock()
	return d.exportErr, d.spoolErr, d.segPath
}
