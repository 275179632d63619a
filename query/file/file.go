// Package file is the read path of runlog's embedded local store: it reads
// OTLP JSON lines (one ExportLogsServiceRequest per line, the format the
// OpenTelemetry Collector's file exporter writes) back into runlog.LogEntry
// values, with filtering, ordering, paging and a cursor.
//
// A Reader reads the local store's layout under a root directory (see
// otelstore's local exporter): one file per activation, under one directory
// per run and step, so a fetch reads only the run (or step) asked for. A
// query's LogsURI may instead name any file or directory of OTLP JSON lines,
// such as what a collector's file exporter wrote.
//
// # Order and cursors
//
// Entries come in timestamp, then sequence order. In the local layout each
// file is already in that order (the writer guarantees it), so a page is a
// k-way merge of the files, reading each from where the previous page left
// it: the cursor holds, for every file of the run, the position of the
// first record not yet returned. Records appended later, to old files or
// new ones, are all returned by the next fetch with that cursor, which is
// what a live tail needs; no entry is returned twice. Foreign files
// (LogsURI) and backward fetches are read whole and sorted; their cursor is
// the sort key of the last entry.
package file

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

// Reader fetches entries from a local store directory. It is safe for
// concurrent use.
type Reader struct {
	root  string
	lines lineCache
}

var _ runlog.Fetcher = (*Reader)(nil)

// New returns a Reader of the local store under root.
func New(root string) *Reader { return &Reader{root: root} }

// lineCache keeps the decoded records of the lines that pages stopped in,
// so that the next page does not decode them again: a line holds a whole
// export batch (up to a thousand records), and paging with small pages
// would otherwise decode it once per page. Lines of record files never
// change once written, so entries never go stale.
type lineCache struct {
	mu    sync.Mutex
	lines map[string][]runlog.LogEntry
}

const cachedLines = 8

func (c *lineCache) get(k string) ([]runlog.LogEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	es, ok := c.lines[k]
	return es, ok
}

func (c *lineCache) put(k string, es []runlog.LogEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lines == nil {
		c.lines = make(map[string][]runlog.LogEntry)
	}
	for old := range c.lines {
		if len(c.lines) < cachedLines {
			break
		}
		delete(c.lines, old)
	}
	c.lines[k] = es
}

// cursor is what runlog.Cursor encodes for this reader.
type cursor struct {
	// Pos maps a file, relative to the run directory, to the position of
	// its first record not yet returned: byte offset of its line, index in
	// the line.
	Pos map[string][2]int64 `json:"p,omitempty"`
	// Key is the sort key of the last entry returned.
	Key *pagination.Key `json:"k,omitempty"`
}

func decodeCursor(c runlog.Cursor) (cursor, error) {
	var cur cursor
	if err := pagination.Decode(c, &cur); err != nil {
		return cursor{}, err
	}
	for _, p := range cur.Pos {
		if p[0] < 0 || p[1] < 0 {
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
	base, files, local, err := r.files(&q)
	if err != nil {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: base, Err: err,
			Hint: "check that the directory exists and is readable"}
	}
	var p runlog.Page
	if local && q.Direction == runlog.Forward {
		p, err = mergeForward(ctx, base, files, &q, cur, &r.lines)
	} else {
		p, err = sorted(ctx, base, files, &q, cur)
	}
	if err != nil {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: base, Err: err}
	}
	if len(p.Entries) == 0 {
		p.Next = q.Cursor
	}
	return p, nil
}

// files lists the files to read, relative to base, and whether they are in
// the local layout (each file in sort order).
func (r *Reader) files(q *runlog.Query) (base string, files []string, local bool, err error) {
	if q.LogsURI != "" {
		base = strings.TrimPrefix(q.LogsURI, "file://")
		st, err := os.Stat(base)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return base, nil, false, nil
			}
			return base, nil, false, err
		}
		if !st.IsDir() {
			return filepath.Dir(base), []string{filepath.Base(base)}, false, nil
		}
		err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, layout.Ext)) {
				rel, _ := filepath.Rel(base, p)
				files = append(files, rel)
			}
			return nil
		})
		return base, files, false, err
	}
	base = layout.RunDir(r.root, q.RunID)
	pattern := filepath.Join(base, "*", "*"+layout.Ext)
	if q.StepID != "" {
		pattern = filepath.Join(base, layout.Key(q.StepID), "*"+layout.Ext)
	}
	matches, err := filepath.Glob(pattern)
	for _, m := range matches {
		rel, _ := filepath.Rel(base, m)
		files = append(files, rel)
	}
	slices.Sort(files)
	return base, files, true, err
}

// stream reads the matching entries of one file in order, from a position.
type stream struct {
	path    string
	cache   *lineCache
	rel     string
	f       *os.File
	br      *bufio.Reader
	q       *runlog.Query
	next    int64 // offset of the next unread line
	lineOff int64 // offset of the line entries came from
	entries []runlog.LogEntry
	idxs    []int             // index in the line of each entry
	i       int               // current entry
	skip    int               // records of the first line already returned
	all     []runlog.LogEntry // every record of the current line, for the cache
	ends    []runlog.End      // end markers read
	allKey  string
}

