package file

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

var (
	_ runlog.RunLister = (*Reader)(nil)
	_ runlog.Deleter   = (*Reader)(nil)
)

// trashDir is where DeleteRun moves a run's directory before removing it,
// under the root: outside runs/, so no reader lists it once moved.
const trashDir = ".trash"

// headBytes bounds what ListRuns reads of a file (and, of a compressed
// one, what it decompresses): the start of its first line, which holds the resource (the run id) and the first record's time
// well within it. A file whose head says neither within it is not read
// further.
const headBytes = 256 << 10

// runCursor is what runlog.Cursor encodes for ListRuns: the sort key of
// the last run of a page.
type runCursor struct {
	Last int64  `json:"l"`
	Key  string `json:"r"`
}

// runDir is one run directory as ListRuns sees it before reading files.
type runDir struct {
	key   string
	last  time.Time
	steps int64
	files []string // relative to the root
}

// ListRuns lists the runs of the local store, newest first by the
// modification time of their newest file (the time its last record was
// written). See runlog.RunLister.
//
// Listing stats every record file of the store, and reads the head of the
// files of the runs on the page only: for each, the start of its first
// line (at most 256 KiB), for the run id (directory names are keys, not
// ids) and the first record's time. Records is -1: counting them would
// read every file. Nothing is cached between calls. A run that is being
// written while pages are read may move up the list; a cursor never
// returns a run twice in one pass of a list that does not change, and
// a run whose first line cannot be read yet (being written) is left off
// its page.
func (r *Reader) ListRuns(ctx context.Context, q runlog.RunQuery) (runlog.RunPage, error) {
	var cur *runCursor
	if q.Cursor != "" {
		cur = new(runCursor)
		if err := pagination.Decode(q.Cursor, cur); err != nil {
			return runlog.RunPage{}, err
		}
	}
	root, err := os.OpenRoot(r.root)
	if errors.Is(err, fs.ErrNotExist) {
		return runlog.RunPage{}, nil
	}
	if err != nil {
		return runlog.RunPage{}, r.unavailable("list runs", err)
	}
	defer root.Close()
	runs, err := listRunDirs(ctx, root)
	if err != nil {
		return runlog.RunPage{}, r.unavailable("list runs", err)
	}
	slices.SortFunc(runs, func(a, b runDir) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	kept := runs[:0]
	for _, d := range runs {
		if !q.Before.IsZero() && !d.last.Before(q.Before) {
			continue
		}
		if cur != nil {
			if l := d.last.UnixNano(); l > cur.Last || l == cur.Last && d.key <= cur.Key {
				continue
			}
		}
		kept = append(kept, d)
	}
	limit := q.EffectiveLimit()
	var p runlog.RunPage
	if len(kept) > limit {
		kept, p.More = kept[:limit], true
	}
	for _, d := range kept {
		if err := ctx.Err(); err != nil {
			return runlog.RunPage{}, err
		}
		info, ok := readRun(root, d)
		if ok {
			p.Runs = append(p.Runs, info)
		}
	}
	if n := len(kept); n > 0 {
		p.Next = pagination.Encode(runCursor{Last: kept[n-1].last.UnixNano(), Key: kept[n-1].key})
	} else {
		p.Next = q.Cursor
	}
	return p, nil
}

// listRunDirs lists the run directories under runs/ that hold record
// files, with the newest modification time of those files. Only real
// directories are listed: a symbolic link there is not the store's.
func listRunDirs(ctx context.Context, root *os.Root) ([]runDir, error) {
	ents, err := readDirIn(root, "runs")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var runs []runDir
	for _, e := range ents {
		if !e.IsDir() || !layout.IsKey(e.Name()) || e.Name() == layout.RunLevel {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d := runDir{key: e.Name()}
		runRel := filepath.Join("runs", e.Name())
		steps, _ := readDirIn(root, runRel) // an unreadable run lists as empty; Fetch reports why
		for _, st := range steps {
			if !st.IsDir() || !layout.IsKey(st.Name()) {
				continue
			}
			stepRel := filepath.Join(runRel, st.Name())
			files, _ := readDirIn(root, stepRel)
			has := false
			for _, f := range files {
				if !f.Type().IsRegular() || !strings.HasSuffix(f.Name(), layout.Ext) {
					continue
				}
				fi, err := f.Info()
				if err != nil {
					continue // removed meanwhile
				}
				has = true
				d.files = append(d.files, filepath.Join(stepRel, f.Name()))
				if t := fi.ModTime(); t.After(d.last) {
					d.last = t
				}
			}
			if has {
				d.steps++
			}
		}
		if len(d.files) > 0 {
			d.files = slices.Clip(d.files)
			runs = append(runs, d)
		}
	}
	return runs, nil
}

func readDirIn(root *os.Root, name string) ([]fs.DirEntry, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// readRun reads the head of each of d's files for the run id and the
// first record's time. It reports false when no file names a run whose
// key is d's.
func readRun(root *os.Root, d runDir) (runlog.RunInfo, bool) {
	info := runlog.RunInfo{Last: d.last, Steps: d.steps, Records: -1}
	found := false
	for _, name := range d.files {
		id, first, ok := readHead(root, name)
		if !ok || layout.Key(id) != d.key {
			continue // a file of another run put here, or not written yet
		}
		info.RunID, found = id, true
		if !first.IsZero() && (info.First.IsZero() || first.Before(info.First)) {
			info.First = first
		}
	}
	if info.First.After(info.Last) {
		info.First = info.Last // clocks: a record stamped after the file's write
	}
	return info, found
}

// readHead reads the run id in the resource of the first line of the file
// name, and its first record's time, from at most headBytes of it.
func readHead(root *os.Root, name string) (run string, first time.Time, ok bool) {
	f, err := root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return "", time.Time{}, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", time.Time{}, false
	}
	var src io.Reader = bufio.NewReader(io.LimitReader(f, headBytes))
	var magic [framing.SniffLen]byte
	n, _ := f.ReadAt(magic[:], 0)
	switch framing.Sniff(magic[:n]) {
	case framing.Sized:
		_, _ = io.CopyN(io.Discard, src, 4)
		fallthrough
	case framing.Zstd:
		zr, err := framing.NewReader(src)
		if err != nil {
			return "", time.Time{}, false
		}
		defer zr.Close()
		src = io.LimitReader(zr, headBytes)
	}
	dec := json.NewDecoder(src)
	h := head{dec: dec}
	h.request()
	return h.run, h.first, h.run != ""
}

// head walks the start of one OTLP JSON line (an ExportLogsServiceRequest)
// token by token, to the first resource's run id and the first record's
// time, and stops there: the rest of the line is never read.
type head struct {
	dec   *json.Decoder
	run   string
	first time.Time
	done  bool
}

// object calls field for each key of the object that starts next, until
// the object ends or the walk is done.
func (h *head) object(field func(key string)) {
	if t, err := h.dec.Token(); err != nil || t != json.Delim('{') {
		h.done = true
		return
	}
	for !h.done && h.dec.More() {
		t, err := h.dec.Token()
		k, isKey := t.(string)
		if err != nil || !isKey {
			h.done = true
			return
		}
		field(k)
	}
	if !h.done {
		_, _ = h.dec.Token() // '}'
	}
}

// first calls elem for the first element of the array that starts next.
func (h *head) firstOf(elem func()) {
	if t, err := h.dec.Token(); err != nil || t != json.Delim('[') {
		h.done = true
		return
	}
	if h.dec.More() {
		elem()
	}
	h.done = true // what follows the first element is not needed
}

func (h *head) skip() {
	var v json.RawMessage
	if h.dec.Decode(&v) != nil {
		h.done = true
	}
}

func (h *head) request() {
	h.object(func(k string) {
		if k != "resourceLogs" {
			h.skip()
			return
		}
		h.firstOf(func() {
			h.object(func(k string) {
				switch k {
				case "resource":
					var res struct {
						Attributes []struct {
							Key   string
							Value struct{ StringValue string }
						}
					}
					if h.dec.Decode(&res) != nil {
						h.done = true
						return
					}
					for _, a := range res.Attributes {
						if a.Key == resource.RunID {
							h.run = a.Value.StringValue
						}
					}
				case "scopeLogs":
					h.firstOf(func() {
						h.object(func(k string) {
							if k != "logRecords" {
								h.skip()
								return
							}
							h.firstOf(h.record)
						})
					})
				default:
					h.skip()
				}
			})
		})
	})
}

// record reads the time of the log record that starts next.
func (h *head) record() {
	var observed time.Time
	h.object(func(k string) {
		switch k {
		case "timeUnixNano", "observedTimeUnixNano":
			var s string
			if h.dec.Decode(&s) != nil {
				h.done = true
				return
			}
			ns, err := strconv.ParseInt(s, 10, 64)
			if err != nil || ns <= 0 {
				return
			}
			if k == "timeUnixNano" {
				h.first = time.Unix(0, ns)
				h.done = true
			} else {
				observed = time.Unix(0, ns)
			}
		default:
			h.skip()
		}
	})
	if h.first.IsZero() {
		h.first = observed
	}
}

// DeleteRun removes the run's directory, every step and activation of
// it, and reports how many record files it held. See runlog.Deleter.
//
// The directory is first renamed into .trash under the root, in one
// step: from then on no fetch or listing sees any of the run, even if the
// removal that follows fails part way (the error then says what is left
// where). Nothing is followed out of the root: a symbolic link is removed,
// not what it points at.
//
// A writer still appending to an activation of the run keeps its file
// open: what it writes after the rename goes to the removed file and is
// lost, without an error to the writer. An activation (or a writer that
// reopens its file) after the deletion starts the run's directory anew,
// holding only what it writes from then on.
func (r *Reader) DeleteRun(ctx context.Context, run string) (runlog.DeleteReport, error) {
	rep := runlog.DeleteReport{RunID: run}
	if run == "" {
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: r.root, Err: errors.New("no run id given")}
	}
	key := layout.Key(run)
	if !layout.IsKey(key) || key == layout.RunLevel || filepath.Base(key) != key || key == "." || key == ".." {
		// Key never returns one; a check here keeps a change there from
		// ever deleting outside runs/.
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: r.root,
			Err: fmt.Errorf("run %q does not map to a run directory", run)}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rel := filepath.Join("runs", key)
	root, err := os.OpenRoot(r.root)
	if errors.Is(err, fs.ErrNotExist) {
		rep.Detail = "nothing stored for this run: the data directory " + r.root + " does not exist"
		return rep, nil
	}
	if err != nil {
		return rep, r.unavailable("delete", err)
	}
	defer root.Close()
	if _, err := root.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
		rep.Detail = "nothing stored for this run in " + r.root
		return rep, nil
	} else if err != nil {
		return rep, r.unavailable("delete", err)
	}
	if err := root.MkdirAll(trashDir, 0o700); err != nil {
		return rep, r.unavailable("delete", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	trash := filepath.Join(trashDir, key+"."+hex.EncodeToString(rnd[:]))
	if err := root.Rename(rel, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
			rep.Detail = "nothing stored for this run in " + r.root
			return rep, nil
		}
		return rep, r.unavailable("delete", err)
	}
	_ = fs.WalkDir(root.FS(), filepath.ToSlash(trash), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rep.Deleted++
		}
		return nil
	})
	if err := root.RemoveAll(trash); err != nil {
		return rep, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "delete", Store: r.root,
			Err:  fmt.Errorf("run moved out of the store, but not all removed: %w", err),
			Hint: "remove " + filepath.Join(r.root, trash) + " by hand"}
	}
	rep.Detail = fmt.Sprintf("removed %d files under %s", rep.Deleted, filepath.Join(r.root, rel))
	return rep, nil
}

func (r *Reader) unavailable(op string, err error) error {
	return &runlog.Error{Kind: runlog.ErrUnavailable, Op: op, Store: r.root, Err: err,
		Hint: "check that the data directory exists and is readable and writable"}
}
