// Package router does the front-end work every runlog store shares, so that
// a store author writes only the sink, the way a slog.Handler author writes
// only the output and leaves attributes, groups and levels to slog.Logger.
//
// A [Router] owns a store's activations in force and routes every log/slog
// record to one of them:
//
//   - the activation carried by the record's context (slog.InfoContext(ctx,
//     ...), or a logger from runlog.Logger(ctx)), else the innermost
//     activation still in force, else the console alone;
//   - every record also goes to the console: the handler that was the
//     default before the first activation (or Options.Console), at its own
//     level. slog's initial default handler cannot be called from a handler
//     installed as the default (it writes through package log, which
//     slog.SetDefault redirects back), so a stand-in prints the same lines;
//   - loggers derived with With and WithGroup before or during activations
//     replay their attributes and groups onto the handler chosen per record;
//   - the first activation installs the router as the default slog logger;
//     the last one restores the previous default and package log's writer,
//     flags and prefix (slog.SetDefault alone does not);
//   - optionally, the process's stdout and stderr are captured into the
//     innermost activation while any is in force (Options.Stdio).
//
// A store calls [Router.Push] in Activate with the activation and its sink
// (the slog.Handler that writes records to the store, and nothing else),
// [Router.Lookup] and [Router.Pop] in Deactivate. Pop gives the sink back;
// after it returns, no record reaches the sink any more, and none is on
// its way: the store can write its end marker and flush.
//
//	func (s *Store) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
//		if err := sc.Validate(); err != nil {
//			return ctx, err
//		}
//		a := &runlog.Activation{ID: newID(), Scope: sc, Owner: s}
//		return s.router.Push(ctx, a, newSink(a))
//	}
//
// The package depends on the standard library and the runlog contract
// only.
package router

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runlog/runlog"
)

// Options configure a Router. The zero value is a working default.
type Options struct {
	// Console receives every record as well, at its own level. Nil means
	// the default slog handler at the first Push; slog.DiscardHandler
	// stores without printing.
	Console slog.Handler
	// Stdio, if set, starts capturing the process's own stdout and stderr
	// at the first Push and is stopped by the last Pop (before that
	// activation's sink closes, so that what was written drains into it).
	// It is given a handler that stores each record in the innermost
	// activation without printing it (the capture passes output through
	// itself). Package capture's StdioHook is one.
	Stdio func(stored slog.Handler) (Capture, error)
	// StdioStopTimeout bounds how long the last Pop waits for the capture
	// to store what was written (5 s when zero).
	StdioStopTimeout time.Duration
}

// Capture is a running capture of the process's stdout and stderr.
type Capture interface {
	// Original returns the original destination of fd 1 or 2, for
	// output that must not be captured again (the console).
	Original(fd int) *os.File
	// Stop restores the descriptors once what was written is stored.
	Stop() error
}

// Router routes records to a store's activations. Its methods are safe
// for concurrent use.
type Router struct {
	opts Options

	transition sync.Mutex // held by Push and Pop from start to end
	mu         sync.Mutex
	active     []*handler // in activation order; the last is innermost
	innermost  atomic.Pointer[handler]
	saved      *savedDefault // what the first Push replaced
	installed  *slog.Logger  // the default logger the first Push set
	deferred   *savedDefault // what the last Pop did not restore (see restore)
	console    slog.Handler  // while activations are in force
	stdio      Capture
	late       atomic.Uint64 // records logged with the context of an ended activation
}

// Late returns the number of records logged with the context of an
// activation that had ended: they reached the console only, stored
// nowhere. A store reports it (otelstore.Stats.Late) so that no record is
// lost uncounted.
func (r *Router) Late() uint64 { return r.late.Load() }

// New returns a Router with the given options.
func New(opts Options) *Router {
	if opts.StdioStopTimeout <= 0 {
		opts.StdioStopTimeout = 5 * time.Second
	}
	return &Router{opts: opts}
}

// savedDefault is the process's logging set-up before the first Push.
type savedDefault struct {
	logger *slog.Logger
	writer io.Writer
	flags  int
	prefix string
}

