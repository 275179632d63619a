package pagination

import (
	"slices"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

func entry(sec int64, seq uint64) runlog.LogEntry {
	return runlog.LogEntry{Time: time.Unix(sec, 0), Sequence: seq, ID: "a"}
}

func seqs(es []runlog.LogEntry) []uint64 {
	var out []uint64
	for i := range es {
		out = append(out, es[i].Sequence)
	}
	return out
}

// TestMerge: batches out of order inside, meeting on a shared entry, after
// a cursor, in both directions; the page is cut at the limit and says so.
func TestMerge(t *testing.T) {
	batches := [][]runlog.LogEntry{
		{entry(2, 2), entry(1, 1), entry(3, 3)},
		{entry(4, 4), entry(3, 3), entry(5, 5)}, // 3 read twice, where the batches meet
		{entry(7, 7), entry(6, 6)},
	}
	for _, tc := range []struct {
		name  string
		dir   runlog.Direction
		last  *Key
		limit int
		want  []uint64
		cut   bool
	}{
		{"forward", runlog.Forward, nil, 10, []uint64{1, 2, 3, 4, 5, 6, 7}, false},
		{"forward cut", runlog.Forward, nil, 4, []uint64{1, 2, 3, 4}, true},
		{"forward past cursor", runlog.Forward, KeyOf(&runlog.LogEntry{Time: time.Unix(2, 0), Sequence: 2, ID: "a"}), 4, []uint64{3, 4, 5, 6}, true},
		{"backward past cursor", runlog.Backward, KeyOf(&runlog.LogEntry{Time: time.Unix(6, 0), Sequence: 6, ID: "a"}), 10, []uint64{5, 4, 3, 2, 1}, false},
		{"exactly the limit", runlog.Forward, nil, 7, []uint64{1, 2, 3, 4, 5, 6, 7}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Merge{Last: tc.last, Dir: tc.dir, Limit: tc.limit}
			order := slices.Clone(batches)
			if tc.dir == runlog.Backward {
				slices.Reverse(order)
			}
			for _, b := range order {
				if m.Full() {
					break
				}
				m.Add(slices.Clone(b))
			}
			page, cut := m.Cut()
			if got := seqs(page); !slices.Equal(got, tc.want) || cut != tc.cut {
				t.Errorf("page %v, cut %v; want %v, %v", got, cut, tc.want, tc.cut)
			}
		})
	}
}

func TestKeyAfter(t *testing.T) {
	e := entry(5, 1)
	var none *Key
	if !none.After(&e, runlog.Forward) || !none.After(&e, runlog.Backward) {
		t.Error("an entry is not after the nil key")
	}
	k := KeyOf(&e)
	if k.After(&e, runlog.Forward) || k.After(&e, runlog.Backward) {
		t.Error("the key's own entry comes after it")
	}
	later := entry(5, 2)
	if !k.After(&later, runlog.Forward) || k.After(&later, runlog.Backward) {
		t.Error("a later entry: After wrong in one direction")
	}
}
