package otelstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/resource"
)

// Options configure a Store. The zero value of every field but Exporter is
// a working default.
type Options struct {
	// Name says which store errors come from, such as "local /var/runlog".
	Name string
	// Exporter makes the exporter of one activation. Required.
	Exporter func(ctx context.Context, a *runlog.Activation) (sdklog.Exporter, error)
	// Fetcher reads back what the exporters wrote. Without one, Fetch
	// returns an error.
	Fetcher runlog.Fetcher
	// MinLevel is the lowest level stored. Zero means $RUNLOG_LEVEL if set
	// (debug, info, ...), else INFO. Set LevelDebug to store DEBUG records.
	MinLevel runlog.Level
	// Resource holds extra resource attributes for every activation, such
	// as service.name (default "runlog"). A scope's own attributes win.
	Resource map[string]string
	// LoggerName is the instrumentation scope of the records, LogEntry.Name.
	// Default "runlog".
	LoggerName string
	// NoSource leaves out the file, line and function of each log call,
	// which cost a runtime.CallersFrames lookup per record.
	NoSource bool
	// Console receives every record as well, at its own level. Nil means
	// the default slog handler at the first Activate; use
	// slog.DiscardHandler to store without printing.
	Console slog.Handler
	// CaptureStdio captures the process's own stdout and stderr at the file
	// descriptor level while the store has activations (so fmt.Println, C
	// code and child processes are captured): each line is stored in the
	// innermost activation (stdout INFO, stderr WARN) and still printed.
	// The last Deactivate restores the descriptors. When the console is
	// slog's initial default handler it writes to the original stderr;
	// a Console of your own that writes to os.Stderr would be captured too.
	CaptureStdio bool
	// MaxMessageBytes is the longest message stored in one record; longer
	// ones are split into chunks. Default 64 KiB.
	MaxMessageBytes int
	// BatchSize is the most records per export. Default 1024.
	BatchSize int
	// QueueSize is the most records held in memory per activation before
	// logging blocks. Default 4096 (about 2 MiB).
	QueueSize int
	// ExportInterval is the longest a record waits before export. Default 1s.
	ExportInterval time.Duration
	// ExportTimeout bounds one export. Default 30s.
	ExportTimeout time.Duration

	// Overflow says what logging does when QueueSize records wait in
	// memory: OverflowBlock (the default) waits for the exporter, losing
	// nothing; OverflowDrop drops the record and counts it (Deactivate's
	// error, the end marker, the otel.sdk.processor.log.processed metric).
	Overflow Overflow
	// SpoolDir is where records that could not be exported are kept until
	// they are replayed: by the activation itself once the backend is back,
	// else by the next Activate, Store.Flush or `runlog flush`. Empty means
	// DefaultSpoolDir(Name). See docs/reliability.md.
	SpoolDir string
	// NoSpool turns the spool off: records that cannot be exported are
	// dropped and counted.
	NoSpool bool
	// SpoolSync is the spool's fsync policy; default SyncAlways.
	SpoolSync SyncPolicy
	// SpoolMaxBytes bounds the spool directory; records that do not fit
	// are dropped and counted, with an error naming the directory.
	// Default 1 GiB.
	SpoolMaxBytes int64
	// SpoolMaxAge is how long a spool file waits for its backend: older
	// ones are removed, unreplayed, by the next replay. Default 7 days.
	SpoolMaxAge time.Duration
}

// Overflow is what logging does when an activation's queue is full.
type Overflow string

const (
	OverflowBlock Overflow = "block" // wait for the exporter: nothing is lost
	OverflowDrop  Overflow = "drop"  // drop the record, counting it
)

