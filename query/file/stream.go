package file

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/framing"
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
	line  []byte // the line (or a frame's lines) being read, shared: streams read one at a time
	frame []byte // the compressed frame being read
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

	f      *os.File
	br     *bufio.Reader
	used   uint64         // opener's clock at the last use
	format framing.Format // the file's framing, once told

	next    int64 // offset of the next unread line
	lineOff int64 // offset of the line entries came from
	entries []runlog.LogEntry
	idxs    []int             // index in the line of each entry; nil: base + i
	base    int               // with idxs nil, entries is all[base:]
	hint    int               // records in the last segment decoded: the next likely holds as many
	i       int               // current entry
	skip    int               // records of the first line already returned
	all     []runlog.LogEntry // every record of the current line, for the cache
	allKey  string
	ends    []runlog.End    // end markers read
	damaged []runlog.Damage // what could not be read
	stopped bool            // a read failed: the rest is for a later fetch
	until   int64           // when > 0, fill reads no segment at or past it
	// lazy: not read yet; its next record is at low (Unix ns) or later.
	// mergeForward reads it when the merge gets there.
	lazy bool
	low  int64
}

func newStream(src *source, rel string, pos [2]int64, q *runlog.Query, cache *lineCache) *stream {
	name := filepath.Join(src.base, rel)
	s := &stream{name: name, rel: rel, display: src.path(rel), local: src.local, cache: cache, q: q, next: pos[0], skip: int(pos[1])}
	if cache != nil {
		s.hint = int(min(cache.records.Load(), 1<<16))
	}
	return s
}

func (s *stream) head() *runlog.LogEntry {
	if s.i < len(s.entries) {
		return &s.entries[s.i]
	}
	return nil
}

// pos is where the next fetch must resume to return the head first, with
// a lower bound of the head's time (0 when there is none: the stream is
// at its end, or did not get to its first line).
func (s *stream) pos() [3]int64 {
	if s.lazy {
		return [3]int64{s.next, s.skipLeft(), s.low}
	}
	if s.i < len(s.entries) {
		t := max(s.entries[s.i].Time.UnixNano(), 0)
		if s.idxs == nil {
			return [3]int64{s.lineOff, int64(s.base + s.i), t}
		}
		return [3]int64{s.lineOff, int64(s.idxs[s.i]), t}
	}
	return [3]int64{s.next, s.skipLeft(), 0}
}

// skipLeft is what a stream that did not get to its first line must still
// skip of it next time.
func (s *stream) skipLeft() int64 { return int64(s.skip) }

// seek moves s to the segment at off, dropping what it holds; the file
// is reopened there.
func (s *stream) seek(o *opener, off int64) {
	o.release(s)
	s.next, s.skip = off, 0
	s.fill(o)
}

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
	if s.idxs == nil {
		s.entries, s.idxs = nil, make([]int, 0, 64) // entries was all's: not to be written over
	}
	s.entries, s.idxs, s.i = s.entries[:0], s.idxs[:0], 0
	for len(s.entries) == 0 && !s.stopped {
		if s.until > 0 && s.next >= s.until {
			return
		}
		if err := o.acquire(s); err != nil {
			s.damage(-1, err.Error())
			s.stopped = true
			return
		}
		start := s.next
		if s.format == framing.Unknown {
			if n, err := s.sniff(); err != nil || s.format == framing.Unknown {
				if err == nil && n > 0 {
					s.torn(start, n)
				} else if err != nil {
					s.damage(start, "cannot read: "+err.Error())
					s.stopped = true
				}
				return
			}
		}
		var (
			n    int64
			over bool
			err  error
		)
		if s.format == framing.Lines {
			n, over, err = s.readLine(o)
		} else {
			var next int64
			n, next, err = s.readFrame(o)
			if err == errSkip {
				s.next = next
				continue
			}
		}
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
			all, cached = s.cache.take(key)
		}
		if !cached && s.format == framing.Lines {
			if all, err = decodeLineHint(o.line, s.hint, o.src.conv); err != nil {
				s.damage(start, "not an OTLP JSON line ("+errSummary(err)+"): skipped")
				continue
			}
		} else if !cached {
			all = s.decodeFrame(start, o.line, o.src.conv)
		}
		if !cached && len(all) != s.hint {
			s.hint = len(all)
			if s.cache != nil {
				s.cache.records.Store(int64(s.hint))
			}
		}
		if !cached && s.allMatch(all[skip:]) {
			// The common case: every record is returned. The entries are
			// all's, not copied one by one.
			s.entries, s.idxs, s.base = all[skip:], nil, skip
			s.all, s.allKey = all, key
			continue
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
				if cached {
					// The cache's entries are handed out again: the
					// caller's map must not be the cache's.
					e.Attributes = maps.Clone(e.Attributes)
				}
				s.entries = append(s.entries, e)
				s.idxs = append(s.idxs, idx)
			}
		}
		s.all, s.allKey = all, key
	}
}

// allMatch reports whether every entry of es is one q returns (none is
// an end marker).
func (s *stream) allMatch(es []runlog.LogEntry) bool {
	for i := range es {
		if _, end := resource.EndOf(&es[i]); end || !s.q.Match(&es[i]) {
			return false
		}
	}
	return len(es) > 0
}

