package framing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Format is the framing of a record file.
type Format int

const (
	Unknown Format = iota // too short to tell yet
	Lines
	Zstd
	Sized
)

func (f Format) String() string {
	switch f {
	case Lines:
		return "OTLP JSON lines"
	case Zstd:
		return "zstd frames of OTLP JSON lines"
	case Sized:
		return "length-prefixed zstd frames of OTLP JSON"
	}
	return "unknown"
}

const magic = 0xFD2FB528

// SniffLen is how many bytes Sniff needs to tell every framing apart.
const SniffLen = 8

// Sniff tells the framing of a file from its first bytes (up to
// SniffLen). Anything that is neither zstd framing is read as lines (a
// garbage line is then reported as such); a head too short to tell is
// Unknown.
func Sniff(head []byte) Format {
	zmagic := []byte{0x28, 0xB5, 0x2F, 0xFD}
	switch {
	case len(head) == 0:
		return Unknown
	case IsMagic(head):
		return Zstd
	case len(head) >= 8 && IsMagic(head[4:]):
		return Sized
	case len(head) >= 8:
		return Lines
	case len(head) < 4 && string(zmagic[:len(head)]) == string(head):
		return Unknown // the start of a zstd frame
	case head[0] == 0:
		return Unknown // a length prefix, maybe: lines never start with NUL
	}
	return Lines
}

// IsMagic reports whether b starts with a zstd frame's magic number.
func IsMagic(b []byte) bool { return len(b) >= 4 && binary.LittleEndian.Uint32(b) == magic }

// ErrShort is FrameSize's error for a frame that runs past the end of the
// file: a write in progress, or one cut short.
var ErrShort = errors.New("zstd frame runs past the end of the file")

// FrameSize returns the length of the zstd frame (or skippable frame) at
// off in r, whose size is size, from its headers alone. A frame longer
// than limit is an error.
func FrameSize(r io.ReaderAt, off, size, limit int64) (int64, error) {
	var b [18]byte
	read := func(at int64, n int) ([]byte, error) {
		if at+int64(n) > size {
			return nil, ErrShort
		}
		if _, err := r.ReadAt(b[:n], at); err != nil {
			if err == io.EOF {
				return nil, ErrShort
			}
			return nil, err
		}
		return b[:n], nil
	}
	h, err := read(off, 5)
	if err != nil {
		return 0, err
	}
	m := binary.LittleEndian.Uint32(h)
	if m&0xFFFFFFF0 == 0x184D2A50 { // skippable frame
		h, err := read(off+4, 4)
		if err != nil {
			return 0, err
		}
		n := 8 + int64(binary.LittleEndian.Uint32(h))
		if n > limit {
			return 0, fmt.Errorf("skippable frame of %d bytes, over the bound of %d", n, limit)
		}
		if off+n > size {
			return 0, ErrShort
		}
		return n, nil
	}
	if m != magic {
		return 0, errors.New("not a zstd frame (no magic number)")
	}
	fhd := h[4]
	if fhd&0x08 != 0 {
		return 0, errors.New("zstd frame header with its reserved bit set")
	}
	single := fhd&0x20 != 0
	n := int64(5)
	if !single {
		n++ // window descriptor
	}
	n += [4]int64{0, 1, 2, 4}[fhd&3] // dictionary id
	switch fhd >> 6 {
	case 0:
		if single {
			n++
		}
	case 1:
		n += 2
	case 2:
		n += 4
	case 3:
		n += 8
	}
	for {
		bh, err := read(off+n, 3)
		if err != nil {
			return 0, err
		}
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last, typ, bsize := v&1 == 1, (v>>1)&3, int64(v>>3)
		n += 3
		switch typ {
		case 0, 2: // raw, compressed
			n += bsize
		case 1: // RLE
			n++
		default:
			return 0, errors.New("zstd block of the reserved type")
		}
		if n > limit {
			return 0, fmt.Errorf("zstd frame over the bound of %d bytes", limit)
		}
		if last {
			break
		}
	}
	if fhd&0x04 != 0 {
		n += 4 // content checksum
	}
	if off+n > size {
		return 0, ErrShort
	}
	return n, nil
}

// Next returns the offset of the first zstd magic number in r at or after
// off and before size, or -1: where a reader looks for the next frame past
// a damaged one.
func Next(r io.ReaderAt, off, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off+4 <= size {
		n := int64(len(buf))
		if off+n > size {
			n = size - off
		}
		if _, err := r.ReadAt(buf[:n], off); err != nil && err != io.EOF {
			return -1, err
		}
		for i := int64(0); i+4 <= n; i++ {
			if buf[i] == 0x28 && IsMagic(buf[i:n]) {
				return off + i, nil
			}
		}
		off += n - 3
	}
	return -1, nil
}

// The encoder and decoder are shared: EncodeAll and DecodeAll are safe for
// concurrent use, and each holds buffers worth keeping.
var (
	encOnce sync.Once
	enc     *zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
)

// Compress appends src to dst as one zstd frame, with a content checksum
// (a frame damaged on disk fails to decompress rather than yield wrong
// text).
func Compress(dst, src []byte) []byte {
	encOnce.Do(func() {
		enc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(true), zstd.WithLowerEncoderMem(true))
	})
	return enc.EncodeAll(src, dst)
}

// MaxDecoded bounds what Decompress returns.
const MaxDecoded = 64 << 20

// Decompress appends the content of the zstd frames in src to dst; content
// over MaxDecoded is an error.
func Decompress(dst, src []byte) ([]byte, error) {
	decOnce.Do(func() {
		dec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxDecoded),
			zstd.WithDecoderMaxWindow(MaxDecoded))
	})
	return dec.DecodeAll(src, dst)
}

// NewReader returns the content of the zstd frames that r holds, as a
// stream (for reading the head of a file without all of its first frame).
// Close releases the decoder.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(MaxDecoded), zstd.WithDecoderMaxWindow(MaxDecoded))
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}
