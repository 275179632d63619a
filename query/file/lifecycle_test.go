package file

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
)

// setMtime stamps every file of run under root with t.
func setMtime(tb testing.TB, root, run string, t time.Time) {
	tb.Helper()
	err := filepath.Walk(layout.RunDir(root, run), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			err = os.Chtimes(p, t, t)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func runIDs(p runlog.RunPage) []string {
	var ids []string
	for _, r := range p.Runs {
		ids = append(ids, r.RunID)
	}
	return ids
}

func TestListRunsNewestFirstPaged(t *testing.T) {
	root := t.TempDir()
	now := time.Now().Truncate(time.Second)
	// Ids that are not path components: only the resource says them.
	runs := []string{"old", "../../escape", "newest/with slash", "mid ünïcode"}
	ages := []time.Duration{72 * time.Hour, 48 * time.Hour, 0, 24 * time.Hour}
	for i, run := range runs {
		act{run: run, step: "", id: "a1"}.write(t, root, 1, 3, 10)
		act{run: run, step: "train", id: "a2", offset: time.Second}.write(t, root, 1, 2000, 1000)
		setMtime(t, root, run, now.Add(-ages[i]))
	}
	r := New(root)
	var got []string
	var cur runlog.Cursor
	pages := 0
	for {
		p, err := r.ListRuns(t.Context(), runlog.RunQuery{Limit: 3, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, runIDs(p)...)
		for _, info := range p.Runs {
			if info.Steps != 2 || info.Records != -1 {
				t.Errorf("%q: steps %d records %d; want 2, -1", info.RunID, info.Steps, info.Records)
			}
			if !info.First.Equal(base.Add(time.Microsecond)) {
				t.Errorf("%q: first %v; want the first record's time %v", info.RunID, info.First, base.Add(time.Microsecond))
			}
		}
		if !p.More {
			break
		}
		cur = p.Next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{"newest/with slash", "mid ünïcode", "../../escape", "old"}
	if !slices.Equal(got, want) || pages != 2 {
		t.Fatalf("ListRuns over %d pages = %q; want %q over 2", pages, got, want)
	}

	p, err := r.ListRuns(t.Context(), runlog.RunQuery{Before: now.Add(-36 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(p); !slices.Equal(ids, []string{"../../escape", "old"}) || p.More {
		t.Fatalf("ListRuns before 36h ago = %q (more %v); want the two older runs", ids, p.More)
	}
	if !p.Runs[1].Last.Equal(now.Add(-72 * time.Hour)) {
		t.Errorf("last of old = %v; want its file's time %v", p.Runs[1].Last, now.Add(-72*time.Hour))
	}

	if _, err := r.ListRuns(t.Context(), runlog.RunQuery{Cursor: "garbage"}); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("ListRuns with a bad cursor: %v; want ErrInvalid", err)
	}
}

func TestListRunsEmptyAndForeign(t *testing.T) {
	p, err := New(filepath.Join(t.TempDir(), "none")).ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil || len(p.Runs) != 0 || p.More {
		t.Fatalf("ListRuns of a missing directory = %+v, %v; want empty", p, err)
	}
	root := t.TempDir()
	act{run: "real", id: "a"}.write(t, root, 1, 1, 1)
	// A file of run "other" copied under another run's directory does not
	// name that directory's run; an empty file (being created) names none.
	other := act{run: "other", id: "b"}.line(t, 1, 1)
	bogus := layout.File(root, "bogus", "", "b")
	if err := os.MkdirAll(filepath.Dir(bogus), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bogus, other, 0o640); err != nil {
		t.Fatal(err)
	}
	empty := layout.File(root, "empty", "", "c")
	if err := os.MkdirAll(filepath.Dir(empty), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	p, err = New(root).ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(p); !slices.Equal(ids, []string{"real"}) {
		t.Fatalf("ListRuns = %q; want only the run whose files say it", ids)
	}
}

// TestListRunsReadsOnlyTheHead: a first line far longer than the bound of
// what is read still gives the run and its first time.
func TestListRunsReadsOnlyTheHead(t *testing.T) {
	root := t.TempDir()
	act{run: "big", id: "a"}.write(t, root, 1, 20000, 20000) // one line of MiBs
	fi, err := os.Stat(act{run: "big", id: "a"}.path(root))
	if err != nil || fi.Size() < 4*headBytes {
		t.Fatalf("line of %d bytes; want well over %d", fi.Size(), headBytes)
	}
	p, err := New(root).ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil || len(p.Runs) != 1 || p.Runs[0].RunID != "big" || !p.Runs[0].First.Equal(base.Add(time.Microsecond)) {
		t.Fatalf("ListRuns = %+v, %v", p, err)
	}
}

func TestDeleteRun(t *testing.T) {
	root := t.TempDir()
	for _, run := range []string{"gone", "kept", "../gone"} {
		act{run: run, id: "a1"}.write(t, root, 1, 5, 5)
		act{run: run, step: "s", id: "a2"}.write(t, root, 1, 5, 5)
		act{run: run, step: "t", id: "a3"}.write(t, root, 1, 5, 5)
	}
	// A link inside the run to a file outside the store: removed, never
	// followed.
	outside := filepath.Join(t.TempDir(), "precious.jsonl")
	if err := os.WriteFile(outside, []byte("keep me\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(layout.StepDir(root, "gone", "s"), "link.jsonl")); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(outDir, "x.jsonl"), []byte("keep\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outDir, filepath.Join(layout.RunDir(root, "gone"), "dirlink-0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	r := New(root)
	rep, err := r.DeleteRun(t.Context(), "gone")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 3 || rep.Queued || rep.RunID != "gone" {
		t.Fatalf("DeleteRun = %+v; want 3 files removed at once", rep)
	}
	p, err := r.Fetch(t.Context(), runlog.Query{RunID: "gone"})
	if err != nil || len(p.Entries) != 0 || len(p.Ends) != 0 {
		t.Fatalf("Fetch after delete = %d entries, %v; want none", len(p.Entries), err)
	}
	for _, run := range []string{"kept", "../gone"} {
		p, err := r.Fetch(t.Context(), runlog.Query{RunID: run})
		if err != nil || len(p.Entries) != 15 {
			t.Fatalf("Fetch of %q after deleting another run = %d entries, %v; want 15", run, len(p.Entries), err)
		}
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me\n" {
		t.Fatalf("the file a link pointed at: %q, %v; want it untouched", b, err)
	}
	if _, err := os.Stat(filepath.Join(outDir, "x.jsonl")); err != nil {
		t.Fatalf("the directory a link pointed at lost its file: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, trashDir)); len(ents) != 0 {
		t.Fatalf("trash holds %d entries after a delete; want none", len(ents))
	}
	p2, err := r.ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(p2); slices.Contains(ids, "gone") || len(ids) != 2 {
		t.Fatalf("runs after delete = %q", ids)
	}

	// Again: nothing there, no error.
	rep, err = r.DeleteRun(t.Context(), "gone")
	if err != nil || rep.Deleted != 0 {
		t.Fatalf("second DeleteRun = %+v, %v; want nothing deleted, no error", rep, err)
	}
	if _, err := r.DeleteRun(t.Context(), ""); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("DeleteRun(\"\") = %v; want ErrInvalid", err)
	}
	if rep, err := New(filepath.Join(root, "missing")).DeleteRun(t.Context(), "x"); err != nil || rep.Deleted != 0 {
		t.Fatalf("DeleteRun on a missing store = %+v, %v", rep, err)
	}
}

// TestDeleteRunWhileWriting: a writer holding its file open after the
// delete writes into the removed file; the run stays gone. A new file of
// the run afterwards starts it anew with only its own records.
func TestDeleteRunWhileWriting(t *testing.T) {
	root := t.TempDir()
	a := act{run: "live", id: "a1"}
	p := a.write(t, root, 1, 2, 2)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := New(root)
	if _, err := r.DeleteRun(t.Context(), "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(a.line(t, 3, 1)); err != nil {
		t.Fatal(err)
	}
	page, err := r.Fetch(t.Context(), runlog.Query{RunID: "live"})
	if err != nil || len(page.Entries) != 0 {
		t.Fatalf("Fetch after delete with an open writer = %d entries, %v; want none", len(page.Entries), err)
	}
	act{run: "live", id: "a2"}.write(t, root, 1, 1, 1)
	page, err = r.Fetch(t.Context(), runlog.Query{RunID: "live"})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("Fetch of the run written anew = %d entries, %v; want 1", len(page.Entries), err)
	}
}
