package file

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

func reversed(es []runlog.LogEntry) []string {
	m := messages(es)
	slices.Reverse(m)
	return m
}

// TestBackwardIsReversedForward: paging backward, whatever the page size,
// gives the forward entries in reverse, in the local store (zstd and old
// plain files side by side) and in foreign files.
func TestBackwardIsReversedForward(t *testing.T) {
	root := t.TempDir()
	act{run: "r", step: "s", id: "a1"}.writeZstd(t, root, 1, 40, 7)
	act{run: "r", step: "s", id: "a2", offset: 3}.write(t, root, 1, 30, 4)
	act{run: "r", step: "t", id: "b1", offset: 5}.writeZstd(t, root, 10, 20, 3)
	// A file with a damaged frame in the middle: its frames cannot all
	// be told from their headers, so it is read whole.
	c := act{run: "r", step: "t", id: "c1", offset: 2}
	p := c.writeZstd(t, root, 1, 10, 5)
	fr := c.frame(t, 11, 5)
	for i := len(fr) / 3; i < len(fr)/2; i++ {
		fr[i] ^= 0x5a
	}
	appendBytes(t, p, fr)
	c.writeZstd(t, root, 16, 10, 5)
	r := New(root)
	for _, contains := range []string{"", "record 1"} {
		fwd, _ := fetchAll(t, r, runlog.Query{RunID: "r", Contains: contains})
		if contains == "" && len(fwd) != 110 {
			t.Fatalf("forward: %d entries; want 110", len(fwd))
		}
		for _, limit := range []int{1, 7, 0} {
			back, ds := fetchAll(t, r, runlog.Query{RunID: "r", Direction: runlog.Backward, Limit: limit, Contains: contains})
			if got, want := messages(back), reversed(fwd); !slices.Equal(got, want) {
				t.Fatalf("contains %q, limit %d: backward %q; want %q", contains, limit, got, want)
			}
			if len(ds) == 0 {
				t.Fatalf("contains %q, limit %d: the damaged frame is not reported", contains, limit)
			}
		}
	}
}