// Push puts a in force with sink as the handler that stores its records,
// sets a.Handler to the handler of the activation (sink and console; what
// runlog.Logger(ctx) returns), and returns a copy of ctx carrying a. The
// first Push of a router installs it as the default slog logger.
//
// The sink's Enabled says which levels the store keeps; records below it
// still reach the console. Push does not validate a's scope.
func (r *Router) Push(ctx context.Context, a *runlog.Activation, sink slog.Handler) (context.Context, error) {
	r.transition.Lock()
	defer r.transition.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.active) == 0 {
		if err := r.install(); err != nil {
			return ctx, err
		}
	}
	h := &handler{gate: &gate{router: r, act: a}, sink: sink, console: r.console}
	h.root = h.sink
	a.Handler = h
	r.active = append(r.active, h)
	r.innermost.Store(h)
	return runlog.NewContext(ctx, a), nil
}

// Lookup returns the activation a Deactivate(ctx) ends: the one ctx
// carries when it is this router's and still in force; when ctx carries
// none of this router's, the innermost in force. It returns nil when
// there is none, or when ctx's activation has ended already.
func (r *Router) Lookup(ctx context.Context) *runlog.Activation {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := runlog.FromContext(ctx); ok && r.owns(a) {
		if slices.Contains(r.active, a.Handler.(*handler)) {
			return a
		}
		return nil
	}
	if n := len(r.active); n > 0 {
		return r.active[n-1].gate.act
	}
	return nil
}

// Pop takes a out of routing and returns the sink it was pushed with, and
// whether it was in force; of two Pops of one activation, one returns
// true. When Pop returns, every record that reached a's sink has been
// handled and no other will: records logged later with a's context go to
// the console only. The last Pop stops the stdio capture (first, so that
// its output is stored in a) and restores the default logger.
func (r *Router) Pop(a *runlog.Activation) (sink slog.Handler, ok bool) {
	if !r.owns(a) {
		return nil, false
	}
	h := a.Handler.(*handler)
	r.transition.Lock() // one Push or Pop at a time: "the last" stays the last
	defer r.transition.Unlock()

	r.mu.Lock()
	i := slices.Index(r.active, h)
	if i < 0 {
		r.mu.Unlock()
		return nil, false // popped already
	}
	r.active = slices.Delete(r.active, i, i+1)
	last := len(r.active) == 0
	var st Capture
	if last {
		st, r.stdio = r.stdio, nil // h stays innermost while the capture drains into it
	} else {
		r.innermost.Store(r.active[len(r.active)-1])
	}
	r.mu.Unlock()

	if st != nil {
		r.stopCapture(st)
	}
	h.gate.close() // records in flight to the sink are done
	if last {
		r.mu.Lock()
		r.innermost.Store(nil)
		r.restore()
		r.mu.Unlock()
	}
	return h.root, true
}

// stopCapture stops the stdio capture, waiting at most
// Options.StdioStopTimeout for what was written to be stored: a child
// process that inherited the descriptors and still runs holds the pipes
// open, and must not hold Deactivate forever. What it writes after that
// reaches the original descriptors once the capture ends; nothing of it is
// stored.
func (r *Router) stopCapture(st Capture) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = st.Stop()
	}()
	select {
	case <-done:
	case <-time.After(r.opts.StdioStopTimeout):
	}
}

// owns reports whether a was pushed by r.
func (r *Router) owns(a *runlog.Activation) bool {
	h, ok := a.Handler.(*handler)
	return ok && h.gate.router == r
}

// Active returns the activations in force, innermost last.
func (r *Router) Active() []*runlog.Activation {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*runlog.Activation, len(r.active))
	for i, h := range r.active {
		out[i] = h.gate.act
	}
	return out
}

