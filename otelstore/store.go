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
	// logging blocks. Default 16384.
	QueueSize int
	// ExportInterval is the longest a record waits before export. Default 1s.
	ExportInterval time.Duration
	// ExportTimeout bounds one export. Default 30s.
	ExportTimeout time.Duration
}

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
	def(&o.QueueSize, 16384)
	o.QueueSize = max(o.QueueSize, o.BatchSize)
	if o.ExportInterval <= 0 {
		o.ExportInterval = time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 30 * time.Second
	}
	return nil
}

// Store is a runlog.LogStore that writes through OpenTelemetry.
type Store struct {
	opts Options

	mu        sync.Mutex
	active    []*activation // in activation order; the last is innermost
	innermost atomic.Pointer[activation]
	saved     *savedDefault // what the first Activate replaced
	stdio     *capture.Stdio
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
	return &Store{opts: opts}, nil
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
	a.proc = newBatcher(exp, a.ID, &s.opts)
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
	return runlog.NewContext(ctx, &a.Activation), nil
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
	if n := len(s.active); n > 0 {
		s.innermost.Store(s.active[n-1])
	} else {
		s.innermost.Store(nil)
		s.restoreDefault()
	}
	s.mu.Unlock()

	// The end marker: after every record of the activation, with their count.
	logged := a.proc.emitted.Load()
	var end otellog.Record
	end.SetTimestamp(time.Now())
	end.SetSeverity(otellog.SeverityInfo)
	end.SetSeverityText("INFO")
	end.SetBody(attribute.StringValue("end of activation")) // Loki drops empty lines
	end.AddAttributes(
		attribute.Bool(resource.End, true),
		attribute.Int64(resource.EndCount, int64(logged)),
		attribute.String(resource.EndCause, "ok"),
	)
	a.provider.Logger(s.opts.LoggerName).Emit(ctx, end)

	flushErr := a.provider.ForceFlush(ctx)
	shutErr := errors.Join(a.provider.Shutdown(ctx), a.proc.Shutdown(ctx))
	p := a.proc
	// Counts are of the activation's records; the end marker is not one.
	failed, pending := min(p.failed.Load(), logged), min(p.emitted.Load()-p.taken.Load(), logged)
	if failed == 0 && pending == 0 && flushErr == nil && shutErr == nil {
		return nil
	}
	e := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "deactivate", Store: s.opts.Name,
		Err: fmt.Errorf("%s: %d records (or chunks) failed to export and %d were still queued: %w",
			a.Scope, failed, pending, errors.Join(p.err(), flushErr, shutErr)),
		Hint: "check that the backend is reachable"}
	if fe, ok := a.exporter.(*FileExporter); ok {
		e.Hint = "check that " + fe.Path() + " is writable"
	}
	return e
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
