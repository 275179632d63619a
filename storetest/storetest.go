// Package storetest is the conformance suite of runlog.LogStore, in the
// spirit of testing/slogtest: any store, built in or written by you, runs it
// from a test and gets told, check by check, where it departs from the
// contract.
//
//	func TestConformance(t *testing.T) {
//		store := newMyStore(t) // must store DEBUG records
//		storetest.Run(t, storetest.Harness{Store: store})
//	}
//
// To give every check a store of its own, as slogtest.Run gives every case
// a new handler, set Harness.New instead of Harness.Store; Run calls it
// with each check's subtest:
//
//	storetest.Run(t, storetest.Harness{New: newMyStore}) // func(*testing.T) runlog.LogStore
//
// Outside package testing, TestStore runs the same checks, as
// slogtest.TestHandler does, and returns an error for each one that fails.
//
// The checks write through the store (Activate, slog calls, Deactivate) and
// read back with Fetch: every LogEntry field, nesting, concurrent steps
// with zero misattributed records, ordering, paging across cursor
// boundaries without gaps or duplicates, limits, time range, level and text
// filters, unicode and invalid UTF-8, a 1 MiB message, empty results, an
// unknown run, hostile ids and bad input. Each check uses runs of its own,
// so one store serves them all, and a store shared with other data works.
//
// While it runs, the suite sets the default slog logger to one that
// discards, so that the console output of activations stays quiet; it
// restores it at the end. Since activations replace the process's default
// logger too, run one suite at a time in a process.
// Checks named in Harness.Skip are reported as skipped.
//
// Failures say what was expected and what came back, with the run and step
// ids, so that a store author can reproduce them with Fetch.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

// Harness describes the store under test. Set Store or New, not both.
type Harness struct {
	// Store is the store under test, shared by every check. It must be set
	// to store DEBUG records.
	Store runlog.LogStore
	// New, if set instead of Store, returns a new store for one check, like
	// slogtest.Run's newHandler: Run calls it once per check it runs (not
	// for skipped ones), with that check's subtest, so that t.TempDir and
	// t.Cleanup belong to the check and no check sees another's records.
	// New may end the check with t.Fatal. TestStore has no *testing.T to
	// give it and requires Store.
	New func(t *testing.T) runlog.LogStore
	// Timeout bounds the wait for records to become visible to Fetch after
	// Deactivate, for backends that ingest asynchronously. Default 30s.
	Timeout time.Duration
	// WithSpan, if set, returns a context carrying a span, and that span's
	// trace and span ids in lower-case hex. The round-trip check then
	// requires them on the entry. Unset, that part is skipped.
	WithSpan func(ctx context.Context) (ctx2 context.Context, traceID, spanID string)
	// AttributeKey maps the key an attribute was logged with to the key the
	// store returns it under, for backends that rename keys (Loki turns
	// "g.a" into "g_a"). Nil means keys come back as logged, nested groups
	// joined with ".".
	AttributeKey func(string) string
	// Skip names checks (see Checks) the store does not claim. They are
	// reported as skipped, not passed.
	Skip []string
}

// Checks lists the names of the checks Run performs, in order.
func Checks() []string {
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

type check struct {
	name string
	run  func(*suite)
}

var checks = []check{
	{"RoundTrip", (*suite).roundTrip},
	{"Levels", (*suite).levels},
	{"Nesting", (*suite).nesting},
	{"ConcurrentSteps", (*suite).concurrentSteps},
	{"Ordering", (*suite).ordering},
	{"Paging", (*suite).paging},
	{"PagingBackward", (*suite).pagingBackward},
	{"Limit", (*suite).limit},
	{"TimeRange", (*suite).timeRange},
	{"TextFilter", (*suite).textFilter},
	{"SourceFilter", (*suite).sourceFilter},
	{"Unicode", (*suite).unicode},
	{"LargeMessage", (*suite).largeMessage},
	{"EmptyResults", (*suite).emptyResults},
	{"UnknownRun", (*suite).unknownRun},
	{"HostileIDs", (*suite).hostileIDs},
	{"InvalidInput", (*suite).invalidInput},
	{"DeactivateIdempotent", (*suite).deactivateIdempotent},
	{"AfterDeactivate", (*suite).afterDeactivate},
}

// Run runs every check as a subtest of t, against h.Store or, with h.New
// set, against a new store for each check.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if err := h.init(); err != nil {
		t.Fatal(err)
	}
	defer quiet()()
	prefix := "storetest-" + randHex(4)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if slices.Contains(h.Skip, c.name) {
				t.Skipf("store does not claim %s (Harness.Skip)", c.name)
			}
			store := h.Store
			if h.New != nil {
				if store = h.New(t); store == nil {
					t.Fatal("storetest: Harness.New returned a nil store")
				}
			}
			c.run(&suite{t: t, h: &h, s: store, base: t.Context(), prefix: prefix + "-" + c.name})
		})
	}
}