// TestLastPageReadsTheEnd: the last page of a long step is read from the
// end of its file: a file whose head is garbage still gives it without
// damage (the head is never reached).
func TestLastPageReadsTheEnd(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	p := a.path(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	// A plain file whose first line is garbage: forward reports it.
	if err := os.WriteFile(p, []byte("garbage\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	a.write(t, root, 1, 1000, 10)
	r := New(root)
	pg, err := r.Fetch(t.Context(), runlog.Query{RunID: "r", Direction: runlog.Backward, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	wantMessages(t, pg.Entries, "a1", 1000, 999, 998, 997, 996)
	if len(pg.Damaged) != 0 || !pg.More {
		t.Fatalf("last page: damage %v, more %v; want none read, and more", pg.Damaged, pg.More)
	}
}

// TestForeignFilesPaged: a directory of collector files, each in order
// but interleaved with the others, one of them out of order within, is
// paged forward and backward in bounded pages to the same sorted entries;
// records appended to a file between pages are returned by the next page.
func TestForeignFilesPaged(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "collector")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	a := act{run: "r", step: "s", id: "a"}
	b := act{run: "r", step: "s", id: "b", offset: 500 * time.Nanosecond}
	c := act{run: "r", step: "s", id: "c", offset: 700 * time.Nanosecond}
	var fa, fb, fc []byte
	for i := 1; i <= 60; i += 6 {
		fa = append(fa, a.line(t, i, 6)...)
		fb = append(fb, b.line(t, i, 6)...)
	}
	for i := 55; i >= 1; i -= 6 { // out of order: newest lines first
		fc = append(fc, c.line(t, i, 6)...)
	}
	for name, content := range map[string][]byte{"a.json": fa, "b.json": fb, "c.json": fc} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := New(root)
	q := runlog.Query{RunID: "r", LogsURI: dir}
	all, ds := fetchAll(t, r, q)
	if len(all) != 180 || len(ds) != 0 {
		t.Fatalf("%d entries, damage %v; want 180", len(all), ds)
	}
	if !slices.IsSortedFunc(all, func(x, y runlog.LogEntry) int { return runlog.Compare(&x, &y) }) {
		t.Fatalf("entries out of order: %q", messages(all))
	}
	for _, limit := range []int{1, 5, 13} {
		q.Limit = limit
		es, _ := fetchAll(t, r, q)
		if !slices.Equal(messages(es), messages(all)) {
			t.Fatalf("limit %d: %q; want %q", limit, messages(es), messages(all))
		}
		bq := q
		bq.Direction = runlog.Backward
		back, _ := fetchAll(t, r, bq)
		if !slices.Equal(messages(back), reversed(all)) {
			t.Fatalf("limit %d backward: %q; want %q", limit, messages(back), reversed(all))
		}
	}
	// A page, then more records appended to an in-order file: the next
	// page, from the cursor, returns them in place.
	q.Limit = 100
	p, err := r.Fetch(t.Context(), q)
	if err != nil || len(p.Entries) != 100 {
		t.Fatalf("first page: %d entries, %v", len(p.Entries), err)
	}
	appendBytes(t, filepath.Join(dir, "a.json"), a.line(t, 61, 3))
	q.Cursor = p.Next
	rest, _ := fetchAll(t, r, q)
	if len(rest) != 83 || rest[len(rest)-1].Message != "a record 63" {
		t.Fatalf("after appending: %d entries (last %q); want 83, ending with a record 63", len(rest), messages(rest[len(rest)-1:]))
	}
}

// manySteps writes run "r" of 50 steps of 40 records (zstd frames of 7,
// one old plain file among them): steps 0-24 one after the other in time,
// as `runlog exec` runs them, steps 25-49 interleaved with each other and
// with those. It returns the activations.
func manySteps(t *testing.T, root string) []act {
	var acts []act
	for i := range 50 {
		a := act{run: "r", step: fmt.Sprintf("s%02d", i), id: fmt.Sprintf("a%02d", i)}
		if i < 25 {
			a.offset = time.Duration(i) * 40 * time.Microsecond
		} else {
			a.offset = time.Duration(i) * time.Nanosecond
		}
		if i == 30 {
			a.write(t, root, 1, 40, 7)
		} else {
			a.writeZstd(t, root, 1, 40, 7)
		}
		acts = append(acts, a)
	}
	return acts
}

// wantOnceInOrder fails unless es are in Fetch order, each once.
func wantOnceInOrder(t *testing.T, es []runlog.LogEntry) {
	t.Helper()
	seen := make(map[string]bool, len(es))
	for i := range es {
		if seen[es[i].Message] {
			t.Fatalf("%q returned twice", es[i].Message)
		}
		seen[es[i].Message] = true
		if i > 0 && !es[i-1].Before(&es[i]) {
			t.Fatalf("%q before %q: out of order", es[i-1].Message, es[i].Message)
		}
	}
}

// TestManyStepsPaged: a run of many steps, some following each other in
// time and some interleaved, paged forward with any page size gives the
// entries of one big read, once each and in order (forward pages leave a
// step unread until the merge gets to its time: this holds them to it),
// and backward their reverse.
func TestManyStepsPaged(t *testing.T) {
	root := t.TempDir()
	manySteps(t, root)
	r := New(root)
	big, err := r.Fetch(t.Context(), runlog.Query{RunID: "r", Limit: 5000})
	if err != nil || big.More || len(big.Entries) != 2000 {
		t.Fatalf("one read: %d entries, more %v, %v; want 2000, no more", len(big.Entries), big.More, err)
	}
	wantOnceInOrder(t, big.Entries)
	for _, limit := range []int{7, 40, 333} { // not 1: 2,000 pages, slow under -race
		fwd, ds := fetchAll(t, r, runlog.Query{RunID: "r", Limit: limit})
		if got, want := messages(fwd), messages(big.Entries); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %d entries, not those of one read (%d)", limit, len(got), len(want))
		}
		if len(ds) != 0 {
			t.Fatalf("limit %d: damage %v", limit, ds)
		}
		back, _ := fetchAll(t, r, runlog.Query{RunID: "r", Limit: limit, Direction: runlog.Backward})
		if got, want := messages(back), reversed(big.Entries); !slices.Equal(got, want) {
			t.Fatalf("limit %d backward: %d entries, not the reverse of forward", limit, len(got))
		}
	}
}

// TestManyStepsGrowth: between pages of a many-step run, records are
// appended to a step read to its end, to one read part way, to one not
// read yet (later than the pages so far), and a new step starts: the pages
// that follow return every one of them once, and nothing of before twice.
func TestManyStepsGrowth(t *testing.T) {
	root := t.TempDir()
	acts := manySteps(t, root)
	r := New(root)
	q := runlog.Query{RunID: "r", Limit: 500}
	var got []runlog.LogEntry
	for range 3 {
		p, err := r.Fetch(t.Context(), q)
		if err != nil || !p.More {
			t.Fatalf("Fetch: %d entries, more %v, %v", len(p.Entries), p.More, err)
		}
		got = append(got, p.Entries...)
		q.Cursor = p.Next
	}
	read := map[string]int{}
	for _, m := range messages(got) {
		read[m[:3]]++
	}
	if read["a00"] != 40 || read["a12"] == 0 || read["a12"] == 40 || read["a24"] != 0 {
		t.Fatalf("the first pages read %v; want all of step 0, part of step 12, none of step 24", read)
	}
	acts[0].writeZstd(t, root, 41, 5, 2)  // read to its end
	acts[12].writeZstd(t, root, 41, 5, 2) // read part way
	acts[24].writeZstd(t, root, 41, 5, 2) // not read yet
	late := act{run: "r", step: "s50", id: "a50", offset: 10 * time.Millisecond}
	late.writeZstd(t, root, 1, 5, 2) // a new step
	rest, ds := fetchAll(t, r, q)
	if len(ds) != 0 {
		t.Fatalf("damage %v", ds)
	}
	all := append(got, rest...)
	if len(all) != 2000+4*5 {
		t.Fatalf("%d entries; want %d", len(all), 2020)
	}
	seen := map[string]bool{}
	for _, m := range messages(all) {
		if seen[m] {
			t.Fatalf("%q returned twice", m)
		}
		seen[m] = true
	}
	// What was appended after the pages' times comes in order.
	wantOnceInOrder(t, rest[len(rest)-5:])
}