func (o *Options) setDefaults() error {
	if o.Exporter == nil {
		return runlog.Invalidf("otelstore: Options.Exporter is nil; give a function that makes an sdk/log exporter")
	}
	if o.MinLevel == 0 {
		o.MinLevel = runlog.LevelInfo
		if env := os.Getenv("RUNLOG_LEVEL"); env != "" {
			l, err := runlog.ParseLevel(env)
			if err != nil {
				return fmt.Errorf("RUNLOG_LEVEL: %w", err)
			}
			o.MinLevel = l
		}
	}
	if o.LoggerName == "" {
		o.LoggerName = "runlog"
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxMessageBytes, 64<<10)
	def(&o.BatchSize, 1024)
	def(&o.QueueSize, 4096)
	o.QueueSize = max(o.QueueSize, o.BatchSize)
	if o.ExportInterval <= 0 {
		o.ExportInterval = time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 30 * time.Second
	}
	switch o.Overflow {
	case "":
		o.Overflow = OverflowBlock
	case OverflowBlock, OverflowDrop:
	default:
		return runlog.Invalidf("otelstore: Overflow %q; use block or drop", o.Overflow)
	}
	switch o.SpoolSync {
	case "":
		o.SpoolSync = SyncAlways
	case SyncAlways, SyncNever:
	default:
		return runlog.Invalidf("otelstore: SpoolSync %q; use always or never", o.SpoolSync)
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = 1 << 30
	}
	if o.SpoolMaxAge <= 0 {
		o.SpoolMaxAge = 7 * 24 * time.Hour
	}
	if o.SpoolDir == "" && !o.NoSpool {
		d, err := DefaultSpoolDir(o.Name)
		if err != nil {
			return runlog.Invalidf("otelstore: no spool directory: %v; set Options.SpoolDir or RUNLOG_SPOOL_DIR, or NoSpool", err)
		}
		o.SpoolDir = d
	}
	return nil
}

// DefaultSpoolDir returns the spool directory of the store named key:
// a directory named after key under $RUNLOG_SPOOL_DIR, else under
// runlog/spool in the user's cache directory. Stores that write to
// different backends need different keys: a spool is replayed to the
// backend of the store that opens it.
func DefaultSpoolDir(key string) (string, error) {
	root := os.Getenv("RUNLOG_SPOOL_DIR")
	if root == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		root = filepath.Join(d, "runlog", "spool")
	}
	if key == "" {
		key = "default"
	}
	return filepath.Join(root, layout.Key(key)), nil
}

// Store is a runlog.LogStore that writes through OpenTelemetry.
type Store struct {
	opts Options

	mu        sync.Mutex
	active    []*activation // in activation order; the last is innermost
	innermost atomic.Pointer[activation]
	saved     *savedDefault // what the first Activate replaced
	stdio     *capture.Stdio

	stats      struct{ logged, delivered, spooled, replayed, dropped atomic.Uint64 }
	spool      *spool        // nil with NoSpool
	sweeping   chan struct{} // closed when the running replay of orphans ends
	sweepAfter time.Time     // no automatic replay of orphans before
}

var _ runlog.LogStore = (*Store)(nil)

// savedDefault is the process's logging set-up before the first Activate.
type savedDefault struct {
	logger *slog.Logger
	writer io.Writer
	flags  int
	prefix string
}

type activation struct {
	runlog.Activation
	minLevel slog.Level
	provider *sdklog.LoggerProvider
	proc     *batcher
	exporter sdklog.Exporter

	mu    sync.RWMutex // held for reading while a record is emitted
	ended bool
}

// New returns a Store with the given options.
func New(opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Store{opts: opts}
	if !opts.NoSpool {
		s.spool = &spool{dir: opts.SpoolDir, sync: opts.SpoolSync, maxBytes: opts.SpoolMaxBytes, maxAge: opts.SpoolMaxAge}
	}
	return s, nil
}

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
}

func (st Stats) String() string {
	return fmt.Sprintf("logged %d, delivered %d, spooled %d (replayed %d), dropped %d",
		st.Logged, st.Delivered, st.Spooled, st.Replayed, st.Dropped)
}

