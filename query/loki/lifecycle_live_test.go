package loki_test

// Live cases of ListRuns and DeleteRun against the user's Loki (see
// live_test.go for how to run them). DeleteRun needs deletion turned on
// for the tenant (compactor retention_enabled, deletion_mode
// filter-and-delete); without it the delete case reports itself skipped
// with what to change.

import (
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/loki"
)

func TestLiveLifecycle(t *testing.T) {
	s := userLoki(t)
	c, err := loki.New(loki.Config{URL: os.Getenv("RUNLOG_TEST_LOKI_URL"), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
	base := "life-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	gone, kept := base+`-gone"} | x`, base+"-kept"
	for _, run := range []string{kept, gone} {
		for _, step := range []string{"", "a"} {
			ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: step})
			if err != nil {
				t.Fatal(err)
			}
			slog.InfoContext(ctx, "line")
			if err := s.Deactivate(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(run string) int {
		n := 0
		for _, err := range runlog.All(t.Context(), s, runlog.Query{RunID: run}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	listed := func() map[string]runlog.RunInfo {
		p, err := c.ListRuns(t.Context(), runlog.RunQuery{Limit: runlog.MaxRunLimit})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]runlog.RunInfo{}
		for _, r := range p.Runs {
			m[r.RunID] = r
		}
		return m
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		m := listed()
		if m[gone].Records == 2 && m[kept].Records == 2 {
			if m[gone].Steps != 2 {
				t.Fatalf("%q: %d steps; want 2 (run level, a)", gone, m[gone].Steps)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ListRuns did not list both runs with 2 records each in 60s: %+v, %+v", m[gone], m[kept])
		}
	}
	rep, err := c.DeleteRun(t.Context(), gone)
	if errors.Is(err, runlog.ErrInvalid) {
		t.Skipf("deletion is off on this Loki: %v", err)
	}
	if err != nil || !rep.Queued {
		t.Fatalf("DeleteRun = %+v, %v", rep, err)
	}
	// Queriers filter deleted records once they reload delete requests.
	for deadline := time.Now().Add(5 * time.Minute); count(gone) != 0; time.Sleep(5 * time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("run %q still has %d entries 5 minutes after its delete request", gone, count(gone))
		}
	}
	if n := count(kept); n != 2 {
		t.Fatalf("run %q: %d entries after deleting another; want 2", kept, n)
	}
}
