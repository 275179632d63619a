package file

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
)

// fetchAll reads q page after page and returns the entries and every
// damage listed, in order, repeats included.
func fetchAll(t *testing.T, r *Reader, q runlog.Query) ([]runlog.LogEntry, []runlog.Damage) {
	t.Helper()
	var (
		es []runlog.LogEntry
		ds []runlog.Damage
	)
	for range 10000 {
		p, err := r.Fetch(t.Context(), q)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		es = append(es, p.Entries...)
		ds = append(ds, p.Damaged...)
		if !p.More {
			return es, ds
		}
		q.Cursor = p.Next
	}
	t.Fatal("no last page")
	return nil, nil
}

func messages(es []runlog.LogEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

func wantMessages(t *testing.T, es []runlog.LogEntry, id string, seqs ...int) {
	t.Helper()
	var want []string
	for _, s := range seqs {
		want = append(want, id+" record "+strconv.Itoa(s))
	}
	if got := messages(es); !slices.Equal(got, want) {
		t.Fatalf("entries %q; want %q", got, want)
	}
}

func seqs(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func wantDamage(t *testing.T, ds []runlog.Damage, file string, off int64, text string) runlog.Damage {
	t.Helper()
	for _, d := range ds {
		if d.File == file && d.Offset == off && strings.Contains(d.Err, text) {
			return d
		}
	}
	t.Fatalf("damage %v; want one for %s at %d saying %q", ds, file, off, text)
	return runlog.Damage{}
}

func size(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTornLastLine: a file cut in the middle of its last line gives the
// records before it; the cut is left alone while it may be a write in
// progress, reported (file and offset) once it is old, on every page that
// reaches it; and when the writer later starts a new line after it, the
// piece is a damaged line and the new records are read.
func TestTornLastLine(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	p := a.write(t, root, 1, 6, 2)
	good := size(t, p)
	line := a.line(t, 7, 2)
	appendBytes(t, p, line[:len(line)/2])
	r := New(root)
	q := runlog.Query{RunID: "r"}

	es, ds := fetchAll(t, r, q)
	wantMessages(t, es, "a1", seqs(1, 6)...)
	if len(ds) != 0 {
		t.Fatalf("a fresh unterminated line (a write in progress) is reported: %v", ds)
	}
	age(t, p)
	page, err := r.Fetch(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	wantMessages(t, page.Entries, "a1", seqs(1, 6)...)
	d := wantDamage(t, page.Damaged, p, good, "last line cut short")
	if d.ActivationID != "a1" || d.RunID != "r" {
		t.Fatalf("damage scope %+v; want run r activation a1", d)
	}
	// The next page starts before the cut: it is listed again, unchanged.
	page2, err := r.Fetch(t.Context(), runlog.Query{RunID: "r", Cursor: page.Next})
	if err != nil || len(page2.Entries) != 0 || len(page2.Damaged) != 1 || page2.Damaged[0] != d {
		t.Fatalf("next page = %d entries, damage %v, %v; want none and the same damage", len(page2.Entries), page2.Damaged, err)
	}
	// The writer's next batch starts on a new line.
	appendBytes(t, p, append([]byte("\n"), a.line(t, 9, 2)...))
	page3, err := r.Fetch(t.Context(), runlog.Query{RunID: "r", Cursor: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	wantMessages(t, page3.Entries, "a1", 9, 10)
	wantDamage(t, page3.Damaged, p, good, "not an OTLP JSON line")
}

// TestGarbageLine: a line that is not OTLP JSON in the middle of a file
// costs that line only, is listed once over a forward fetch sequence, and
// its bytes are not replayed in the message.
func TestGarbageLine(t *testing.T) {
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a1"}
	p := a.write(t, root, 1, 4, 2)
	off := size(t, p)
	appendBytes(t, p, []byte("garbage \x1b[31m red \x1b]0;title\x07 {\"x\":\n"))
	a.write(t, root, 5, 4, 2)
	b := act{run: "r", step: "t", id: "b1", offset: 500 * 1e3}
	b.write(t, root, 1, 3, 1)
	r := New(root)

	for _, limit := range []int{1, 3, 0} {
		es, ds := fetchAll(t, r, runlog.Query{RunID: "r", StepID: "s", Limit: limit})
		wantMessages(t, es, "a1", seqs(1, 8)...)
		if len(ds) != 1 {
			t.Fatalf("limit %d: damage %v; want the line listed once", limit, ds)
		}
		d := wantDamage(t, ds, p, off, "not an OTLP JSON line")
		if strings.ContainsAny(d.Err, "\x1b\x07") || strings.Contains(d.Err, "title") {
			t.Fatalf("damage message replays the line: %q", d.Err)
		}
	}
	es, ds := fetchAll(t, r, runlog.Query{RunID: "r", Direction: runlog.Backward})
	if len(es) != 11 {
		t.Fatalf("backward: %d entries; want 11", len(es))
	}
	wantDamage(t, ds, p, off, "not an OTLP JSON line")

	cs, err := runlog.Check(t.Context(), r, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Status != runlog.StatusDamaged || cs[0].Activation != "a1" || len(cs[0].Damaged) != 1 || cs[1].Status != runlog.StatusRunning {
		t.Fatalf("Check = %v; want a1 damaged (the line listed once), b1 running", cs)
	}
	if s := cs[0].String(); !strings.Contains(s, "damaged") || !strings.Contains(s, p) {
		t.Fatalf("Check's line %q does not name the file", s)
	}
}

// TestUnreadableFile: a record file that cannot be read costs that file
// only and is listed (Offset -1) on every page. As root, permissions do
// not stop reads: a directory and a named pipe (reached directly and
// through a link) stand where files should be; the pipe must not hang the
// read.
func TestUnreadableFile(t *testing.T) {
	root := t.TempDir()
	good := act{run: "r", step: "s", id: "good"}
	good.write(t, root, 1, 3, 3)
	bad := act{run: "r", step: "s", id: "bad"}
	var broken []string
	if os.Geteuid() != 0 && runtime.GOOS != "windows" {
		p := bad.write(t, root, 1, 3, 3)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		broken = append(broken, p)
	} else {
		t.Log("running as root: chmod does not stop reads; a directory and named pipes stand for unreadable files")
		p := bad.path(root)
		if err := os.MkdirAll(p, 0o750); err != nil {
			t.Fatal(err)
		}
		broken = append(broken, p)
		for _, id := range []string{"fifo", "linked"} {
			broken = append(broken, act{run: "r", step: "s", id: id}.path(root))
		}
		if err := syscall.Mkfifo(broken[1], 0o640); err != nil {
			t.Skip("no named pipes here:", err)
		}
		if err := os.Symlink("fifo"+layout.Ext, broken[2]); err != nil {
			t.Fatal(err)
		}
	}
	r := New(root)
	for _, q := range []runlog.Query{{RunID: "r"}, {RunID: "r", StepID: "s"}, {RunID: "r", Direction: runlog.Backward}} {
		for range 2 { // every page lists it
			p, err := r.Fetch(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if q.Direction == runlog.Backward {
				slices.Reverse(p.Entries)
			}
			wantMessages(t, p.Entries, "good", 1, 2, 3)
			if len(p.Damaged) != len(broken) {
				t.Fatalf("%+v: damage %v; want one per broken file %v", q, p.Damaged, broken)
			}
			for _, b := range broken {
				d := wantDamage(t, p.Damaged, b, -1, "")
				if d.ActivationID == "" || d.RunID != "r" {
					t.Fatalf("damage %+v has no activation", d)
				}
			}
		}
	}
	cs, err := runlog.Check(t.Context(), r, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, c := range cs {
		if c.Status == runlog.StatusDamaged {
			damaged++
		}
	}
	if damaged != len(broken) {
		t.Fatalf("Check = %v; want %d damaged activations", cs, len(broken))
	}
}

// TestUnreadableStepDir: a step directory that cannot be listed is
// reported, never silently dropped, and the other steps are read. As
// root, a regular file stands where the step's directory should be.
func TestUnreadableStepDir(t *testing.T) {
	root := t.TempDir()
	act{run: "r", step: "ok", id: "a"}.write(t, root, 1, 2, 2)
	dir := layout.StepDir(root, "r", "broken")
	if os.Geteuid() != 0 && runtime.GOOS != "windows" {
		act{run: "r", step: "broken", id: "b"}.write(t, root, 1, 2, 2)
		if err := os.Chmod(dir, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o750) })
	} else {
		t.Log("running as root: chmod does not stop reads; a regular file stands where the step directory should be")
		if err := os.WriteFile(dir, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	r := New(root)
	es, ds := fetchAll(t, r, runlog.Query{RunID: "r"})
	wantMessages(t, es, "a", 1, 2)
	wantDamage(t, ds, dir, -1, "")
	_, ds = fetchAll(t, r, runlog.Query{RunID: "r", StepID: "broken"})
	d := wantDamage(t, ds, dir, -1, "cannot list")
	if d.StepID != "broken" {
		t.Fatalf("damage %+v; want it to name the step", d)
	}
	cs, err := runlog.Check(t.Context(), r, runlog.Query{RunID: "r", StepID: "broken"})
	if err != nil || len(cs) != 1 || cs[0].Status != runlog.StatusDamaged || cs[0].StepID != "broken" {
		t.Fatalf("Check = %v, %v; want the step damaged", cs, err)
	}
}

// TestSymlinkOut: links inside the data directory that lead out of it — to
// a file, to a directory, as the run directory — are reported and never
// followed; nothing of the outside files is read or quoted.
func TestSymlinkOut(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret := act{run: "r", step: "s", id: "SECRETOUTSIDE"}
	secret.write(t, outside, 1, 2, 2)
	outsideFile := secret.path(outside)
	act{run: "r", step: "s", id: "a"}.write(t, root, 1, 2, 2)

	link := act{run: "r", step: "s", id: "link"}.path(root)
	if err := os.Symlink(outsideFile, link); err != nil {
		t.Fatal(err)
	}
	stepLink := layout.StepDir(root, "r", "linked")
	if err := os.Symlink(filepath.Dir(outsideFile), stepLink); err != nil {
		t.Fatal(err)
	}
	// Inside the data directory, links are followed.
	within := act{run: "r", step: "s", id: "within"}.path(root)
	act{run: "r", step: "s2", id: "target"}.write(t, root, 5, 1, 1)
	if err := os.Symlink(filepath.Join("..", layout.Key("s2"), "target"+layout.Ext), within); err != nil {
		t.Fatal(err)
	}

	check := func(es []runlog.LogEntry, ds []runlog.Damage) {
		t.Helper()
		for _, e := range es {
			if strings.Contains(e.Message, "SECRET") {
				t.Fatalf("entry from outside the data directory: %q", e.Message)
			}
		}
		for _, d := range ds {
			if strings.Contains(d.Err, "SECRET") || strings.Contains(d.Err, outside) {
				t.Fatalf("damage quotes the outside: %+v", d)
			}
		}
	}
	r := New(root)
	es, ds := fetchAll(t, r, runlog.Query{RunID: "r"})
	check(es, ds)
	if len(es) != 4 { // a 1, 2; target 5 twice (its own file and the link)
		t.Fatalf("entries %q; want the 4 inside the data directory", messages(es))
	}
	wantDamage(t, ds, link, -1, "symbolic link")
	wantDamage(t, ds, stepLink, -1, "symbolic link")

	// The run directory itself a link out.
	runLink := layout.RunDir(root, "r2")
	if err := os.Symlink(filepath.Join(outside, "runs", layout.Key("r")), runLink); err != nil {
		t.Fatal(err)
	}
	es, ds = fetchAll(t, r, runlog.Query{RunID: "r2"})
	check(es, ds)
	if len(es) != 0 {
		t.Fatalf("entries %q through a linked run directory", messages(es))
	}
	wantDamage(t, ds, runLink, -1, "symbolic link")

	// LogsURI naming a link that leads out.
	es, ds = fetchAll(t, r, runlog.Query{RunID: "r", LogsURI: link})
	check(es, ds)
	if len(es) != 0 || len(ds) != 1 {
		t.Fatalf("LogsURI through a link: %q, damage %v; want nothing read, the link reported", messages(es), ds)
	}
}

// TestLogsURIConfined: LogsURI reads under the data directory and the
// directories allowed; anything else is ErrInvalid saying what to set.
func TestLogsURIConfined(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	a := act{run: "r", step: "s", id: "a"}
	a.write(t, other, 1, 3, 3)
	a.write(t, root, 1, 2, 2)
	inOther := a.path(other)

	_, err := New(root).Fetch(t.Context(), runlog.Query{RunID: "r", LogsURI: inOther})
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "logs_uri_dirs") {
		t.Fatalf("LogsURI outside = %v; want ErrInvalid naming logs_uri_dirs", err)
	}
	for _, uri := range []string{root + "/../" + filepath.Base(other) + "/runs", "file://" + inOther, "/"} {
		if _, err := New(root).Fetch(t.Context(), runlog.Query{RunID: "r", LogsURI: uri}); !errors.Is(err, runlog.ErrInvalid) {
			t.Fatalf("LogsURI %q = %v; want ErrInvalid", uri, err)
		}
	}
	es, ds := fetchAll(t, New(root), runlog.Query{RunID: "r", LogsURI: filepath.Join(root, "runs")})
	if len(es) != 2 || len(ds) != 0 {
		t.Fatalf("LogsURI under the data directory: %d entries, %v", len(es), ds)
	}
	r := New(root, WithLogsURIDirs(other))
	for _, uri := range []string{inOther, "file://" + inOther, other} {
		es, ds = fetchAll(t, r, runlog.Query{RunID: "r", LogsURI: uri})
		if len(es) != 3 || len(ds) != 0 {
			t.Fatalf("LogsURI %q allowed: %d entries, %v; want 3", uri, len(es), ds)
		}
	}
}

// TestLongLine: a line over the bound is skipped, reported, and the lines
// after it are read; it is never held in memory whole.
func TestLongLine(t *testing.T) {
	defer func(m int64) { maxLine = m }(maxLine)
	maxLine = 1 << 20
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a"}
	p := a.write(t, root, 1, 2, 2)
	off := size(t, p)
	appendBytes(t, p, append([]byte(`{"resourceLogs":[`), append(make([]byte, 8<<20), "]}\n"...)...))
	a.write(t, root, 3, 2, 2)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	es, ds := fetchAll(t, New(root), runlog.Query{RunID: "r"})
	runtime.ReadMemStats(&after)
	wantMessages(t, es, "a", 1, 2, 3, 4)
	wantDamage(t, ds, p, off, "over the bound")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6<<20 {
		t.Fatalf("reading an 8 MiB line allocated %d MiB; want it bounded by the 1 MiB line bound", alloc>>20)
	}
}

// TestLongLineReal: one 200 MB line (a sparse file) under the real bound.
func TestLongLineReal(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 MB")
	}
	root := t.TempDir()
	a := act{run: "r", step: "s", id: "a"}
	p := a.write(t, root, 1, 2, 2)
	off := size(t, p)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("\n"), off+200e6); err != nil { // a hole of 200 MB, then a newline
		t.Fatal(err)
	}
	f.Close()
	a.write(t, root, 3, 2, 2)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	es, ds := fetchAll(t, New(root), runlog.Query{RunID: "r"})
	runtime.ReadMemStats(&after)
	wantMessages(t, es, "a", 1, 2, 3, 4)
	wantDamage(t, ds, p, off, "over the bound")
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a 200 MB line cost %d MiB of allocation", alloc>>20)
	if alloc > 2*layout.MaxLine+(16<<20) {
		t.Fatalf("reading a 200 MB line allocated %d MiB; want at most about twice the %d MiB bound", alloc>>20, layout.MaxLine>>20)
	}
}
