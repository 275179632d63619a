package otelstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
	"github.com/runlog/runlog/router"
)

// Store is a runlog.LogStore that writes through OpenTelemetry.
type Store struct {
	opts   Options
	router *router.Router
	redact *redactor // nil: nothing to redact
	memory *budget   // Options.MemoryMaxBytes, across activations

	mu   sync.Mutex
	acts map[*runlog.Activation]*activation // in force

	stats      struct{ logged, delivered, spooled, replayed, dropped, rejected atomic.Uint64 }
	spool      *spool        // nil with NoSpool
	sweeping   chan struct{} // closed when the running replay of orphans ends
	sweepAfter time.Time     // no automatic replay of orphans before
}

var (
	_ runlog.LogStore = (*Store)(nil)
	_ runlog.Flusher  = (*Store)(nil)
)

// activation is one Activate: its LoggerProvider, whose resource carries
// the scope, and the processor in front of its exporter.
type activation struct {
	runlog.Activation
	provider *sdklog.LoggerProvider
	logs     queueProvider // what the bridge logs to (emit.go)
	proc     *processor
	exporter sdklog.Exporter
}

// New returns a Store with the given options.
func New(opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, acts: map[*runlog.Activation]*activation{},
		router: router.New(router.Options{Console: opts.Console, Stdio: opts.CaptureStdio}),
		redact: newRedactor(opts.Redact), memory: newBudget(opts.MemoryMaxBytes)}
	if !opts.NoSpool {
		s.spool = &spool{dir: opts.SpoolDir, sync: opts.SpoolSync, maxBytes: opts.SpoolMaxBytes, maxAge: opts.SpoolMaxAge}
	}
	return s, nil
}

// SpoolDir returns the spool directory, empty without a spool.
func (s *Store) SpoolDir() string {
	if s.spool == nil {
		return ""
	}
	return s.spool.dir
}

// Options returns the store's options with defaults applied.
func (s *Store) Options() Options { return s.opts }

// Activate starts collecting the records of scope sc; see runlog.LogStore.
func (s *Store) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
	if err := sc.Validate(); err != nil {
		return ctx, err
	}
	a, err := s.newActivation(ctx, sc)
	if err != nil {
		return ctx, &runlog.Error{Kind: runlog.ErrInvalid, Op: "activate", Store: s.opts.Name, Err: err}
	}
	s.mu.Lock()
	s.acts[&a.Activation] = a
	s.mu.Unlock()
	actx, err := s.router.Push(ctx, &a.Activation, a.sink(&s.opts))
	if err != nil {
		s.forget(a)
		_ = a.provider.Shutdown(ctx)
		var re *runlog.Error
		if errors.As(err, &re) && re.Store == "" {
			re.Store = s.opts.Name
		}
		return ctx, err
	}
	s.startSweep()
	return actx, nil
}

// newActivation makes the exporter, processor and LoggerProvider of an
// activation of sc.
func (s *Store) newActivation(ctx context.Context, sc runlog.Scope) (*activation, error) {
	a := &activation{}
	a.ID, a.Scope, a.Owner = newID(), sc, s
	exp, err := s.opts.Exporter(ctx, &a.Activation)
	if err != nil {
		return nil, err
	}
	a.exporter = exp
	a.proc = newProcessor(exp, a.ID, &s.opts, s.spool, s.redact, s.memory)
	res := resource.New(sc, a.ID, s.opts.Resource)
	a.provider = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(a.proc))
	a.logs = queueProvider{l: newQueueLogger(res, a.proc.q, a.provider.Logger(s.opts.LoggerName), s.opts.LoggerName)}
	return a, nil
}

// sink is the handler the router gives the activation's records: the
// otelslog bridge to its queueLogger, at the store's minimum level.
func (a *activation) sink(o *Options) slog.Handler {
	h := &levelSink{min: o.MinLevel.Slog(), fast: a.logs.l, source: !o.NoSource, Handler: otelslog.NewHandler(o.LoggerName,
		otelslog.WithLoggerProvider(a.logs), otelslog.WithSource(!o.NoSource))}
	if !o.NoSource {
		h.noSource = otelslog.NewHandler(o.LoggerName, otelslog.WithLoggerProvider(a.logs))
	}
	return h
}

// levelSink keeps records at or above min; the otelslog bridge has no
// level of its own. A record without a source location (PC 0: a captured
// line, a record built by hand) goes through noSource, so that it is not
// stored with empty code.* attributes, which the bridge would add.
//
// The root sink (no With) stores most records without the bridge
// (queueLogger.handle); records it does not cover, and those of derived
// sinks, go through the bridge.
type levelSink struct {
	min slog.Level
	slog.Handler
	noSource slog.Handler // nil with Options.NoSource: Handler has none
	fast     *queueLogger // nil in derived sinks
	source   bool         // Handler adds source locations
}

func (h *levelSink) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h *levelSink) Handle(ctx context.Context, r slog.Record) error {
	if h.fast != nil && h.fast.handle(ctx, r, h.source && r.PC != 0) {
		return nil
	}
	if r.PC == 0 && h.noSource != nil {
		return h.noSource.Handle(ctx, r)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *levelSink) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := &levelSink{min: h.min, Handler: h.Handler.WithAttrs(attrs)}
	if h.noSource != nil {
		h2.noSource = h.noSource.WithAttrs(attrs)
	}
	return h2
}

