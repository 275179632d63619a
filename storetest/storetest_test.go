package storetest_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/storetest"
)

func localStore(t *testing.T) runlog.LogStore {
	t.Helper()
	s, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{MinLevel: runlog.LevelDebug, Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Broken stores: each departs from the contract in one way a real store
// might, and the suite must catch it.

// dropStep loses the step id on the way back.
type dropStep struct{ runlog.LogStore }

func (s dropStep) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	p, err := s.LogStore.Fetch(ctx, q)
	for i := range p.Entries {
		p.Entries[i].StepID = ""
	}
	return p, err
}

// dupBoundary returns the last entry of the previous page again at the top
// of the next one: the classic paging bug.
type dupBoundary struct {
	runlog.LogStore
	mu   sync.Mutex
	last map[runlog.Cursor]runlog.LogEntry
}

func (s *dupBoundary) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	p, err := s.LogStore.Fetch(ctx, q)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.last[q.Cursor]; ok && q.Cursor != "" {
		p.Entries = append([]runlog.LogEntry{prev}, p.Entries...)
		if len(p.Entries) > q.EffectiveLimit() {
			p.Entries = p.Entries[:q.EffectiveLimit()]
		}
	}
	if n := len(p.Entries); n > 0 {
		s.last[p.Next] = p.Entries[n-1]
	}
	return p, nil
}

// ignoreContext hands back the caller's context instead of one carrying the
// new activation, so records logged with it go to whatever is innermost.
type ignoreContext struct{ runlog.LogStore }

func (s ignoreContext) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
	_, err := s.LogStore.Activate(ctx, sc)
	return ctx, err
}

// keepInvalidUTF8 passes no error for bad input: it accepts an empty run.
type lenientFetch struct{ runlog.LogStore }

func (s lenientFetch) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if q.RunID == "" {
		return runlog.Page{}, nil
	}
	return s.LogStore.Fetch(ctx, q)
}

var broken = map[string]func(runlog.LogStore) runlog.LogStore{
	"dropStep": func(s runlog.LogStore) runlog.LogStore { return dropStep{s} },
	"dupBoundary": func(s runlog.LogStore) runlog.LogStore {
		return &dupBoundary{LogStore: s, last: map[runlog.Cursor]runlog.LogEntry{}}
	},
	"ignoreContext":  func(s runlog.LogStore) runlog.LogStore { return ignoreContext{s} },
	"lenientFetch":   func(s runlog.LogStore) runlog.LogStore { return lenientFetch{s} },
	"correct (none)": func(s runlog.LogStore) runlog.LogStore { return s },
}

// TestBrokenStoreHelper runs the suite against the broken store named by
// $STORETEST_BROKEN. It is run by TestBrokenStoresFail in a child process,
// because a failing suite must fail its own test binary.
func TestBrokenStoreHelper(t *testing.T) {
	name := os.Getenv("STORETEST_BROKEN")
	if name == "" {
		t.Skip("run by TestBrokenStoresFail")
	}
	storetest.Run(t, storetest.Harness{Store: broken[name](localStore(t)), Timeout: time.Second})
}

// brokenCases pairs each broken store with the check that must catch it
// and what its failure must say.
var brokenCases = []struct {
	store, check string
	want         string // in the failure output
}{
	{"dropStep", "RoundTrip", `StepID = "" ; want "train"`},
	{"dupBoundary", "Paging", "returned twice"},
	{"ignoreContext", "ConcurrentSteps", "misattributed"},
	{"lenientFetch", "InvalidInput", "Fetch with an empty RunID = <nil>; want an error wrapping runlog.ErrInvalid"},
}

// says reports whether out contains want, spacing before ";" aside.
func says(out, want string) bool {
	return strings.Contains(strings.ReplaceAll(out, `"" ;`, `"";`), strings.ReplaceAll(want, `"" ;`, `"";`))
}

func TestBrokenStoresFail(t *testing.T) {
	for _, c := range brokenCases {
		t.Run(c.store, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreHelper$/^"+c.check+"$", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_BROKEN="+c.store)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("storetest passed a store that %s; output:\n%s", c.store, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenStoreHelper/"+c.check) {
				t.Fatalf("the %s check did not fail; output:\n%s", c.check, out)
			}
			if !says(string(out), c.want) {
				t.Fatalf("failure output does not say %q; output:\n%s", c.want, out)
			}
		})
	}
	// The same wrapper machinery with no fault passes: the failures above
	// come from the faults.
	t.Run("control", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreHelper$/^(RoundTrip|Paging|ConcurrentSteps|InvalidInput)$")
		cmd.Env = append(os.Environ(), "STORETEST_BROKEN=correct (none)")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the suite failed the correct store: %v\n%s", err, out)
		}
	})
}

func TestChecksNamed(t *testing.T) {
	got := strings.Join(storetest.Checks(), ",")
	for _, want := range []string{"RoundTrip", "ConcurrentSteps", "Paging", "LargeMessage", "UnknownRun"} {
		if !strings.Contains(got, want) {
			t.Errorf("Checks() = %s; missing %s", got, want)
		}
	}
}

// only returns Harness.Skip for running just the named checks.
func only(names ...string) []string {
	var skip []string
	for _, c := range storetest.Checks() {
		if !slices.Contains(names, c) {
			skip = append(skip, c)
		}
	}
	return skip
}