// Stats returns the store's counts so far.
func (s *Store) Stats() Stats {
	return Stats{Logged: s.stats.logged.Load(), Delivered: s.stats.delivered.Load(), Spooled: s.stats.spooled.Load(),
		Replayed: s.stats.replayed.Load(), Dropped: s.stats.dropped.Load()}
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
	a := &activation{minLevel: s.opts.MinLevel.Slog()}
	a.ID = newID()
	a.Scope = sc
	a.Owner = s
	exp, err := s.opts.Exporter(ctx, &a.Activation)
	if err != nil {
		return ctx, &runlog.Error{Kind: runlog.ErrInvalid, Op: "activate", Store: s.opts.Name, Err: err}
	}
	a.exporter = exp
	a.proc = newBatcher(exp, a.ID, &s.opts, s.spool)
	a.provider = sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.New(sc, a.ID, s.opts.Resource)),
		sdklog.WithProcessor(a.proc),
	)
	otelH := otelslog.NewHandler(s.opts.LoggerName,
		otelslog.WithLoggerProvider(a.provider),
		otelslog.WithSource(!s.opts.NoSource))

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.active) == 0 {
		if err := s.installDefault(); err != nil {
			_ = a.provider.Shutdown(ctx)
			return ctx, err
		}
	}
	a.Handler = &activationHandler{act: a, otel: otelH, console: s.console()}
	s.active = append(s.active, a)
	s.innermost.Store(a)
	s.startSweep()
	return runlog.NewContext(ctx, &a.Activation), nil
}