// TestStore runs every check against h.Store, one after another, and
// returns an error for each check that fails, a [*CheckError] naming it,
// combined with errors.Join; nil means the store passed. It is the form for
// callers outside package testing, as slogtest.TestHandler is; in a test,
// Run reports check by check. The checks are the same and as strict.
//
// The checks pass ctx to Activate and Fetch; once ctx is done, TestStore
// runs no further check and adds ctx's error. Checks named in h.Skip are
// not run. TestStore returns an error at once if h.Store is nil or h.New
// is set.
func TestStore(ctx context.Context, h Harness) error {
	if err := h.init(); err != nil {
		return err
	}
	if h.New != nil {
		return errors.New("storetest: TestStore needs Harness.Store: Harness.New takes a *testing.T; use Run in a test")
	}
	defer quiet()()
	prefix := "storetest-" + randHex(4)
	var errs []error
	for _, c := range checks {
		if slices.Contains(h.Skip, c.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("storetest: stopped before %s: %w", c.name, context.Cause(ctx)))
			break
		}
		r := &collector{}
		r.run(func() {
			c.run(&suite{t: r, h: &h, s: h.Store, base: ctx, prefix: prefix + "-" + c.name})
		})
		if len(r.failures) > 0 {
			errs = append(errs, &CheckError{Check: c.name, Failures: r.failures})
		}
	}
	return errors.Join(errs...)
}

// CheckError is what TestStore returns for one failed check.
type CheckError struct {
	// Check is the check's name, one of Checks().
	Check string
	// Failures are what the check reported, in order; the check stops at
	// the first failure it cannot go on from.
	Failures []string
}

func (e *CheckError) Error() string {
	if len(e.Failures) == 0 {
		return "storetest: " + e.Check + " failed"
	}
	lines := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		lines[i] = "storetest: " + e.Check + ": " + f
	}
	return strings.Join(lines, "\n")
}

// init checks h and fills in defaults.
func (h *Harness) init() error {
	switch {
	case h.Store == nil && h.New == nil:
		return errors.New("storetest: set Harness.Store or Harness.New")
	case h.Store != nil && h.New != nil:
		return errors.New("storetest: set Harness.Store or Harness.New, not both")
	}
	if h.AttributeKey == nil {
		h.AttributeKey = func(k string) string { return k }
	}
	if h.Timeout == 0 {
		h.Timeout = 30 * time.Second
	}
	return nil
}

// quiet sets the default logger to one that discards and returns a
// function that restores the previous one.
func quiet() (restore func()) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	return func() { slog.SetDefault(prev) }
}

// reporter is what a check reports failures to: the check's subtest in Run,
// a collector in TestStore. *testing.T implements it.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// collector is TestStore's reporter. It keeps what a check reports, and
// Fatal and Fatalf end the check as testing.T's do, with runtime.Goexit,
// so a check reads the same under both forms.
type collector struct {
	mu       sync.Mutex
	failures []string
}

// run calls check on a goroutine of its own, which Fatal may end, and
// waits for it.
func (c *collector) run(check func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check()
	}()
	<-done
}

func (c *collector) add(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, msg)
}

func (c *collector) Helper() {}

func (c *collector) Errorf(format string, args ...any) { c.add(fmt.Sprintf(format, args...)) }