// recordingStore remembers the runs it was asked to write or read.
type recordingStore struct {
	runlog.LogStore
	mu   sync.Mutex
	runs map[string]bool
}

func (s *recordingStore) record(run string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[run] = true
}

func (s *recordingStore) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
	ctx, err := s.LogStore.Activate(ctx, sc)
	if err == nil {
		s.record(sc.RunID)
	}
	return ctx, err
}

func (s *recordingStore) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if q.RunID != "" {
		s.record(q.RunID)
	}
	return s.LogStore.Fetch(ctx, q)
}

// TestHarnessNew: with Harness.New, Run builds one store per check it runs,
// with that check's subtest, and each store serves only its check.
func TestHarnessNew(t *testing.T) {
	skip := []string{"ConcurrentSteps", "LargeMessage"}
	var (
		checks []string // the check of each New call, in order
		stores []*recordingStore
	)
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) runlog.LogStore {
			checks = append(checks, path.Base(t.Name()))
			s := &recordingStore{LogStore: localStore(t), runs: map[string]bool{}}
			stores = append(stores, s)
			return s
		},
		Skip:    skip,
		Timeout: 5 * time.Second,
	})
	var want []string
	for _, c := range storetest.Checks() {
		if !slices.Contains(skip, c) {
			want = append(want, c)
		}
	}
	if !slices.Equal(checks, want) {
		t.Fatalf("New was called for checks %v (%d calls); want one call per check run, %v (%d)", checks, len(checks), want, len(want))
	}
	for i, s := range stores {
		if len(s.runs) == 0 {
			t.Errorf("the store made for %s was not used", checks[i])
		}
		for run := range s.runs {
			if !strings.Contains(run, "-"+checks[i]+"-") {
				t.Errorf("the store made for %s was used for run %q of another check", checks[i], run)
			}
		}
	}
}

func TestHarnessNewAndStore(t *testing.T) {
	store := localStore(t)
	newStore := func(*testing.T) runlog.LogStore { return store }
	if err := storetest.TestStore(t.Context(), storetest.Harness{Store: store, New: newStore}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("TestStore with both Store and New = %v; want an error saying to set one", err)
	}
	if err := storetest.TestStore(t.Context(), storetest.Harness{New: newStore}); err == nil || !strings.Contains(err.Error(), "use Run") {
		t.Errorf("TestStore with New = %v; want an error pointing to Run", err)
	}
	if err := storetest.TestStore(t.Context(), storetest.Harness{}); err == nil {
		t.Errorf("TestStore with neither Store nor New = nil; want an error")
	}
}

// failedChecks returns the checks err reports, each from its *CheckError.
func failedChecks(t *testing.T, err error) map[string]*storetest.CheckError {
	t.Helper()
	got := map[string]*storetest.CheckError{}
	if err == nil {
		return got
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *storetest.CheckError
		if !errors.As(e, &ce) {
			t.Fatalf("TestStore returned %v; want only *storetest.CheckError", e)
		}
		if !strings.HasPrefix(e.Error(), "storetest: "+ce.Check+": ") {
			t.Errorf("error %q does not start by naming its check %s", e, ce.Check)
		}
		got[ce.Check] = ce
	}
	return got
}

// TestTestStore: the error form fails the broken stores in the same check,
// with the same message, as Run, and passes a correct store.
func TestTestStore(t *testing.T) {
	for _, c := range brokenCases {
		t.Run(c.store, func(t *testing.T) {
			// UnknownRun, which every broken store passes, runs after each
			// of these checks: a failed check, fatal or not, ends only itself.
			err := storetest.TestStore(t.Context(), storetest.Harness{
				Store:   broken[c.store](localStore(t)),
				Timeout: time.Second,
				Skip:    only(c.check, "UnknownRun"),
			})
			got := failedChecks(t, err)
			if len(got) != 1 || got[c.check] == nil {
				t.Fatalf("TestStore = %v; want an error from %s alone", err, c.check)
			}
			if !says(err.Error(), c.want) {
				t.Fatalf("TestStore = %v; want it to say %q", err, c.want)
			}
		})
	}
	t.Run("several checks fail", func(t *testing.T) {
		err := storetest.TestStore(t.Context(), storetest.Harness{
			Store:   dropStep{localStore(t)},
			Timeout: time.Second,
			Skip:    only("RoundTrip", "Nesting", "UnknownRun"),
		})
		got := failedChecks(t, err)
		if len(got) != 2 || got["RoundTrip"] == nil || got["Nesting"] == nil {
			t.Fatalf("TestStore of a store that drops step ids = %v; want errors from RoundTrip and Nesting", err)
		}
	})
	t.Run("correct", func(t *testing.T) {
		if err := storetest.TestStore(t.Context(), storetest.Harness{Store: localStore(t), Timeout: 5 * time.Second}); err != nil {
			t.Fatalf("TestStore failed the local store:\n%v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := storetest.TestStore(ctx, storetest.Harness{Store: localStore(t)})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "before RoundTrip") {
			t.Fatalf("TestStore with a canceled context = %v; want context.Canceled, before RoundTrip", err)
		}
	})
}
