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
)

// FileExporter appends records to a file as OTLP JSON lines: one
// ExportLogsServiceRequest per line, the format of the OpenTelemetry
// Collector's file exporter, so that the same reader (package query/file)
// reads both. Each Export is one write of whole lines, in order.
type FileExporter struct {
	path string
	sync bool

	mu     sync.Mutex
	f      *os.File
	closed bool
	enc    plog.JSONMarshaler
	buf    []byte
}

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
		f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("runlog: open log file: %w", err)
		}
		e.f = f
	}
	b, err := e.enc.MarshalLogs(toPlog(records))
	if err != nil {
		return fmt.Errorf("runlog: encode %d records: %w", len(records), err)
	}
	e.buf = append(append(e.buf[:0], b...), '\n')
	if _, err := e.f.Write(e.buf); err != nil {
		return fmt.Errorf("runlog: write %s: %w", e.path, err)
	}
	if e.sync {
		return e.f.Sync()
	}
	return nil
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
