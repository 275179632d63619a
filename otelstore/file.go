package otelstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/layout"
)

// FileExporter appends records to a file as OTLP JSON lines: one
// ExportLogsServiceRequest per line, the format of the OpenTelemetry
// Collector's file exporter, so that the same reader (package query/file)
// reads both. Each Export is one write, in order, of one zstd frame
// holding the batch's lines: what the collector's file exporter writes
// with `compression: zstd` (its native compression), and what `zstd -d`
// turns back into plain lines (see internal/framing). A file that already
// holds plain lines (written before runlog compressed) goes on in plain
// lines, so that one file has one framing.
//
// Every batch starts a frame (or line) of its own. A write cut short
// (disk full, file size limit) is truncated back to where it started, and
// Export's error sends the batch to the spool, to be written again whole.
// If the truncation fails too, the piece stays: readers report it and
// find the next frame by its magic number (in a plain file the next batch
// starts with a newline, so the piece is one damaged line, never glued to
// the next). A torn tail some earlier process left is treated the same
// way. A batch that would encode to a line longer than layout.MaxLine is
// split into several lines.
type FileExporter struct {
	path string
	sync bool

	mu     sync.Mutex
	f      *os.File
	size   int64 // the file's size, as far as this exporter wrote it
	torn   bool  // the file does not end with a newline
	closed bool
	plain  bool // the file holds plain lines: it goes on so
}

// exportBuffers are what one Export encodes and compresses into. They
// are pooled across exporters, not kept by each: a store with 1,000
// activations has 1,000 exporters, mostly idle, and a batch's JSON and
// frame are a few hundred KiB.
type exportBuffers struct {
	enc        jsonEncoder
	buf, frame []byte
}

var exportPool = sync.Pool{New: func() any { return new(exportBuffers) }}

// exportSlots bounds the exports encoding at once, process-wide: encoding
// is CPU work, so more at a time than there are CPUs gains nothing, while
// each one holds a batch's buffers (1,000 activations flushing together
// held 60 MiB of them).
var exportSlots = make(chan struct{}, 2*runtime.GOMAXPROCS(0))

// maxLine is layout.MaxLine; tests lower it.
var maxLine = layout.MaxLine

var _ sdklog.Exporter = (*FileExporter)(nil)

// NewFileExporter returns an exporter appending to path, creating the file
// and its directories on the first export. With syncEach, every export is
// followed by fsync.
func NewFileExporter(path string, syncEach bool) *FileExporter {
	return &FileExporter{path: path, sync: syncEach}
}

// Path returns the file the exporter appends to.
func (e *FileExporter) Path() string { return e.path }

// Export appends records as one line.
func (e *FileExporter) Export(ctx context.Context, records []sdklog.Record) error {
	if len(records) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return sdklog.ErrExporterShutdown
	}
	if e.f == nil {
		if err := os.MkdirAll(filepath.Dir(e.path), 0o750); err != nil {
			return fmt.Errorf("runlog: create log directory: %w", err)
		}
		f, err := os.OpenFile(e.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("runlog: open log file: %w", err)
		}
		if e.size, e.torn, e.plain, err = lastLine(f); err != nil {
			f.Close()
			return fmt.Errorf("runlog: read log file %s: %w", e.path, err)
		}
		e.f = f
	}
	select {
	case exportSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	bufs := exportPool.Get().(*exportBuffers)
	release := func() {
		exportPool.Put(bufs)
		<-exportSlots
	}
	bufs.buf = bufs.buf[:0]
	if e.torn && e.plain {
		bufs.buf = append(bufs.buf, '\n')
	}
	bufs.buf = e.encode(&bufs.enc, bufs.buf, records)
	out := bufs.buf
	if !e.plain {
		out = e.compress(bufs.frame[:0], bufs.buf)
		bufs.frame = out
	}
	n, err := e.f.Write(out)
	release()
	if err != nil {
		return fmt.Errorf("runlog: write %s: %w%s", e.path, err, e.cutShort(n))
	}
	e.size += int64(n)
	e.torn = false
	if e.sync {
		return e.f.Sync()
	}
	return nil
}

// encode appends records to b as lines of at most maxLine bytes each.
// The lines are those pdata's marshaler writes for toPlog(records)
// (jsonEncoder), which the spool and set-aside files still are: one
// reader, one fast path for all. A line that comes out too long is taken
// back and its records written as two halves.
func (e *FileExporter) encode(enc *jsonEncoder, b []byte, records []sdklog.Record) []byte {
	start := len(b)
	b = append(enc.appendLogs(b, records), '\n')
	if len(b)-start > maxLine && len(records) > 1 {
		half := len(records) / 2
		return e.encode(enc, e.encode(enc, b[:start], records[:half]), records[half:])
	}
	return b
}

// compress appends lines (whole lines) to dst as zstd frames, each
// decompressing to at most maxLine bytes, so that a reader's bound on
// one frame's content holds.
func (e *FileExporter) compress(dst, lines []byte) []byte {
	for len(lines) > 0 {
		n := len(lines)
		if n > maxLine {
			n = bytes.IndexByte(lines, '\n') + 1 // encode made every line fit
			for n < len(lines) {
				m := bytes.IndexByte(lines[n:], '\n') + 1
				if n+m > maxLine {
					break
				}
				n += m
			}
		}
		dst = framing.Compress(dst, lines[:n])
		lines = lines[n:]
	}
	return dst
}

// cutShort undoes the n bytes a failed write left, so that the file ends
// with its last whole line again; if it cannot, the next batch starts on
// a new line. It returns what the error should add.
func (e *FileExporter) cutShort(n int) string {
	if n <= 0 {
		return ""
	}
	if err := e.f.Truncate(e.size); err != nil {
		e.size += int64(n)
		e.torn = true
		return fmt.Sprintf("; %d bytes of the batch were written and could not be truncated away (%v): the next batch starts on a new line", n, err)
	}
	return fmt.Sprintf("; the %d bytes of it written were truncated away", n)
}

// lastLine returns f's size, whether it holds plain lines (not zstd
// frames) and, if so, whether it ends in the middle of a line.
func lastLine(f *os.File) (size int64, torn, plain bool, err error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, false, false, err
	}
	head := make([]byte, min(fi.Size(), framing.SniffLen))
	if _, err := f.ReadAt(head, 0); err != nil {
		return 0, false, false, err
	}
	switch framing.Sniff(head) {
	case framing.Zstd, framing.Sized, framing.Unknown:
		// A torn frame needs nothing: readers find the next frame by its
		// magic number. (Unknown is the start of a frame cut short.)
		return fi.Size(), false, false, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return 0, false, false, err
	}
	return fi.Size(), last[0] != '\n', true, nil
}

// ForceFlush has nothing to do: every Export is written through.
func (e *FileExporter) ForceFlush(context.Context) error { return nil }

// Shutdown closes the file, after an fsync if the exporter syncs.
func (e *FileExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.f == nil {
		return nil
	}
	var err error
	if e.sync {
		err = e.f.Sync()
	}
	return errors.Join(err, e.f.Close())
}
