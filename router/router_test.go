package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/router"
)

// recorder is a sink that keeps the messages it is given, with the
// attributes of WithAttrs and WithGroup rendered as "g.k=v".
type recorder struct {
	mu     *sync.Mutex
	msgs   *[]string
	prefix string
	attrs  string
	min    slog.Level
}

func newRecorder() *recorder { return &recorder{mu: new(sync.Mutex), msgs: new([]string)} }

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := rec.Message + r.attrs
	rec.Attrs(func(a slog.Attr) bool {
		msg += " " + r.prefix + a.Key + "=" + a.Value.String()
		return true
	})
	*r.msgs = append(*r.msgs, msg)
	return nil
}
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	r2 := *r
	for _, a := range as {
		r2.attrs += " " + r.prefix + a.Key + "=" + a.Value.String()
	}
	return &r2
}
func (r *recorder) WithGroup(name string) slog.Handler {
	r2 := *r
	r2.prefix += name + "."
	return &r2
}
func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), *r.msgs...)
}

func push(t *testing.T, r *router.Router, ctx context.Context, run string, sink slog.Handler) (context.Context, *runlog.Activation) {
	t.Helper()
	a := &runlog.Activation{ID: run, Scope: runlog.Scope{RunID: run}}
	ctx, err := r.Push(ctx, a, sink)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, a
}

func equal(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s got %q; want %q", what, got, want)
	}
}

// TestRouting: a record goes to the activation in its context, else to
// the innermost in force, else to the console alone; every record reaches
// the console too.
func TestRouting(t *testing.T) {
	console := newRecorder()
	r := router.New(router.Options{Console: console})
	outer, inner := newRecorder(), newRecorder()
	octx, oa := push(t, r, t.Context(), "outer", outer)
	ictx, ia := push(t, r, octx, "inner", inner)

	slog.InfoContext(octx, "to outer by context")
	slog.InfoContext(ictx, "to inner by context")
	slog.Info("to the innermost")
	runlog.Logger(octx).Info("to outer by logger")

	if _, ok := r.Pop(ia); !ok {
		t.Fatal("Pop of the inner activation = false")
	}
	slog.Info("to outer, innermost now")
	slog.InfoContext(ictx, "inner ended: console only")
	if _, ok := r.Pop(oa); !ok {
		t.Fatal("Pop of the outer activation = false")
	}
	equal(t, "outer", outer.got(), "to outer by context", "to outer by logger", "to outer, innermost now")
	equal(t, "inner", inner.got(), "to inner by context", "to the innermost")
	equal(t, "console", console.got(), "to outer by context", "to inner by context", "to the innermost",
		"to outer by logger", "to outer, innermost now", "inner ended: console only")
}

// TestLookupAndPop: Lookup finds the context's activation, else the
// innermost; a second Pop of one activation reports false; Pop gives back
// the sink of Push; an activation of another router is not this one's.
func TestLookupAndPop(t *testing.T) {
	r := router.New(router.Options{Console: slog.DiscardHandler})
	other := router.New(router.Options{Console: slog.DiscardHandler})
	if a := r.Lookup(t.Context()); a != nil {
		t.Fatalf("Lookup with nothing in force = %v", a)
	}
	sink := newRecorder()
	ctx, a := push(t, r, t.Context(), "a", sink)
	_, b := push(t, r, t.Context(), "b", newRecorder())
	if got := r.Lookup(ctx); got != a {
		t.Errorf("Lookup(ctx of a) = %v", got)
	}
	if got := r.Lookup(t.Context()); got != b {
		t.Errorf("Lookup(no activation) = %v; want the innermost", got)
	}
	octx, oa := push(t, other, t.Context(), "o", newRecorder())
	if got := r.Lookup(octx); got != b {
		t.Errorf("Lookup(another router's activation) = %v; want this router's innermost", got)
	}
	if _, ok := r.Pop(oa); ok {
		t.Error("Pop of another router's activation = true")
	}
	h, ok := r.Pop(a)
	if !ok || h != slog.Handler(sink) {
		t.Errorf("Pop(a) = %v, %v; want its sink, true", h, ok)
	}
	if _, ok := r.Pop(a); ok {
		t.Error("second Pop(a) = true")
	}
	if got := r.Lookup(ctx); got != nil {
		t.Errorf("Lookup(ctx of ended a) = %v; want nil", got)
	}
	if got := r.Active(); len(got) != 1 || got[0] != b {
		t.Errorf("Active = %v; want [b]", got)
	}
	other.Pop(oa)
	r.Pop(b)
}

