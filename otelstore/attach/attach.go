package attach

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/resource"
)

// Options configure a Processor. The zero value is a working default.
type Options struct {
	// Name names the store in errors.
	Name string
	// LoggerName is the instrumentation scope of the end markers and of
	// the Activation's Handler ("runlog" when empty).
	LoggerName string
	// FlushTimeout bounds Deactivate's flush when its context is already
	// done, typically a failed step's (10 s when zero).
	FlushTimeout time.Duration
	// ContextOnly leaves alone the records whose context carries no
	// activation, instead of giving them to the innermost one. A service
	// that serves steps concurrently and logs other work meanwhile (its
	// requests, its health checks) wants it: with several activations in
	// force, "the innermost" is whichever began last, not the one the
	// record is about.
	ContextOnly bool
	// Fetcher reads back what the service's exporters delivered, for
	// Fetch: the query adapter of the backend they feed. Nil makes Fetch
	// an error.
	Fetcher runlog.Fetcher
}

// Processor is an sdk/log Processor that stamps each record with the scope
// of its activation, and a runlog.LogStore whose Activate and Deactivate
// put activations in force and end them, writing the end marker through
// the service's LoggerProvider. Its methods are safe for concurrent use.
//
// It exports nothing itself: the service's processors after it do.
type Processor struct {
	opts     Options
	provider atomic.Pointer[sdklog.LoggerProvider]

	mu        sync.Mutex
	active    []*activation // in activation order; the last is innermost
	innermost atomic.Pointer[activation]
	late      atomic.Uint64
}

var (
	_ sdklog.Processor = (*Processor)(nil)
	_ runlog.LogStore  = (*Processor)(nil)
)

// activation is one Activate: the attributes every record of it gets, and
// its numbering.
type activation struct {
	runlog.Activation
	attrs []attribute.KeyValue

	mu    sync.Mutex
	n     uint64    // records numbered
	last  time.Time // the latest timestamp given
	ended bool      // Deactivate took the count: no record is numbered after the marker
}

// next numbers a record logged at ts and returns the time it is stored
// with, or reports false when the activation has ended. Goroutines of one
// step race between taking the time and reaching OnEmit; the later one is
// moved forward past the last time given (by 1 ns where the clock did not
// move), so that time order and sequence order agree, as otelstore's
// prepare stage does: readers order by time, and Check reads a sequence
// out of order as a duplicate and a gap. A record without a time gets
// the time it was numbered.
func (a *activation) next(ts time.Time) (uint64, time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return 0, ts, false
	}
	if ts.IsZero() {
		ts = time.Now()
	}
	if !ts.After(a.last) {
		ts = a.last.Add(time.Nanosecond)
	}
	a.n++
	a.last = ts
	return a.n, ts, true
}

// end ends the numbering and returns the count and the end marker's time,
// or reports false when it had ended already.
func (a *activation) end() (uint64, time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return 0, time.Time{}, false
	}
	a.ended = true
	at := time.Now()
	if !at.After(a.last) {
		at = a.last.Add(time.Nanosecond)
	}
	return a.n, at, true
}

// New returns a Processor with the given options. Give it its provider
// with NewLoggerProvider or SetLoggerProvider before the first Activate.
func New(opts Options) *Processor {
	if opts.LoggerName == "" {
		opts.LoggerName = "runlog"
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 10 * time.Second
	}
	return &Processor{opts: opts}
}

// NewLoggerProvider returns sdklog.NewLoggerProvider(opts...) with p
// registered as its first processor, and gives p the provider.
func (p *Processor) NewLoggerProvider(opts ...sdklog.LoggerProviderOption) *sdklog.LoggerProvider {
	lp := sdklog.NewLoggerProvider(append([]sdklog.LoggerProviderOption{sdklog.WithProcessor(p)}, opts...)...)
	p.SetLoggerProvider(lp)
	return lp
}

// SetLoggerProvider gives p the provider it is registered with, the one
// end markers are written through and Deactivate flushes. p must be
// registered on lp before the processors that export.
func (p *Processor) SetLoggerProvider(lp *sdklog.LoggerProvider) { p.provider.Store(lp) }

// Late returns the number of records logged with the context of an
// activation that had ended: left as they were, stamped with no scope.
func (p *Processor) Late() uint64 { return p.late.Load() }

// Enabled reports false: p stores nothing itself, so it must not make the
// provider's loggers enabled for levels the service's processors leave out.
// The SDK calls OnEmit whatever Enabled says.
func (p *Processor) Enabled(context.Context, sdklog.EnabledParameters) bool { return false }

// OnEmit stamps r with the scope and the next sequence number of its
// activation (see the package doc's Routing), and leaves a record that
// belongs to none as it is.
func (p *Processor) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Value(endKey{}) != nil {
		return nil // an end marker, stamped by Deactivate
	}
	a := p.route(ctx)
	if a == nil {
		return nil
	}
	seq, ts, ok := a.next(r.Timestamp())
	if !ok {
		p.late.Add(1)
		return nil
	}
	r.SetTimestamp(ts)
	// Repaired here, not left to the service: a bad string would make
	// OTLP/protobuf refuse the whole batch, other services' records too.
	otelstore.RepairUTF8(r)
	// One AddAttributes: each call grows the record's attributes and
	// deduplicates them again. buf keeps the common case off the heap.
	var buf [12]attribute.KeyValue
	kvs := append(append(buf[:0], a.attrs...), attribute.Int64(resource.Sequence, int64(seq)))
	r.AddAttributes(kvs...)
	return nil
}