func openStream(base, rel string, pos [2]int64, q *runlog.Query, cache *lineCache) (*stream, error) {
	path := filepath.Join(base, rel)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(pos[0], io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	s := &stream{path: path, cache: cache, rel: rel, f: f, br: bufio.NewReaderSize(f, 64<<10), q: q, next: pos[0], skip: int(pos[1])}
	return s, s.fill()
}

func (s *stream) head() *runlog.LogEntry {
	if s.i < len(s.entries) {
		return &s.entries[s.i]
	}
	return nil
}

// pos is where the next fetch must resume to return the head first.
func (s *stream) pos() [2]int64 {
	if s.i < len(s.entries) {
		return [2]int64{s.lineOff, int64(s.idxs[s.i])}
	}
	return [2]int64{s.next, 0}
}

func (s *stream) advance() error {
	s.i++
	if s.i < len(s.entries) {
		return nil
	}
	return s.fill()
}

// fill reads lines until one has a matching entry or the file ends. An
// unterminated last line is a write in progress: it is left for later.
func (s *stream) fill() error {
	s.entries, s.idxs, s.i = s.entries[:0], s.idxs[:0], 0
	for len(s.entries) == 0 {
		line, err := s.br.ReadBytes('\n')
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.lineOff = s.next
		s.next += int64(len(line))
		skip := s.skip
		s.skip = 0
		// Only lines a page stopped inside are cached (see mergeForward).
		key := s.path + "@" + strconv.FormatInt(s.lineOff, 10)
		all, cached := []runlog.LogEntry(nil), false
		if skip > 0 {
			all, cached = s.cache.get(key)
		}
		if !cached {
			if all, err = decodeLine(line); err != nil {
				return fmt.Errorf("%s at byte %d: %w (the file is damaged; move it away to read the rest of the run)", s.rel, s.lineOff, err)
			}
		}
		for idx := skip; idx < len(all); idx++ {
			if end, ok := resource.EndOf(&all[idx]); ok {
				if end.RunID == s.q.RunID && (s.q.StepID == "" || end.StepID == s.q.StepID) && (s.q.Source == "" || end.Source == s.q.Source) {
					s.ends = append(s.ends, end)
				}
				continue
			}
			if s.q.Match(&all[idx]) {
				e := all[idx]
				e.Attributes = maps.Clone(e.Attributes)
				s.entries = append(s.entries, e)
				s.idxs = append(s.idxs, idx)
			}
		}
		s.all, s.allKey = all, key
	}
	return nil
}

type streamHeap []*stream

func (h streamHeap) Len() int           { return len(h) }
func (h streamHeap) Less(i, j int) bool { return h[i].head().Before(h[j].head()) }
func (h streamHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

func mergeForward(ctx context.Context, base string, files []string, q *runlog.Query, cur cursor, cache *lineCache) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	next := cursor{Pos: make(map[string][2]int64, len(files)), Key: cur.Key}
	var (
		h streamHeap
		p runlog.Page
	)
	defer func() {
		for _, s := range h {
			s.f.Close()
		}
	}()
	for _, rel := range files {
		s, err := openStream(base, rel, cur.Pos[rel], q, cache)
		if err != nil {
			if s != nil {
				s.f.Close()
			}
			return runlog.Page{}, err
		}
		if s.head() == nil {
			next.Pos[rel] = s.pos()
			p.Ends = append(p.Ends, s.ends...)
			s.f.Close()
			continue
		}
		h = append(h, s)
	}
	heap.Init(&h)
	for len(h) > 0 && len(p.Entries) < limit {
		if len(p.Entries)%1024 == 0 && ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		s := h[0]
		p.Entries = append(p.Entries, *s.head())
		if err := s.advance(); err != nil {
			return runlog.Page{}, err
		}
		if s.head() == nil {
			next.Pos[s.rel] = s.pos()
			p.Ends = append(p.Ends, s.ends...)
			heap.Pop(&h)
			s.f.Close()
		} else {
			heap.Fix(&h, 0)
		}
	}
	for _, s := range h {
		next.Pos[s.rel] = s.pos()
		p.Ends = append(p.Ends, s.ends...)
		if s.pos()[1] > 0 {
			cache.put(s.allKey, s.all) // the next page resumes inside this line
		}
	}
	p.More = len(h) > 0
	if n := len(p.Entries); n > 0 {
		next.Key = pagination.KeyOf(&p.Entries[n-1])
	}
	p.Next = next.encode()
	return p, nil
}

// sorted reads every matching entry past the cursor's key, sorts them in
// q's direction and returns the first page.
func sorted(ctx context.Context, base string, files []string, q *runlog.Query, cur cursor) (runlog.Page, error) {
	limit := q.EffectiveLimit()
	dir := 1
	if q.Direction == runlog.Backward {
		dir = -1
	}
	var (
		all  []runlog.LogEntry
		ends []runlog.End
	)
	for _, rel := range files {
		if ctx.Err() != nil {
			return runlog.Page{}, ctx.Err()
		}
		s, err := openStream(base, rel, [2]int64{}, q, nil)
		if err != nil {
			return runlog.Page{}, err
		}
		for e := s.head(); e != nil; e = s.head() {
			if cur.Key == nil || cur.Key.Compare(e)*dir > 0 {
				all = append(all, *e)
			}
			if err = s.advance(); err != nil {
				break
			}
		}
		ends = append(ends, s.ends...)
		s.f.Close()
		if err != nil {
			return runlog.Page{}, err
		}
	}
	slices.SortFunc(all, func(a, b runlog.LogEntry) int { return dir * runlog.Compare(&a, &b) })
	p := runlog.Page{More: len(all) > limit, Ends: ends}
	p.Entries = slices.Clone(all[:min(limit, len(all))]) // let the rest go
	if n := len(p.Entries); n > 0 {
		p.Next = cursor{Key: pagination.KeyOf(&p.Entries[n-1])}.encode()
	}
	return p, nil
}