// TestTwoRouters: two stores' routers in one process, installed one after
// the other and ended in any order: a record logged with an activation's
// context reaches that activation once, a record without one reaches the
// innermost activation of each store, none loops between the two, and the
// first default is back at the end.
func TestTwoRouters(t *testing.T) {
	prev := slog.Default()
	console := newRecorder()
	slog.SetDefault(slog.New(console))
	defer slog.SetDefault(prev)
	ra, rb := router.New(router.Options{}), router.New(router.Options{})
	sa, sb := newRecorder(), newRecorder()
	actx, a := push(t, ra, t.Context(), "a", sa)
	bctx, b := push(t, rb, t.Context(), "b", sb)
	slog.InfoContext(actx, "a by context")
	slog.InfoContext(bctx, "b by context")
	slog.Info("no context: each store's innermost")
	ra.Pop(a) // not in LIFO order
	slog.InfoContext(bctx, "b after a ended")
	slog.InfoContext(actx, "a ended: console")
	rb.Pop(b)
	slog.Info("after both")
	if slog.Default().Handler() != slog.Handler(console) {
		t.Errorf("default handler at the end is %T; want the first one", slog.Default().Handler())
	}
	equal(t, "a", sa.got(), "a by context", "no context: each store's innermost")
	equal(t, "b", sb.got(), "b by context", "no context: each store's innermost", "b after a ended")
	equal(t, "console", console.got(), "a by context", "b by context", "no context: each store's innermost",
		"b after a ended", "a ended: console", "after both")
}

// TestPopWaitsForRecordsInFlight: a record being handled by the sink when
// Pop is called is finished before Pop returns.
func TestPopWaitsForRecordsInFlight(t *testing.T) {
	r := router.New(router.Options{Console: slog.DiscardHandler})
	entered, release := make(chan struct{}), make(chan struct{})
	var done bool
	sink := &blocking{entered: entered, release: release, done: &done}
	ctx, a := push(t, r, t.Context(), "a", sink)
	go slog.InfoContext(ctx, "slow")
	<-entered
	popped := make(chan struct{})
	go func() { r.Pop(a); close(popped) }()
	select {
	case <-popped:
		t.Fatal("Pop returned while a record was in the sink")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-popped
	if !done {
		t.Fatal("the record in flight was not finished")
	}
}

type blocking struct {
	entered, release chan struct{}
	done             *bool
}

func (b *blocking) Enabled(context.Context, slog.Level) bool { return true }
func (b *blocking) Handle(context.Context, slog.Record) error {
	close(b.entered)
	<-b.release
	*b.done = true
	return nil
}
func (b *blocking) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *blocking) WithGroup(string) slog.Handler      { return b }

// TestWithReplayed: a logger derived with With and WithGroup before any
// activation sends its attributes to whichever activation a record goes
// to, and the console gets them too.
func TestWithReplayed(t *testing.T) {
	console := newRecorder()
	r := router.New(router.Options{Console: console})
	sa, sb := newRecorder(), newRecorder()
	actx, a := push(t, r, t.Context(), "a", sa)
	lg := slog.Default().With("k", 1).WithGroup("g").With("x", "y")
	bctx, b := push(t, r, t.Context(), "b", sb)
	lg.InfoContext(actx, "one")
	lg.InfoContext(bctx, "two")
	lg.Info("three")
	r.Pop(b)
	r.Pop(a)
	equal(t, "a", sa.got(), "one k=1 g.x=y")
	equal(t, "b", sb.got(), "two k=1 g.x=y", "three k=1 g.x=y")
	equal(t, "console", console.got(), "one k=1 g.x=y", "two k=1 g.x=y", "three k=1 g.x=y")
}

