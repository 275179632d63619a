package storetest_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
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

func TestBrokenStoresFail(t *testing.T) {
	for _, c := range []struct {
		store, check string
		want         string // in the failure output
	}{
		{"dropStep", "RoundTrip", `StepID = "" ; want "train"`},
		{"dupBoundary", "Paging", "returned twice"},
		{"ignoreContext", "ConcurrentSteps", "misattributed"},
		{"lenientFetch", "InvalidInput", "Fetch with an empty RunID = <nil>; want an error wrapping runlog.ErrInvalid"},
	} {
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
			if !strings.Contains(strings.ReplaceAll(string(out), `"" ;`, `"";`), strings.ReplaceAll(c.want, `"" ;`, `"";`)) {
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
