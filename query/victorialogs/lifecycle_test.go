package victorialogs_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/query/victorialogs"
)

func runIDs(p runlog.RunPage) []string {
	var ids []string
	for _, r := range p.Runs {
		ids = append(ids, r.RunID)
	}
	return ids
}

// TestLifecycleListAndDeleteRun writes three runs straight to a real
// VictoriaLogs started with -delete.enable, lists them, deletes one, waits
// for the deletion task to end, and reads everything back.
func TestLifecycleListAndDeleteRun(t *testing.T) {
	vl := itest.StartVictoriaLogs(t, "-delete.enable")
	s := open(t, map[string]string{"url": vl.URL, "level": "debug"})
	c, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	quiet(t)
	// The hostile id is LogsQL syntax that, unquoted, would select every run.
	runs := []string{"keep-old", `gone"} | * or {x="`, "keep-new"}
	var between time.Time
	for i, run := range runs {
		logOnce(t, s, runlog.Scope{RunID: run}, "run level")
		logOnce(t, s, runlog.Scope{RunID: run, StepID: "a"}, "step a")
		logOnce(t, s, runlog.Scope{RunID: run, StepID: "b"}, "step b")
		if i == 0 {
			time.Sleep(20 * time.Millisecond)
			between = time.Now()
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, run := range runs {
		if got := waitFetch(t, s, runlog.Query{RunID: run}, 3, 30*time.Second); len(got) != 3 {
			t.Fatalf("run %q: %d entries before deletion; want 3", run, len(got))
		}
	}
	// Each activation's end marker is indexed with its records; wait until
	// the listing sees them all.
	var p runlog.RunPage
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if p, err = c.ListRuns(t.Context(), runlog.RunQuery{}); err != nil {
			t.Fatal(err)
		}
		if len(p.Runs) == 3 && p.Runs[0].Records == 3 || time.Now().After(deadline) {
			break
		}
	}
	if ids := runIDs(p); !slices.Equal(ids, []string{"keep-new", runs[1], "keep-old"}) || p.More {
		t.Fatalf("ListRuns = %q (more %v); want the three runs newest first", ids, p.More)
	}
	for _, r := range p.Runs {
		if r.Steps != 3 || r.Records != 3 || r.First.IsZero() || !r.First.Before(r.Last) {
			t.Errorf("%q: steps %d, records %d, first %v, last %v; want 3 steps (run level, a, b), 3 records, first before last",
				r.RunID, r.Steps, r.Records, r.First, r.Last)
		}
	}
	// One run a page: each once, in the same order.
	var paged []string
	q := runlog.RunQuery{Limit: 1}
	for range 5 {
		p, err := c.ListRuns(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, runIDs(p)...)
		if !p.More {
			break
		}
		q.Cursor = p.Next
	}
	if !slices.Equal(paged, []string{"keep-new", runs[1], "keep-old"}) {
		t.Fatalf("ListRuns a run at a time = %q", paged)
	}
	old, err := c.ListRuns(t.Context(), runlog.RunQuery{Before: between})
	if err != nil || !slices.Equal(runIDs(old), []string{"keep-old"}) {
		t.Fatalf("ListRuns before the second run = %q, %v; want keep-old", runIDs(old), err)
	}

	// Another tenant sees none of it and deletes nothing.
	other, err := victorialogs.New(victorialogs.Config{URL: vl.URL, AccountID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := other.ListRuns(t.Context(), runlog.RunQuery{}); err != nil || len(p.Runs) != 0 {
		t.Fatalf("ListRuns of another tenant = %q, %v; want none", runIDs(p), err)
	}
	if rep, err := other.DeleteRun(t.Context(), "keep-old"); err != nil || rep.Queued || rep.Deleted != 0 {
		t.Fatalf("DeleteRun in another tenant = %+v, %v; want nothing there", rep, err)
	}

	rep, err := c.DeleteRun(t.Context(), runs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Queued || rep.Task == "" || rep.RunID != runs[1] {
		t.Fatalf("DeleteRun = %+v; want a queued task", rep)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		done, err := c.DeleteDone(t.Context(), rep.Task)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deletion task %s still active after 60s", rep.Task)
		}
	}
	page, err := s.Fetch(t.Context(), runlog.Query{RunID: runs[1]})
	if err != nil || len(page.Entries) != 0 || len(page.Ends) != 0 {
		t.Fatalf("Fetch of the deleted run = %d entries, %d end markers, %v; want none", len(page.Entries), len(page.Ends), err)
	}
	for _, run := range []string{"keep-old", "keep-new"} {
		if got := waitFetch(t, s, runlog.Query{RunID: run}, 3, time.Second); len(got) != 3 {
			t.Fatalf("run %q after deleting another: %d entries; want its 3", run, len(got))
		}
	}
	if p, err := c.ListRuns(t.Context(), runlog.RunQuery{}); err != nil || !slices.Equal(runIDs(p), []string{"keep-new", "keep-old"}) {
		t.Fatalf("ListRuns after delete = %q, %v", runIDs(p), err)
	}
	rep, err = c.DeleteRun(t.Context(), runs[1])
	if err != nil || rep.Queued || rep.Deleted != 0 {
		t.Fatalf("DeleteRun of a deleted run = %+v, %v; want nothing there, no task", rep, err)
	}
}

// TestLifecycleDeleteRunDisabled: VictoriaLogs without -delete.enable
// refuses; the error wraps ErrInvalid and says how to turn it on.
func TestLifecycleDeleteRunDisabled(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	s := open(t, map[string]string{"url": vl.URL, "level": "debug"})
	quiet(t)
	logOnce(t, s, runlog.Scope{RunID: "r"}, "x")
	waitFetch(t, s, runlog.Query{RunID: "r"}, 1, 30*time.Second)
	c, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRun(t.Context(), "r")
	var re *runlog.Error
	if !errors.Is(err, runlog.ErrInvalid) || !errors.As(err, &re) || !strings.Contains(re.Hint, "-delete.enable") {
		t.Fatalf("DeleteRun with deletion off = %v; want ErrInvalid with a hint to start VictoriaLogs with -delete.enable", err)
	}
	if got := waitFetch(t, s, runlog.Query{RunID: "r"}, 1, time.Second); len(got) != 1 {
		t.Fatalf("run after a refused delete: %d entries; want 1", len(got))
	}
}