// segments returns the offsets of the segments of s's file (lines or
// frames), in order, from their delimiters alone: nothing is decoded. It
// reports false when the file cannot be walked so (a damaged frame): the
// caller then reads it whole.
func (s *stream) segments(o *opener) ([]int64, bool) {
	if err := o.acquire(s); err != nil {
		return nil, false
	}
	if s.format == framing.Unknown {
		if _, err := s.sniff(); err != nil || s.format == framing.Unknown {
			return nil, false
		}
	}
	fi, err := s.f.Stat()
	if err != nil {
		return nil, false
	}
	size := fi.Size()
	var offs []int64
	switch s.format {
	case framing.Zstd:
		for off := int64(0); off < size; {
			n, err := framing.FrameSize(s.f, off, size, maxLine)
			if err != nil {
				return nil, false
			}
			offs = append(offs, off)
			off += n
		}
	case framing.Sized:
		var p [4]byte
		for off := int64(0); off < size; {
			if _, err := s.f.ReadAt(p[:], off); err != nil {
				return nil, false
			}
			offs = append(offs, off)
			off += 4 + int64(binary.BigEndian.Uint32(p[:]))
		}
	default:
		buf := make([]byte, 256<<10)
		line := int64(0)
		for off := int64(0); off < size; {
			n, err := s.f.ReadAt(buf, off)
			if n == 0 && err != nil {
				return nil, false
			}
			for i := 0; i < n; {
				j := bytes.IndexByte(buf[i:n], '\n')
				if j < 0 {
					break
				}
				offs = append(offs, line)
				line = off + int64(i+j+1)
				i += j + 1
			}
			off += int64(n)
		}
		if line < size {
			offs = append(offs, line) // unterminated: fill decides
		}
	}
	return offs, true
}

// sniff tells s's framing from the head of its file, and returns how
// many bytes the file has (up to framing.SniffLen).
func (s *stream) sniff() (int64, error) {
	var head [framing.SniffLen]byte
	n, err := s.f.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return 0, err
	}
	s.format = framing.Sniff(head[:n])
	return int64(n), nil
}

// errSkip is readFrame's word that the bytes up to next are damage, already
// reported, and reading goes on there.
var errSkip = errors.New("skip")

// readFrame reads the zstd frame at s.next into o.line, decompressed, and
// returns its length in the file. A frame that runs past the end of the
// file is io.EOF with n the length of the rest, like an unterminated line;
// one that is not a frame, or does not decompress, is reported and
// skipped to the next zstd magic number (errSkip): a torn frame that a
// later write followed is found that way.
func (s *stream) readFrame(o *opener) (n, next int64, err error) {
	fi, err := s.f.Stat()
	if err != nil {
		return 0, 0, err
	}
	start, size := s.next, fi.Size()
	if start >= size {
		return 0, 0, io.EOF
	}
	at := start
	if s.format == framing.Sized {
		var p [4]byte
		if start+4 > size {
			return size - start, 0, io.EOF
		}
		if _, err := s.f.ReadAt(p[:], start); err != nil {
			return 0, 0, err
		}
		at, n = start+4, int64(binary.BigEndian.Uint32(p[:]))
		if n > maxLine {
			return s.resync(start, size, fmt.Sprintf("a length prefix of %d bytes, over the bound of %d", n, maxLine))
		}
		if at+n > size {
			return size - start, 0, io.EOF
		}
	} else {
		n, err = framing.FrameSize(s.f, start, size, maxLine)
		if err == framing.ErrShort {
			// A write in progress, or a frame cut short that nothing
			// followed yet; one that something followed is found below.
			if nx, _ := framing.Next(s.f, start+1, size); nx < 0 {
				return size - start, 0, io.EOF
			}
			return s.resync(start, size, "a zstd frame cut short")
		}
		if err != nil {
			return s.resync(start, size, err.Error())
		}
	}
	if cap(o.frame) > 4<<20 {
		o.frame = nil
	}
	o.frame = slices.Grow(o.frame[:0], int(n))[:n]
	if _, err := s.f.ReadAt(o.frame, at); err != nil {
		return 0, 0, err
	}
	if cap(o.line) > 4<<20 {
		o.line = nil
	}
	if o.line, err = framing.Decompress(o.line[:0], o.frame); err != nil {
		o.line = nil
		return s.resync(start, size, "a zstd frame that does not decompress ("+errSummary(err)+")")
	}
	return at + n - start, 0, nil
}

// resync reports the bytes from start to the next zstd magic number past
// it as damage, and returns errSkip to go on there (or, with none, the
// end of the file).
func (s *stream) resync(start, size int64, why string) (n, next int64, err error) {
	next, err = framing.Next(s.f, start+1, size)
	if err != nil {
		return 0, 0, err
	}
	if next < 0 {
		next = size
	}
	s.damage(start, fmt.Sprintf("%s: %d bytes skipped", why, next-start))
	return 0, next, errSkip
}

// decodeFrame decodes the lines of one frame into entries; a line that
// does not decode is reported (at the frame's offset) and skipped.
func (s *stream) decodeFrame(off int64, text []byte, conv *resource.Convention) []runlog.LogEntry {
	var all []runlog.LogEntry
	for i := 1; len(text) > 0; i++ {
		line := text
		if j := bytes.IndexByte(text, '\n'); j >= 0 {
			line, text = text[:j+1], text[j+1:]
		} else {
			text = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		es, err := decodeLineHint(line, s.hint, conv)
		if err != nil {
			s.damage(off, fmt.Sprintf("line %d of the zstd frame is not an OTLP JSON line (%s): skipped", i, errSummary(err)))
			continue
		}
		if all == nil {
			all = es
		} else {
			all = append(all, es...)
		}
	}
	return all
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