// TestLevels: the sink's level decides what is stored, the console's what
// is printed.
func TestLevels(t *testing.T) {
	console := newRecorder()
	console.min = slog.LevelWarn
	r := router.New(router.Options{Console: console})
	sink := newRecorder()
	sink.min = slog.LevelDebug
	ctx, a := push(t, r, t.Context(), "a", sink)
	if !slog.Default().Enabled(ctx, slog.LevelDebug) {
		t.Error("DEBUG not enabled though the sink stores it")
	}
	slog.DebugContext(ctx, "debug")
	slog.WarnContext(ctx, "warn")
	r.Pop(a)
	equal(t, "sink", sink.got(), "debug", "warn")
	equal(t, "console", console.got(), "warn")
}

// TestDefaultRestored: the first Push installs the router as default slog
// logger, the last Pop restores the previous logger and package log's
// writer, flags and prefix; slog's initial default handler is stood in
// for with the same text, through package log's writer.
func TestDefaultRestored(t *testing.T) {
	var console bytes.Buffer
	defer log.SetOutput(log.Writer())
	defer log.SetFlags(log.Flags())
	defer log.SetPrefix(log.Prefix())
	log.SetOutput(&console)
	log.SetFlags(0)
	log.SetPrefix("")
	before := slog.Default()

	r := router.New(router.Options{}) // console: the default
	sink := newRecorder()
	ctx, a := push(t, r, t.Context(), "a", sink)
	if slog.Default() == before {
		t.Fatal("Push did not install the router")
	}
	slog.InfoContext(ctx, "via slog", "k", "v")
	log.Print("via package log")
	r.Pop(a)
	slog.Info("after")
	if slog.Default() != before {
		t.Error("default slog logger not restored")
	}
	if log.Writer() != &console || log.Flags() != 0 {
		t.Error("package log's writer and flags not restored")
	}
	equal(t, "sink", sink.got(), "via slog k=v", "via package log")
	if want := "INFO via slog k=v\nINFO via package log\nINFO after\n"; console.String() != want {
		t.Errorf("console:\n%s\nwant:\n%s", console.String(), want)
	}
}

// TestStdioHook: the capture starts at the first Push with a handler that
// stores in the innermost activation without printing, and stops at the
// last Pop, before the sink is closed.
func TestStdioHook(t *testing.T) {
	console := newRecorder()
	fake := &fakeCapture{}
	r := router.New(router.Options{Console: console, Stdio: func(h slog.Handler) (router.Capture, error) {
		fake.h = h
		return fake, nil
	}})
	sa, sb := newRecorder(), newRecorder()
	_, a := push(t, r, t.Context(), "a", sa)
	_, b := push(t, r, t.Context(), "b", sb)
	if fake.h == nil {
		t.Fatal("Stdio hook not started")
	}
	emit := func(msg string) {
		_ = fake.h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0))
	}
	emit("captured while b is innermost")
	r.Pop(b)
	fake.onStop = func() { emit("drained at the last Pop") }
	r.Pop(a)
	if !fake.stopped {
		t.Error("capture not stopped by the last Pop")
	}
	equal(t, "b", sb.got(), "captured while b is innermost")
	equal(t, "a", sa.got(), "drained at the last Pop")
	equal(t, "console", console.got())
}

type fakeCapture struct {
	h       slog.Handler
	onStop  func()
	stopped bool
}

func (f *fakeCapture) Original(int) *os.File { return os.Stderr }
func (f *fakeCapture) Stop() error {
	if f.onStop != nil {
		f.onStop()
	}
	f.stopped = true
	return nil
}

// TestSlogtest: the handler of an activation is a correct slog.Handler
// (testing/slogtest) when its sink is one.
func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	r := router.New(router.Options{Console: slog.DiscardHandler})
	_, a := push(t, r, t.Context(), "a", slog.NewJSONHandler(&buf, nil))
	defer r.Pop(a)
	results := func() []map[string]any {
		var ms []map[string]any
		for line := range bytes.Lines(buf.Bytes()) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	if err := slogtest.TestHandler(a.Handler, results); err != nil {
		t.Error(err)
	}
}