func (c *collector) Fatal(args ...any) {
	c.add(strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
	runtime.Goexit()
}

func (c *collector) Fatalf(format string, args ...any) {
	c.add(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

type suite struct {
	t      reporter
	h      *Harness
	s      runlog.LogStore
	base   context.Context // of the subtest in Run, the caller's in TestStore
	prefix string
}

func (s *suite) ctx() context.Context { return s.base }

func (s *suite) run(name string) string { return s.prefix + "-" + name }

func (s *suite) activate(ctx context.Context, sc runlog.Scope) context.Context {
	s.t.Helper()
	ctx2, err := s.s.Activate(ctx, sc)
	if err != nil {
		s.t.Fatalf("Activate(%s) = %v; want no error", sc, err)
	}
	return ctx2
}

func (s *suite) deactivate(ctx context.Context) {
	s.t.Helper()
	if err := s.s.Deactivate(ctx); err != nil {
		s.t.Fatalf("Deactivate = %v; want no error", err)
	}
}

// fetchAll pages through everything q matches, waiting up to the harness
// timeout until at least want entries are visible. It fails the test on
// errors, duplicate ids within a page boundary, or an endless cursor.
func (s *suite) fetchAll(q runlog.Query, want int) []runlog.LogEntry {
	s.t.Helper()
	deadline := time.Now().Add(s.h.Timeout)
	for {
		got, err := s.pages(q)
		if err != nil {
			s.t.Fatalf("Fetch(%s) = %v", describe(q), err)
		}
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *suite) pages(q runlog.Query) ([]runlog.LogEntry, error) {
	var all []runlog.LogEntry
	for i := 0; ; i++ {
		p, err := s.s.Fetch(s.ctx(), q)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Entries...)
		if !p.More {
			return all, nil
		}
		if len(p.Entries) == 0 {
			return nil, fmt.Errorf("page %d has More but no entries: a reader would loop forever", i)
		}
		if p.Next == q.Cursor {
			return nil, fmt.Errorf("page %d has More but Next equals the cursor it was fetched with", i)
		}
		if i > 1_000_000 {
			return nil, errors.New("more than a million pages")
		}
		q.Cursor = p.Next
	}
}

// fetchExactly fetches q and requires exactly want entries (after waiting
// for them), reporting what is missing or extra.
func (s *suite) fetchExactly(q runlog.Query, want int) []runlog.LogEntry {
	s.t.Helper()
	got := s.fetchAll(q, want)
	if len(got) != want {
		s.t.Fatalf("Fetch(%s) returned %d entries; want %d\n%s", describe(q), len(got), want, summary(got))
	}
	return got
}

func (s *suite) messages(q runlog.Query, want ...string) []runlog.LogEntry {
	s.t.Helper()
	got := s.fetchExactly(q, len(want))
	for i := range want {
		if got[i].Message != want[i] {
			s.t.Fatalf("Fetch(%s) entry %d has message %q; want %q\nall entries:\n%s", describe(q), i, got[i].Message, want[i], summary(got))
		}
	}
	return got
}

func describe(q runlog.Query) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("run=%q", q.RunID))
	if q.StepID != "" {
		parts = append(parts, fmt.Sprintf("step=%q", q.StepID))
	}
	if q.Source != "" {
		parts = append(parts, fmt.Sprintf("source=%q", q.Source))
	}
	if !q.Start.IsZero() || !q.End.IsZero() {
		parts = append(parts, fmt.Sprintf("start=%s end=%s", q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano)))
	}
	if q.MinLevel != 0 {
		parts = append(parts, "min_level="+q.MinLevel.String())
	}
	if q.Contains != "" {
		parts = append(parts, fmt.Sprintf("contains=%q", q.Contains))
	}
	if q.Limit != 0 {
		parts = append(parts, fmt.Sprintf("limit=%d", q.Limit))
	}
	if q.Direction != runlog.Forward {
		parts = append(parts, q.Direction.String())
	}
	return strings.Join(parts, " ")
}

func summary(es []runlog.LogEntry) string {
	var b strings.Builder
	for i, e := range es {
		if i == 20 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(es)-i)
			break
		}
		msg := e.Message
		if len(msg) > 60 {
			msg = msg[:60] + "..."
		}
		fmt.Fprintf(&b, "  %s %-5s step=%q seq=%d %q\n", e.Time.Format(time.RFC3339Nano), e.Level, e.StepID, e.Sequence, msg)
	}
	return b.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkOrder requires entries in Fetch order: timestamp, then sequence.
func (s *suite) checkOrder(what string, es []runlog.LogEntry) {
	s.t.Helper()
	for i := 1; i < len(es); i++ {
		if es[i].Before(&es[i-1]) {
			s.t.Fatalf("%s: entry %d (%s seq %d %q) comes after entry %d (%s seq %d %q) but sorts before it; entries must be ordered by timestamp, then sequence",
				what, i, es[i].Time.Format(time.RFC3339Nano), es[i].Sequence, es[i].Message,
				i-1, es[i-1].Time.Format(time.RFC3339Nano), es[i-1].Sequence, es[i-1].Message)
		}
	}
}

// checkUnique requires distinct ids (chunks of one message share one).
func (s *suite) checkUnique(what string, es []runlog.LogEntry) {
	s.t.Helper()
	seen := map[[2]any]int{}
	for i, e := range es {
		k := [2]any{e.ID, e.ChunkIndex}
		if j, dup := seen[k]; dup {
			s.t.Fatalf("%s: entries %d and %d share id %q (chunk %d): an entry was returned twice (%q)", what, j, i, e.ID, e.ChunkIndex, e.Message)
		}
		seen[k] = i
	}
}
