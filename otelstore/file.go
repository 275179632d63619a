package otelstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/internal/layout"
)

// FileExporter appends records to a file as OTLP JSON lines: one
// ExportLogsServiceRequest per line, the format of the OpenTelemetry
// Collector's file exporter, so that the same reader (package query/file)
// reads both. Each Export is one write of whole lines, in order.
//
// Every batch starts on a line of its own. A write cut short (disk full,
// file size limit) is truncated back to where it started, and Export's
// error sends the batch to the spool, to be written again whole; if the
// truncation fails too, the next batch starts with a newline, so the
// piece is one damaged line that readers report, never glued to the next.
// A file whose last line some earlier process left unterminated is
// treated the same way: the piece is kept, for readers to report, and a
// newline starts the next batch. A batch that would encode to a line
// longer than layout.MaxLine is split into several lines.
type FileExporter struct {
	path string
	sync bool

	mu     sync.Mutex
	f      *os.File
	size   int64 // the file's size, as far as this exporter wrote it
	torn   bool  // the file does not end with a newline
	closed bool
	enc    plog.JSONMarshaler
	buf    []byte
}

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
func (e *FileExporter) Export(_ context.Context, records []sdklog.Record) error {
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
		if e.size, e.torn, err = lastLine(f); err != nil {
			f.Close()
			return fmt.Errorf("runlog: read log file %s: %w", e.path, err)
		}
		e.f = f
	}
	e.buf = e.buf[:0]
	if e.torn {
		e.buf = append(e.buf, '\n')
	}
	var err error
	if e.buf, err = e.encode(e.buf, records); err != nil {
		return fmt.Errorf("runlog: encode %d records: %w", len(records), err)
	}
	n, err := e.f.Write(e.buf)
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
func (e *FileExporter) encode(b []byte, records []sdklog.Record) ([]byte, error) {
	line, err := e.enc.MarshalLogs(toPlog(records))
	if err != nil {
		return b, err
	}
	if len(line)+1 > maxLine && len(records) > 1 {
		half := len(records) / 2
		if b, err = e.encode(b, records[:half]); err != nil {
			return b, err
		}
		return e.encode(b, records[half:])
	}
	return append(append(b, line...), '\n'), nil
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

// lastLine returns f's size and whether it ends in the middle of a line.
func lastLine(f *os.File) (size int64, torn bool, err error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, false, err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return 0, false, err
	}
	return fi.Size(), last[0] != '\n', nil
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
