// Package file is the read path of runlog's embedded local store: it reads
// OTLP JSON lines (one ExportLogsServiceRequest per line, the format the
// OpenTelemetry Collector's file exporter writes), plain or in zstd frames
// (the local store's format, and the collector's with compression: zstd),
// back into runlog.LogEntry values, with filtering, ordering, paging and a
// cursor.
//
// A Reader reads the local store's layout under a root directory (see
// otelstore's local exporter): one file per activation, under one directory
// per run and step, so a fetch reads only the run (or step) asked for. A
// query's LogsURI may instead name a file or directory of OTLP JSON lines,
// such as what a collector's file exporter wrote, under the root or under
// a directory given with WithLogsURIDirs; any other is refused
// (ErrInvalid).
//
// # Order and cursors
//
// Entries come in timestamp, then sequence order. In the local layout each
// file is already in that order (the writer guarantees it), so a page is a
// k-way merge of the files, reading each from where the previous page left
// it: the cursor holds, for every file of the run, the position of the
// first record not yet returned, and a lower bound of its time: a file is
// read only once the merge gets to that time, so a page of a run whose
// steps follow each other reads the steps it returns, not one segment of
// each. Records appended later, to old files or new ones, are all returned
// by the next fetch with that cursor, which is what a live tail needs; no
// entry is returned twice. Foreign files
// (LogsURI) and backward fetches are read as streams that keep only the
// page's best entries (memory bounded by the limit, not the files); their
// cursor is the sort key of the last entry, plus, forward, where each
// foreign file found in order was left.
//
// # Damage
//
// What cannot be read is reported in Page.Damaged, naming the file (and the
// byte offset of the line), and the rest is read as usual; a fetch fails
// only when the directory it reads cannot be opened at all.
//
//   - A line that does not decode is skipped, listed on the page whose read
//     passed it (on every page for the sorted reads, which reread). So is
//     a zstd frame that does not parse or decompress: reading goes on at
//     the next zstd magic number; one cut short at the end of the file is
//     treated as an unterminated last line.
//   - A line longer than layout.MaxLine (64 MiB) is skipped without being
//     held in memory; the writer never writes one.
//   - A last line without its newline is a write in progress and is left
//     for later; once it has stayed so for 10 s (the file's modification
//     time) it is listed, on every page that reaches it, and still left in
//     place, so that a write that completes after all is read.
//   - A file or directory that cannot be opened or listed, an entry that is
//     not a regular file (or, for a step, not a directory), and a symbolic
//     link that leads out of the directory read, or to nothing, are listed
//     on every page; a link is never followed out, and nothing of what it
//     points at is read or quoted.
//
// One fetch holds at most 64 files open at once, however many activations
// the run has: a file is reopened where its read stopped when it is needed
// again.
package file

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

// Reader fetches entries from a local store directory. It is safe for
// concurrent use.
type Reader struct {
	root    string
	uriDirs []string
	conv    *resource.Convention // nil: resource.CICD
	lines   lineCache
}

var _ runlog.Fetcher = (*Reader)(nil)

// Option configures a Reader.
type Option func(*Reader)

// WithLogsURIDirs lets a query's LogsURI name files and directories under
// dirs, besides the root. Without it, LogsURI may only point under the
// root. Symbolic links under a directory are followed only as long as they
// stay in it.
func WithLogsURIDirs(dirs ...string) Option {
	return func(r *Reader) {
		for _, d := range dirs {
			if d != "" {
				r.uriDirs = append(r.uriDirs, filepath.Clean(d))
			}
		}
	}
}

// WithConvention reads records by convention c: its attributes, in the
// resource or on the record, fill the entries' run, step, source, attempt
// and activation, and are what a query's run, step and source match. The
// default is resource.CICD, what runlog writes; foreign files (LogsURI)
// may follow another, such as resource.ConventionNamed("zenml").
func WithConvention(c resource.Convention) Option {
	return func(r *Reader) { r.conv = resource.ReaderOf(c) }
}

// New returns a Reader of the local store under root.
func New(root string, opts ...Option) *Reader {
	r := &Reader{root: root}
	for _, o := range opts {
		o(r)
	}
	return r
}

// OneFile returns a Fetcher that reads the OTLP JSON file at path for
// every query, as its Query.LogsURI: the file a collector's or a
// service's own file exporter writes, where runs are found by their
// records' attributes. path must be one r may read as a LogsURI (under
// its root, or a WithLogsURIDirs directory).
func (r *Reader) OneFile(path string) runlog.Fetcher { return oneFile{r, path} }

type oneFile struct {
	r    *Reader
	path string
}

func (f oneFile) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	q.LogsURI = f.path
	return f.r.Fetch(ctx, q)
}