// startSweep replays, in the background, the spool files no activation
// holds: those of activations that ended with records spooled, or whose
// process died. At most one sweep runs at a time, and after one that left
// files behind the next waits a minute. Called with s.mu held.
func (s *Store) startSweep() {
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

// Flush exports what every activation in force holds, replaying their
// spool first, then replays the spool files no activation holds (those of
// ended activations and of dead processes), within ctx's deadline. This is
// what `runlog flush` does.
func (s *Store) Flush(ctx context.Context) (ReplayReport, error) {
	s.mu.Lock()
	active := slices.Clone(s.active)
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

// console returns where records are printed. Called with s.mu held and s.saved set.
func (s *Store) console() slog.Handler {
	if s.opts.Console != nil {
		return s.opts.Console
	}
	prev := s.saved.logger.Handler()
	if isStdDefault(prev) {
		return newLogHandler(log.New(s.saved.writer, s.saved.prefix, s.saved.flags), prev)
	}
	return prev
}

// installDefault makes the router the default slog handler, remembering
// what to restore. Called with s.mu held.
func (s *Store) installDefault() error {
	s.saved = &savedDefault{logger: slog.Default(), writer: log.Writer(), flags: log.Flags(), prefix: log.Prefix()}
	if s.opts.CaptureStdio {
		st, err := capture.StartStdio(capturedOutput{s})
		if err != nil {
			return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "activate", Store: s.opts.Name, Err: err,
				Hint: "capturing stdout and stderr needs file descriptors 1 and 2; turn CaptureStdio off"}
		}
		s.stdio = st
		if s.saved.writer == os.Stderr {
			s.saved.writer = st.Original(2) // console output must not be captured again
		}
	}
	slog.SetDefault(slog.New(&router{store: s, console: s.console()}))
	return nil
}

// restoreDefault undoes installDefault. slog.SetDefault does not undo the
// redirection of package log it made, so the log writer and flags are
// restored too. Called with s.mu held.
func (s *Store) restoreDefault() {
	slog.SetDefault(s.saved.logger)
	log.SetOutput(s.saved.writer)
	log.SetFlags(s.saved.flags)
	log.SetPrefix(s.saved.prefix)
	s.saved = nil
}

// Deactivate ends the activation carried by ctx, or the innermost one; see
// runlog.LogStore. A context that is already done when Deactivate starts —
// typically a failed step's, cancelled — would leave no time to flush: the
// flush then gets ExportTimeout instead, so that the logs of a failed step
// are not lost.
func (s *Store) Deactivate(ctx context.Context) error {
	a := s.lookup(ctx)
	if a == nil {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.opts.ExportTimeout)
		defer cancel()
	}
	s.mu.Lock()
	if s.stdio != nil && len(s.active) == 1 && s.active[0] == a {
		// The last activation: let captured output drain into it first.
		_ = s.stdio.Stop()
		s.stdio = nil
	}
	s.mu.Unlock()
	a.mu.Lock()
	if a.ended {
		a.mu.Unlock()
		return nil
	}
	a.ended = true
	a.mu.Unlock()

	s.mu.Lock()
	if i := slices.Index(s.active, a); i >= 0 {
		s.active = slices.Delete(s.active, i, i+1)
	}
	last := len(s.active) == 0
	if n := len(s.active); n > 0 {
		s.innermost.Store(s.active[n-1])
	} else {
		s.innermost.Store(nil)
		s.restoreDefault()
	}
	s.mu.Unlock()

	// The end marker: after every record of the activation, with their count.
	p := a.proc
	logged := p.emitted.Load()
	var end otellog.Record
	end.SetTimestamp(time.Now())
	end.SetSeverity(otellog.SeverityInfo)
	end.SetSeverityText("INFO")
	end.SetBody(attribute.StringValue("end of activation")) // Loki drops empty lines
	end.AddAttributes(
		attribute.Bool(resource.End, true),
		attribute.Int64(resource.EndCount, int64(logged)),
		attribute.Int64(resource.EndDropped, int64(p.dropped.Load())),
		attribute.String(resource.EndCause, runlog.CauseFrom(ctx)),
	)
	a.provider.Logger(s.opts.LoggerName).Emit(context.WithValue(ctx, keepKey{}, true), end)

	// Shutdown flushes (the provider shuts its processor down) within ctx.
	shutErr := errors.Join(a.provider.Shutdown(ctx), p.Shutdown(ctx))
	if last {
		s.waitSweep(ctx)
	}
	delivered, spooled, lost, pending := p.account()
	dropped := p.dropped.Load() + lost
	s.stats.logged.Add(logged)
	s.stats.delivered.Add(delivered)
	s.stats.spooled.Add(p.spooled.Load())
	s.stats.replayed.Add(p.replayed.Load() - min(p.replayed.Load(), p.lostReplay.Load()))
	s.stats.dropped.Add(dropped)
	if spooled == 0 && dropped == 0 && pending == 0 && shutErr == nil {
		return nil
	}
	exportErr, spoolErr, segPath := p.errs()
	de := &runlog.DeliveryError{Scope: a.Scope, Activation: a.ID, Logged: logged,
		Delivered: delivered, Spooled: spooled, SpoolPath: segPath, Dropped: dropped, Pending: pending,
		Err: errors.Join(exportErr, spoolErr, shutErr)}
	e := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "deactivate", Store: s.opts.Name, Err: de}
	switch {
	case lost > 0 && s.spool != nil:
		e.Hint = fmt.Sprintf("%d records could not be spooled: make %s writable, free space or raise the spool's maximum size (spool_max_bytes)", lost, s.spool.dir)
	case lost > 0:
		e.Hint = "turn the spool on to keep records the backend refuses"
	case spooled > 0:
		e.Hint = "they are replayed by the next Activate, Store.Flush or `runlog flush` once the backend is reachable"
	case pending > 0:
		e.Hint = "give Deactivate a longer deadline; records still in memory are lost when the process exits"
	case p.dropped.Load() > 0:
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

func (s *Store) countReplay(rep ReplayReport) {
	s.stats.delivered.Add(rep.Replayed)
	s.stats.replayed.Add(rep.Replayed)
	s.stats.dropped.Add(rep.Unreadable)
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

func (s *Store) lookup(ctx context.Context) *activation {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ra, ok := runlog.FromContext(ctx); ok && ra.Owner == runlog.LogStore(s) {
		for _, a := range s.active {
			if &a.Activation == ra {
				return a
			}
		}
		return nil // already ended
	}
	if n := len(s.active); n > 0 {
		return s.active[n-1]
	}
	return nil
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