// TestNilContextAndLate: a nil context (slog.Logger turns it into
// Background; a direct Handle call may not) neither panics nor wedges the
// activation; a record logged with an ended activation's context is
// counted, not silently lost.
func TestNilContextAndLate(t *testing.T) {
	console := newRecorder()
	r := router.New(router.Options{Console: console})
	outer := newRecorder()
	_, o := push(t, r, t.Context(), "outer", outer)
	defer r.Pop(o)
	sink := newRecorder()
	ctx, a := push(t, r, t.Context(), "a", sink)
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "nil context", 0)
	//lint:ignore SA1012 a nil context is the case under test
	if err := a.Handler.Handle(nil, rec); err != nil { //nolint:staticcheck
		t.Fatal(err)
	}
	//lint:ignore SA1012 a nil context is the case under test
	if err := slog.Default().Handler().Handle(nil, slog.NewRecord(time.Now(), slog.LevelInfo, "nil via default", 0)); err != nil { //nolint:staticcheck
		t.Fatal(err)
	}
	if _, ok := r.Pop(a); !ok {
		t.Fatal("Pop after a nil-context record = false")
	}
	slog.InfoContext(ctx, "after the end")
	runlog.Logger(ctx).Info("after the end, by logger")
	equal(t, "sink", sink.got(), "nil context", "nil via default")
	equal(t, "outer", outer.got())
	if n := r.Late(); n != 2 {
		t.Errorf("Late = %d; want the 2 records logged after Pop", n)
	}
	equal(t, "console", console.got(), "nil context", "nil via default", "after the end", "after the end, by logger")
}

// TestConcurrentLastPops: two activations ended at once (parallel steps
// finishing together): the capture is stopped exactly once and the
// default logger restored; a Push after them starts a new capture.
func TestConcurrentLastPops(t *testing.T) {
	before := slog.Default()
	for range 50 {
		var starts, stops atomic.Int32
		r := router.New(router.Options{Console: slog.DiscardHandler, Stdio: func(slog.Handler) (router.Capture, error) {
			starts.Add(1)
			return &countingCapture{stops: &stops}, nil
		}})
		_, a := push(t, r, t.Context(), "a", newRecorder())
		_, b := push(t, r, t.Context(), "b", newRecorder())
		var wg sync.WaitGroup
		for _, x := range []*runlog.Activation{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); r.Pop(x) }()
		}
		wg.Wait()
		if starts.Load() != 1 || stops.Load() != 1 || len(r.Active()) != 0 || slog.Default() != before {
			t.Fatalf("after two Pops at once: %d starts, %d stops, %d active, default restored %v; want 1, 1, 0, true",
				starts.Load(), stops.Load(), len(r.Active()), slog.Default() == before)
		}
		_, c := push(t, r, t.Context(), "c", newRecorder())
		r.Pop(c)
		if starts.Load() != 2 || stops.Load() != 2 {
			t.Fatalf("a later activation: %d starts, %d stops; want 2, 2", starts.Load(), stops.Load())
		}
	}
}

// TestStopCaptureBounded: a capture that never finishes (a child process
// holds the pipes) does not hold the last Pop past StdioStopTimeout.
func TestStopCaptureBounded(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	r := router.New(router.Options{Console: slog.DiscardHandler, StdioStopTimeout: 50 * time.Millisecond,
		Stdio: func(slog.Handler) (router.Capture, error) { return blockingCapture(block), nil }})
	_, a := push(t, r, t.Context(), "a", newRecorder())
	done := make(chan struct{})
	go func() { r.Pop(a); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Pop waited on a capture that never stops")
	}
}

type countingCapture struct{ stops *atomic.Int32 }

func (c *countingCapture) Original(int) *os.File { return os.Stderr }
func (c *countingCapture) Stop() error           { c.stops.Add(1); return nil }

type blockingCapture chan struct{}

func (b blockingCapture) Original(int) *os.File { return os.Stderr }
func (b blockingCapture) Stop() error           { <-b; return nil }