// route returns the activation a record logged with ctx belongs to, nil
// for none. An ended activation in ctx is returned (next refuses it), so
// that its late records are counted, not given to another.
func (p *Processor) route(ctx context.Context) *activation {
	if ra, ok := runlog.FromContext(ctx); ok {
		return p.own(ra) // nil for another store's: not ours to stamp
	}
	if p.opts.ContextOnly {
		return nil
	}
	return p.innermost.Load()
}

// own returns ra as one of p's activations, nil when ra is another
// store's.
func (p *Processor) own(ra *runlog.Activation) *activation {
	if h, ok := ra.Handler.(*handler); ok && ra.Owner == runlog.LogStore(p) {
		return h.act
	}
	return nil
}

// endKey marks the context of an end marker's Emit.
type endKey struct{}

// ForceFlush does nothing: p holds no record.
func (p *Processor) ForceFlush(context.Context) error { return nil }

// Shutdown does nothing: p holds no record. End activations before the
// provider shuts down; their end markers cannot be written afterwards.
func (p *Processor) Shutdown(context.Context) error { return nil }

// Activate puts an activation of sc in force and returns a context
// carrying it; see runlog.LogStore. It does not touch the default slog
// logger. The Activation's Handler (runlog.Logger(ctx)) writes through
// the provider, to this activation whatever context it is later used with.
func (p *Processor) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
	if err := sc.Validate(); err != nil {
		return ctx, err
	}
	lp := p.provider.Load()
	if lp == nil {
		return ctx, &runlog.Error{Kind: runlog.ErrInvalid, Op: "activate", Store: p.opts.Name,
			Err:  errors.New("the processor has no LoggerProvider"),
			Hint: "build the provider with Processor.NewLoggerProvider, or call SetLoggerProvider with the provider it is registered on"}
	}
	a := &activation{}
	a.ID, a.Scope, a.Owner = newID(), sc, p
	a.attrs = resource.AppendScope(make([]attribute.KeyValue, 0, len(sc.Attributes)+5), sc, a.ID)
	a.Handler = &handler{act: a, Handler: otelslog.NewHandler(p.opts.LoggerName,
		otelslog.WithLoggerProvider(lp), otelslog.WithSource(true))}
	p.mu.Lock()
	p.active = append(p.active, a)
	p.innermost.Store(a)
	p.mu.Unlock()
	return runlog.NewContext(ctx, &a.Activation), nil
}

// Deactivate ends the activation carried by ctx, or the innermost one;
// see runlog.LogStore. It writes the end marker through the provider and
// calls its ForceFlush within ctx's deadline (FlushTimeout when ctx is
// done already). Its error is ForceFlush's: the service's exporters could
// not deliver everything; `runlog check` says which records arrived.
func (p *Processor) Deactivate(ctx context.Context) error {
	a := p.lookup(ctx)
	if a == nil {
		return nil
	}
	n, at, ok := a.end()
	if !ok {
		return nil // ended by another Deactivate meanwhile
	}
	p.forget(a)
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), p.opts.FlushTimeout)
		defer cancel()
	}
	lp := p.provider.Load()
	end := resource.EndRecord(runlog.End{Time: at, Count: n, Cause: runlog.CauseFrom(ctx)})
	end.AddAttributes(a.attrs...)
	end.AddAttributes(attribute.Int64(resource.Sequence, int64(n+1)))
	lp.Logger(p.opts.LoggerName).Emit(context.WithValue(ctx, endKey{}, true), end)
	if err := lp.ForceFlush(ctx); err != nil {
		return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "deactivate", Store: p.opts.Name, Err: err,
			Hint: "the service's exporters did not deliver every record of " + a.Scope.String() +
				"; check the backend, then run `runlog check " + a.Scope.RunID + "` to see which arrived"}
	}
	return nil
}

// lookup returns the activation a Deactivate(ctx) ends: ctx's when it is
// p's and in force, else, when ctx carries none of p's, the innermost.
func (p *Processor) lookup(ctx context.Context) *activation {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ra, ok := runlog.FromContext(ctx); ok {
		if a := p.own(ra); a != nil {
			if slices.Contains(p.active, a) {
				return a
			}
			return nil // ended already
		}
	}
	if n := len(p.active); n > 0 {
		return p.active[n-1]
	}
	return nil
}

// forget takes a out of the activations in force.
func (p *Processor) forget(a *activation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = slices.DeleteFunc(p.active, func(b *activation) bool { return b == a })
	if n := len(p.active); n > 0 {
		p.innermost.Store(p.active[n-1])
	} else {
		p.innermost.Store(nil)
	}
}

// Fetch reads entries through Options.Fetcher.
func (p *Processor) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if p.opts.Fetcher == nil {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "fetch", Store: p.opts.Name,
			Err: errors.New("this processor has no Fetcher"), Hint: "set Options.Fetcher to a query adapter for the backend the service exports to"}
	}
	return p.opts.Fetcher.Fetch(ctx, q)
}

// handler is an Activation's Handler: the otelslog bridge to the
// provider, with the activation put into every record's context, so that
// a logger from runlog.Logger(ctx) keeps writing to it.
type handler struct {
	act *activation
	slog.Handler
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return h.Handler.Handle(runlog.NewContext(ctx, &h.act.Activation), r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{act: h.act, Handler: h.Handler.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{act: h.act, Handler: h.Handler.WithGroup(name)}
}

// newID returns 16 random hex digits, as otelstore's activation ids.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