func (h *levelSink) WithGroup(name string) slog.Handler {
	h2 := &levelSink{min: h.min, Handler: h.Handler.WithGroup(name)}
	if h.noSource != nil {
		h2.noSource = h.noSource.WithGroup(name)
	}
	return h2
}

// Deactivate ends the activation carried by ctx, or the innermost one; see
// runlog.LogStore. A context that is already done when Deactivate starts —
// typically a failed step's, cancelled — would leave no time to flush: the
// flush then gets ExportTimeout instead, so that the logs of a failed step
// are not lost.
func (s *Store) Deactivate(ctx context.Context) error {
	ra := s.router.Lookup(ctx)
	if ra == nil {
		return nil // nothing in force, or ended already
	}
	ctx, cancel := flushContext(ctx, s.opts.ExportTimeout)
	defer cancel()
	if _, ok := s.router.Pop(ra); !ok { // no record reaches the activation any more
		return nil // another Deactivate ended it meanwhile
	}
	a, last := s.forget(s.lookupActivation(ra))
	endTime, logged := a.writeEnd(ctx, s.opts.LoggerName)
	shutErr := a.shutdown(ctx)
	if last {
		s.waitSweep(ctx)
	}
	if err := s.account(a, logged, shutErr); err != nil {
		return err
	}
	s.waitVisible(ctx, a, endTime)
	return nil
}

// flushContext returns ctx, or, when ctx is done already, a context with
// the export timeout that keeps ctx's values.
func flushContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

func (s *Store) lookupActivation(ra *runlog.Activation) *activation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acts[ra]
}

// forget takes a out of the activations in force and reports whether it
// was the last.
func (s *Store) forget(a *activation) (*activation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acts, &a.Activation)
	return a, len(s.acts) == 0
}

// writeEnd emits the activation's end marker, after every record of it,
// with their count; the marker is queued even when the queue is full. It
// returns the marker's time (its stored time is the same or later: see
// prepare) and the count.
func (a *activation) writeEnd(ctx context.Context, loggerName string) (at time.Time, logged uint64) {
	at, logged = time.Now(), a.proc.q.emitted.Load()
	end := resource.EndRecord(runlog.End{Time: at, Count: logged,
		Dropped: a.proc.q.dropped.Load(), Cause: runlog.CauseFrom(ctx)})
	a.provider.Logger(loggerName).Emit(context.WithValue(ctx, keepKey{}, true), end)
	return at, logged
}

// shutdown flushes within ctx (the provider shuts its processor down) and
// stops the activation's worker.
func (a *activation) shutdown(ctx context.Context) error {
	return errors.Join(a.provider.Shutdown(ctx), a.proc.Shutdown(ctx))
}

// Flush exports what every activation in force holds, replaying their
// spool first, then replays the spool files no activation holds (those of
// ended activations and of dead processes), within ctx's deadline. This is
// what `runlog flush` does.
func (s *Store) Flush(ctx context.Context) (ReplayReport, error) {
	s.mu.Lock()
	active := make([]*activation, 0, len(s.acts))
	for _, a := range s.acts {
		active = append(active, a)
	}
	sweep := s.sweeping
	s.mu.Unlock()
	var errs []error
	for _, a := range active {
		errs = append(errs, a.proc.ForceFlush(ctx))
	}
	if s.spool == nil {
		return ReplayReport{}, errors.Join(errs...)
	}
	if sweep != nil { // let the background replay finish first
		select {
		case <-sweep:
		case <-ctx.Done():
			return ReplayReport{Dir: s.spool.dir}, ctx.Err()
		}
	}
	rep, err := s.spool.replayOrphans(ctx, s.opts.Exporter, s.opts.ExportTimeout)
	s.countReplay(rep)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return rep, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "flush", Store: s.opts.Name, Err: err,
			Hint: "check that the backend is reachable; the records stay in " + s.spool.dir + " until a flush succeeds"}
	}
	return rep, nil
}

// startSweep replays, in the background, the spool files no activation
// holds: those of activations that ended with records spooled, or whose
// process died. At most one sweep runs at a time, and after one that left
// files behind the next waits a minute.
func (s *Store) startSweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spool == nil || s.sweeping != nil || time.Now().Before(s.sweepAfter) {
		return
	}
	done := make(chan struct{})
	s.sweeping = done
	go func() {
		defer close(done)
		rep, err := s.spool.replayOrphans(context.Background(), s.opts.Exporter, s.opts.ExportTimeout)
		s.countReplay(rep)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sweeping = nil
		if err != nil || rep.Remaining > 0 {
			s.sweepAfter = time.Now().Add(time.Minute)
		}
	}()
}

// waitSweep waits for a background replay of orphans to end, within ctx.
func (s *Store) waitSweep(ctx context.Context) {
	s.mu.Lock()
	sweep := s.sweeping
	s.mu.Unlock()
	if sweep != nil {
		select {
		case <-sweep:
		case <-ctx.Done():
		}
	}
}

// Fetch reads entries through the store's Fetcher.
func (s *Store) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if s.opts.Fetcher == nil {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "fetch", Store: s.opts.Name,
			Err: errors.New("this store has no Fetcher"), Hint: "set Options.Fetcher to a query adapter for the backend"}
	}
	return s.opts.Fetcher.Fetch(ctx, q)
}

// newID returns 16 random hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
