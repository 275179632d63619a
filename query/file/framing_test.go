package file

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/framing"
)

// TestZstdRoundTrip: a step written in zstd frames (the local format), one
// of plain lines (the old one) beside it read back as the same
// entries, in order, whatever the page size; ListRuns reads the head of a
// compressed file.
func TestZstdRoundTrip(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	b := act{run: "r", step: "t", id: "b1", offset: 3}
	a.writeZstd(t, root, 1, 50, 7)
	b.write(t, root, 1, 50, 9) // an old, plain file beside it
	r := New(root)
	for _, limit := range []int{1, 6, 0} {
		es, ds := fetchAll(t, r, runlog.Query{RunID: "r", Limit: limit})
		if len(ds) != 0 || len(es) != 100 {
			t.Fatalf("limit %d: %d entries, damage %v; want 100, none", limit, len(es), ds)
		}
		for i := range es {
			id := "a1"
			if i%2 == 1 {
				id = "b1"
			}
			if want := id + " record " + strconv.Itoa(i/2+1); es[i].Message != want || es[i].RunID != "r" {
				t.Fatalf("limit %d: entry %d = %q (run %q); want %q", limit, i, es[i].Message, es[i].RunID, want)
			}
		}
	}
	es, _ := fetchAll(t, r, runlog.Query{RunID: "r", StepID: "s", Limit: 10})
	wantMessages(t, es, "a1", seqs(1, 50)...)
	runs, err := r.ListRuns(t.Context(), runlog.RunQuery{})
	if err != nil || len(runs.Runs) != 1 || runs.Runs[0].RunID != "r" || !runs.Runs[0].First.Equal(base.Add(1000)) {
		t.Fatalf("ListRuns = %+v, %v; want run r, first at %v", runs.Runs, err, base.Add(1000))
	}
}

// TestTornFrame: a last frame cut short is a write in progress, then,
// unchanged, damage that is reported at its offset; the writer's next
// frame after the piece is found and read.
func TestTornFrame(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	p := a.writeZstd(t, root, 1, 6, 2)
	good := size(t, p)
	fr := a.frame(t, 7, 2)
	appendBytes(t, p, fr[:len(fr)/2])
	r := New(root)
	q := runlog.Query{RunID: "r"}

	es, ds := fetchAll(t, r, q)
	wantMessages(t, es, "a1", seqs(1, 6)...)
	if len(ds) != 0 {
		t.Fatalf("a fresh torn frame (a write in progress) is reported: %v", ds)
	}
	age(t, p)
	page, err := r.Fetch(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	wantMessages(t, page.Entries, "a1", seqs(1, 6)...)
	wantDamage(t, page.Damaged, p, good, "last line cut short")

	appendBytes(t, p, a.frame(t, 9, 2))
	page2, err := r.Fetch(t.Context(), runlog.Query{RunID: "r", Cursor: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	wantMessages(t, page2.Entries, "a1", 9, 10)
	wantDamage(t, page2.Damaged, p, good, "zstd frame")
}

// TestCorruptFrame: a frame damaged in the middle of a file costs that
// frame: it is reported once over a forward fetch sequence, and the
// frames after it are read.
func TestCorruptFrame(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	p := a.writeZstd(t, root, 1, 4, 2)
	off := size(t, p)
	fr := a.frame(t, 5, 2)
	for i := len(fr) / 3; i < len(fr)/2; i++ {
		fr[i] ^= 0x5a
	}
	appendBytes(t, p, fr)
	a.writeZstd(t, root, 7, 4, 2)
	appendBytes(t, p, []byte("garbage after the frames\n"))
	r := New(root)
	for _, limit := range []int{1, 3, 0} {
		es, ds := fetchAll(t, r, runlog.Query{RunID: "r", Limit: limit})
		wantMessages(t, es, "a1", 1, 2, 3, 4, 7, 8, 9, 10)
		if len(ds) != 2 {
			t.Fatalf("limit %d: damage %v; want the frame and the garbage, once each", limit, ds)
		}
		wantDamage(t, ds[:1], p, off, "zstd frame")
	}
}

// TestCollectorSizedFrames: the collector's file exporter with
// `compression: zstd` and its native compression off writes each message
// as a 4-byte length and a zstd frame of one JSON message; LogsURI reads
// it.
func TestCollectorSizedFrames(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	var file []byte
	for i := 1; i <= 9; i += 3 {
		line := a.line(t, i, 3)
		fr := framing.Compress(nil, line[:len(line)-1])
		file = binary.BigEndian.AppendUint32(file, uint32(len(fr)))
		file = append(file, fr...)
	}
	p := filepath.Join(root, "collector.json")
	if err := os.WriteFile(p, file, 0o600); err != nil {
		t.Fatal(err)
	}
	es, ds := fetchAll(t, New(root), runlog.Query{RunID: "r", LogsURI: p, Limit: 4})
	if len(ds) != 0 {
		t.Fatalf("damage %v", ds)
	}
	wantMessages(t, es, "a1", seqs(1, 9)...)
}
