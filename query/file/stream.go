package file

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/resource"
)

// maxLine is layout.MaxLine; tests lower it.
var maxLine int64 = layout.MaxLine

// maxOpen is the most files one fetch holds open.
const maxOpen = 64

// tornAge is how long a last line may stay unterminated before it is
// reported: a write in progress takes far less.
const tornAge = 10 * time.Second

// opener opens the files of one fetch, holding at most maxOpen at once: a
// stream's file is opened when it needs a line and stays open until it is
// the least recently used of maxOpen.
type opener struct {
	src   *source
	open  []*stream
	bufs  []*bufio.Reader
	clock uint64
	line  []byte // the line being read, shared: streams read one at a time
}

// acquire makes sure s's file is open at s.next.
func (o *opener) acquire(s *stream) error {
	o.clock++
	s.used = o.clock
	if s.f != nil {
		return nil
	}
	if len(o.open) >= maxOpen {
		lru := o.open[0]
		for _, t := range o.open[1:] {
			if t.used < lru.used {
				lru = t
			}
		}
		o.release(lru)
	}
	f, err := o.src.root.OpenFile(s.name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return fmt.Errorf("cannot open: %s", o.src.why(s.name, err))
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%s): the store writes only regular files there (move it away)", kind(fi.Mode()))
	}
	if err == nil {
		_, err = f.Seek(s.next, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return err
	}
	var br *bufio.Reader
	if n := len(o.bufs); n > 0 {
		br, o.bufs = o.bufs[n-1], o.bufs[:n-1]
		br.Reset(f)
	} else {
		br = bufio.NewReaderSize(f, 64<<10)
	}
	s.f, s.br = f, br
	o.open = append(o.open, s)
	return nil
}

// release closes s's file, if open; s reopens at s.next when it needs to.
func (o *opener) release(s *stream) {
	if s.f == nil {
		return
	}
	s.f.Close()
	s.br.Reset(nil)
	o.bufs = append(o.bufs, s.br)
	s.f, s.br = nil, nil
	for i, t := range o.open {
		if t == s {
			o.open[i] = o.open[len(o.open)-1]
			o.open = o.open[:len(o.open)-1]
			break
		}
	}
}

func (o *opener) closeAll() {
	for len(o.open) > 0 {
		o.release(o.open[0])
	}
}

// stream reads the matching entries of one file in order, from a position.
type stream struct {
	name    string // relative to the source's root
	rel     string // relative to the source's base: the cursor's key
	display string // for messages
	local   bool
	cache   *lineCache
	q       *runlog.Query

	f    *os.File
	br   *bufio.Reader
	used uint64 // opener's clock at the last use

	next    int64 // offset of the next unread line
	lineOff int64 // offset of the line entries came from
	entries []runlog.LogEntry
	idxs    []int             // index in the line of each entry
	i       int               // current entry
	skip    int               // records of the first line already returned
	all     []runlog.LogEntry // every record of the current line, for the cache
	allKey  string
	ends    []runlog.End    // end markers read
	damaged []runlog.Damage // what could not be read
	stopped bool            // a read failed: the rest is for a later fetch
}

func newStream(src *source, rel string, pos [2]int64, q *runlog.Query, cache *lineCache) *stream {
	name := filepath.Join(src.base, rel)
	return &stream{name: name, rel: rel, display: src.path(rel), local: src.local, cache: cache, q: q, next: pos[0], skip: int(pos[1])}
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
	return [2]int64{s.next, s.skipLeft()}
}

// skipLeft is what a stream that did not get to its first line must still
// skip of it next time.
func (s *stream) skipLeft() int64 { return int64(s.skip) }

func (s *stream) advance(o *opener) {
	s.i++
	if s.i < len(s.entries) {
		return
	}
	s.fill(o)
}

func (s *stream) damage(off int64, msg string) {
	s.damaged = append(s.damaged, runlog.Damage{File: s.display, Offset: off, Err: msg})
}

// damages returns what the stream could not read, with the scope the
// local layout tells: the run, the step if the query names it, the
// activation from the file's name. It is the same on every page, whatever
// the page read.
func (s *stream) damages() []runlog.Damage {
	if s.local {
		for i := range s.damaged {
			d := &s.damaged[i]
			d.RunID, d.StepID = s.q.RunID, s.q.StepID
			d.ActivationID = strings.TrimSuffix(filepath.Base(s.name), layout.Ext)
		}
	}
	return s.damaged
}

// readLine reads s's next line into o.line and returns its length in the
// file. A line over maxLine is not kept (o.line is then empty and over is
// true). At the end of the file it returns io.EOF, with n the length of an
// unterminated rest.
func (s *stream) readLine(o *opener) (n int64, over bool, err error) {
	if cap(o.line) > 4<<20 {
		o.line = nil // the last line was big: let it go
	}
	o.line = o.line[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		n += int64(len(chunk))
		if !over {
			switch need := len(o.line) + len(chunk); {
			case int64(need) > maxLine:
				over, o.line = true, nil
			case need > cap(o.line):
				// Doubling, not append's 1.25x for large slices: a line
				// near the bound then costs twice the bound, not five times.
				grown := make([]byte, len(o.line), min(max(2*cap(o.line), need), int(maxLine)))
				o.line = append(grown[:copy(grown, o.line)], chunk...)
			default:
				o.line = append(o.line, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			return n, over, err
		}
	}
}

// fill reads lines until one has a matching entry or the file ends. An
// unterminated last line is a write in progress: it is left for later.
func (s *stream) fill(o *opener) {
	s.entries, s.idxs, s.i = s.entries[:0], s.idxs[:0], 0
	for len(s.entries) == 0 && !s.stopped {
		if err := o.acquire(s); err != nil {
			s.damage(-1, err.Error())
			s.stopped = true
			return
		}
		start := s.next
		n, over, err := s.readLine(o)
		if err == io.EOF {
			if n > 0 {
				s.torn(start, n)
			}
			return
		}
		if err != nil {
			s.damage(start, "cannot read: "+err.Error())
			s.stopped = true
			return
		}
		s.next += n
		skip := s.skip
		s.skip = 0
		if over {
			s.damage(start, fmt.Sprintf("line of %d bytes, over the bound of %d: skipped (runlog never writes one)", n, maxLine))
			continue
		}
		if len(bytes.TrimSpace(o.line)) == 0 {
			continue
		}
		s.lineOff = start
		// Only lines a page stopped inside are cached (see mergeForward).
		key := s.display + "@" + strconv.FormatInt(s.lineOff, 10)
		all, cached := []runlog.LogEntry(nil), false
		if skip > 0 && s.cache != nil {
			all, cached = s.cache.get(key)
		}
		if !cached {
			if all, err = decodeLine(o.line, o.src.conv); err != nil {
				s.damage(start, "not an OTLP JSON line ("+errSummary(err)+"): skipped")
				continue
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
}

// torn handles an unterminated last line of n bytes at off: left for a
// later fetch, and reported once it has stayed so long that it is no write
// in progress.
func (s *stream) torn(off, n int64) {
	fi, err := s.f.Stat()
	if err != nil || time.Since(fi.ModTime()) < tornAge {
		return
	}
	s.damage(off, fmt.Sprintf("last line cut short: %d bytes without a newline, unchanged for %v or more (a write that failed or was killed); its records cannot be read", n, tornAge))
}