// install makes the router the default slog handler, remembering what to
// restore. Called with r.mu held.
func (r *Router) install() error {
	r.saved = &savedDefault{logger: slog.Default(), writer: log.Writer(), flags: log.Flags(), prefix: log.Prefix()}
	if r.opts.Stdio != nil {
		st, err := r.opts.Stdio(stored{r})
		if err != nil {
			return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "activate", Err: err,
				Hint: "capturing stdout and stderr needs file descriptors 1 and 2; turn the capture off"}
		}
		r.stdio = st
		if r.saved.writer == os.Stderr {
			r.saved.writer = st.Original(2) // console output must not be captured again
		}
	}
	r.console = r.opts.Console
	if r.console == nil {
		prev := r.saved.logger.Handler()
		r.console = prev
		if isStdDefault(prev) {
			r.console = newLogHandler(log.New(r.saved.writer, r.saved.prefix, r.saved.flags), prev)
		}
	}
	r.installed = slog.New(&routing{router: r, console: r.console})
	slog.SetDefault(r.installed)
	return nil
}

// restore undoes install. slog.SetDefault does not undo the redirection of
// package log it made, so the log writer and flags are restored too.
//
// When someone replaced the default after install (another store's router
// whose activations outlive ours), restore leaves it and keeps what it
// would have restored; that router, when it restores our routing, restores
// what we kept instead. Called with r.mu held.
func (r *Router) restore() {
	saved := r.saved
	r.saved, r.console = nil, nil
	if slog.Default() != r.installed {
		r.deferred = saved
		return
	}
	r.installed = nil
	saved = unwind(saved)
	slog.SetDefault(saved.logger)
	log.SetOutput(saved.writer)
	log.SetFlags(saved.flags)
	log.SetPrefix(saved.prefix)
}

// unwind follows saved past the routing of routers that ended while
// another was installed after them, to the set-up they would have
// restored.
func unwind(saved *savedDefault) *savedDefault {
	for {
		rt, ok := saved.logger.Handler().(*routing)
		if !ok {
			return saved
		}
		r := rt.router
		r.mu.Lock()
		d := r.deferred
		if d != nil && r.installed == saved.logger {
			r.deferred, r.installed = nil, nil
		} else {
			d = nil // in force again, or not ended: leave it installed
		}
		r.mu.Unlock()
		if d == nil {
			return saved
		}
		saved = d
	}
}

// gate lets records into an activation's sink until the activation ends.
// It is shared by the handlers derived from the activation's with
// WithAttrs and WithGroup.
type gate struct {
	router *Router
	act    *runlog.Activation
	mu     sync.RWMutex // held for reading while a record is in the sink
	ended  bool
}

// close ends the gate once every record in the sink has been handled; it
// reports false if it was closed already.
func (g *gate) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return false
	}
	g.ended = true
	return true
}

// handler is the slog.Handler of one activation: records the sink wants
// go to the sink while the activation is in force, and records the console
// wants go to the console.
type handler struct {
	gate    *gate
	sink    slog.Handler
	console slog.Handler
	root    slog.Handler // the sink as given to Push, before With
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	if ctx == nil {
		ctx = context.Background()
	}
	return h.sink.Enabled(ctx, l) || h.console.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil { // as slog.Logger does; a nil context must not panic a sink
		ctx = context.Background()
	}
	err := h.store(ctx, r)
	if h.console.Enabled(ctx, r.Level) {
		if cerr := h.console.Handle(ctx, r); err == nil {
			err = cerr
		}
	}
	return err
}

// store sends r to the sink, not to the console. A record that comes
// after its activation ended is counted (Router.Late), not stored.
func (h *handler) store(ctx context.Context, r slog.Record) error {
	if !h.sink.Enabled(ctx, r.Level) {
		return nil
	}
	h.gate.mu.RLock()
	defer h.gate.mu.RUnlock()
	if h.gate.ended {
		h.gate.router.late.Add(1)
		return nil
	}
	return h.sink.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{gate: h.gate, sink: h.sink.WithAttrs(attrs), console: h.console.WithAttrs(attrs), root: h.root}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{gate: h.gate, sink: h.sink.WithGroup(name), console: h.console.WithGroup(name), root: h.root}
}

// stored is the handler given to Options.Stdio: it stores records in the
// innermost activation, without printing them.
type stored struct{ r *Router }

func (s stored) Enabled(context.Context, slog.Level) bool { return true }

func (s stored) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	h := s.r.innermost.Load()
	if h == nil {
		return nil
	}
	return h.store(ctx, r)
}

func (s stored) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s stored) WithGroup(string) slog.Handler      { return s }