// lineCache keeps the decoded records of the lines that pages stopped in,
// so that the next page does not decode them again: a line holds a whole
// export batch (up to a thousand records), and paging with small pages
// would otherwise decode it once per page. Lines of record files never
// change once written, so entries never go stale.
//
// A page of a run whose steps run side by side stops inside a line of
// each step: the cache holds up to maxOpen lines, so that the next page
// resumes each of them, but at most cachedRecords records in all (the
// lines a page held anyway, kept a page longer). A line is taken out when
// a page resumes in it (that page puts it back if it stops in it again):
// left in, the lines that pages of a long step went past would fill the
// cache, a 100-step run's read then held 65,536 dead records. A cursor
// used twice decodes its line again the second time.
type lineCache struct {
	mu    sync.Mutex
	lines map[string][]runlog.LogEntry
	held  int // records in lines
	// records is how many records the last segment decoded held: the
	// first segment a fetch decodes is sized by it (entries are large,
	// growing a slice of them costs more than decoding).
	records atomic.Int64
}

const (
	cachedLines   = maxOpen
	cachedRecords = 1 << 16
)

// take returns the records of line k, if cached, and takes them out.
func (c *lineCache) take(k string) ([]runlog.LogEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	es, ok := c.lines[k]
	if ok {
		c.held -= len(es)
		delete(c.lines, k)
	}
	return es, ok
}

func (c *lineCache) put(k string, es []runlog.LogEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(es) > cachedRecords {
		return
	}
	if c.lines == nil {
		c.lines = make(map[string][]runlog.LogEntry)
	}
	if old, ok := c.lines[k]; ok {
		c.held -= len(old)
		delete(c.lines, k)
	}
	for old, oes := range c.lines {
		if len(c.lines) < cachedLines && c.held+len(es) <= cachedRecords {
			break
		}
		c.held -= len(oes)
		delete(c.lines, old)
	}
	c.lines[k] = es
	c.held += len(es)
}

// cursor is what runlog.Cursor encodes for this reader.
type cursor struct {
	// Pos maps a file, relative to the run directory, to the position of
	// its first record not yet returned: byte offset of its line, index in
	// the line, and a lower bound of that record's time in Unix
	// nanoseconds (0: not known; cursors made before it have two
	// elements). The bound lets the next page leave the file unread until
	// the merge gets to that time (see mergeForward): records at a
	// position never change, so it holds however the file grows.
	Pos map[string][3]int64 `json:"p,omitempty"`
	// Key is the sort key of the last entry returned.
	Key *pagination.Key `json:"k,omitempty"`
	// Files maps a foreign file, read forward, to the offset of the
	// segment its last returned entry came from and the offset up to
	// which it was found in order (see sorted).
	Files map[string][2]int64 `json:"f,omitempty"`
	// Back maps a file of the local store, read backward, to the offset
	// below which its segments still hold entries for later pages (0:
	// none); a file not listed is read from its end.
	Back map[string]int64 `json:"b,omitempty"`
	// Up maps a file of Back with segments left to an upper bound of
	// their entries' times, Unix ns (see backward).
	Up map[string]int64 `json:"u,omitempty"`
}

func decodeCursor(c runlog.Cursor) (cursor, error) {
	var cur cursor
	if err := pagination.Decode(c, &cur); err != nil {
		return cursor{}, err
	}
	for _, p := range cur.Pos {
		if p[0] < 0 || p[1] < 0 || p[2] < 0 {
			return cursor{}, pagination.Invalid(c)
		}
	}
	for _, b := range cur.Back {
		if b < 0 {
			return cursor{}, pagination.Invalid(c)
		}
	}
	for _, p := range cur.Files {
		if p[0] < 0 || p[1] < p[0] {
			return cursor{}, pagination.Invalid(c)
		}
	}
	return cur, nil
}

func (c cursor) encode() runlog.Cursor { return pagination.Encode(c) }

// Fetch returns the entries matching q; see runlog.LogStore.
func (r *Reader) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	src, err := r.source(&q)
	if err != nil {
		var re *runlog.Error
		if errors.As(err, &re) {
			return runlog.Page{}, err
		}
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: r.store(&q), Err: err,
			Hint: "check that the directory exists and is readable"}
	}
	if src == nil { // nothing stored there yet
		return runlog.Page{Next: q.Cursor}, nil
	}
	defer src.root.Close()
	var p runlog.Page
	switch {
	case src.local && q.Direction == runlog.Forward:
		p, err = mergeForward(ctx, src, &q, cur, &r.lines)
	case src.local:
		p, err = backward(ctx, src, &q, cur)
	default:
		p, err = sorted(ctx, src, &q, cur)
	}
	if err != nil {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: r.store(&q), Err: err}
	}
	p.Damaged = append(src.damaged, p.Damaged...)
	if len(p.Entries) == 0 {
		p.Next = q.Cursor
	}
	return p, nil
}

func (r *Reader) store(q *runlog.Query) string {
	if q.LogsURI != "" {
		return q.LogsURI
	}
	return r.root
}
