package capture

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog/resource"
)

// DefaultMaxLineBytes is the longest piece of a line stored in one record
// when Options.MaxLineBytes is zero.
const DefaultMaxLineBytes = 64 << 10

// LineContinuesKey marks a record that holds a piece of a line longer
// than the bound: the next record of the same stream continues it.
const LineContinuesKey = resource.LineContinues

// piece is one record's worth of a stream: a whole line (without its
// newline), or a piece of a long line (more set), or what a stream left
// unfinished when it ended.
type piece struct {
	text string
	more bool      // the line goes on in the next piece
	at   time.Time // when the bytes that ended it were read
}

// lineSplitter cuts a stream into lines as its bytes arrive, holding at
// most max bytes of an unfinished line: the rest of a longer line is
// handed on in pieces, cut on a UTF-8 boundary where the text allows.
type lineSplitter struct {
	max int
	buf []byte
}

// write adds p, read at t, and returns what it completed.
func (s *lineSplitter) write(p []byte, t time.Time, out []piece) []piece {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			break
		}
		s.buf = append(s.buf, p[:i]...)
		out = s.cut(t, out)
		out = append(out, piece{text: string(bytes.TrimSuffix(s.buf, []byte("\r"))), at: t})
		s.buf = s.buf[:0]
		p = p[i+1:]
	}
	return s.cut(t, out)
}

// cut hands on pieces of max bytes while the unfinished line is longer.
func (s *lineSplitter) cut(t time.Time, out []piece) []piece {
	for len(s.buf) > s.max {
		n := s.max
		// Back up to the start of a rune, unless the bytes are not UTF-8.
		for k := n; k > n-utf8.UTFMax && k > 0; k-- {
			if utf8.RuneStart(s.buf[k]) {
				n = k
				break
			}
		}
		out = append(out, piece{text: string(s.buf[:n]), more: true, at: t})
		s.buf = append(s.buf[:0], s.buf[n:]...)
	}
	return out
}

// end returns what was left unfinished when the stream ended at t.
func (s *lineSplitter) end(t time.Time, out []piece) []piece {
	if len(s.buf) > 0 {
		out = append(out, piece{text: string(bytes.TrimSuffix(s.buf, []byte("\r"))), at: t})
		s.buf = s.buf[:0]
	}
	return out
}
