package otelstore

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog/internal/framing"
)

func fileRecords(prefix string, n int) []sdklog.Record {
	recs := make([]sdklog.Record, n)
	for i := range recs {
		recs[i].SetTimestamp(time.Unix(1700000000, int64(i)))
		recs[i].SetBody(attribute.StringValue(fmt.Sprintf("%s %d %s", prefix, i, strings.Repeat("x", 40))))
	}
	return recs
}

// fileLines decodes every line of the file at p (plain, or zstd frames
// decompressed) and returns the bodies, failing on a line that does not
// decode.
func fileLines(t *testing.T, p string) (bodies []string, lines int) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if framing.Sniff(b) == framing.Zstd {
		if b, err = framing.Decompress(nil, b); err != nil {
			t.Fatalf("zstd frames do not decompress: %v", err)
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("file does not end with a newline: %q", b[max(0, len(b)-40):])
	}
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		lines++
		logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		if err != nil {
			t.Fatalf("line %d does not decode: %v", lines, err)
		}
		rl := logs.ResourceLogs()
		for i := 0; i < rl.Len(); i++ {
			sl := rl.At(i).ScopeLogs()
			for j := 0; j < sl.Len(); j++ {
				lr := sl.At(j).LogRecords()
				for k := 0; k < lr.Len(); k++ {
					bodies = append(bodies, lr.At(k).Body().AsString())
				}
			}
		}
	}
	return bodies, lines
}

// TestFileExporterCompresses: a batch is one zstd frame, which is what
// `zstd -d` and the collector's native compression agree on, and short
// lines cost far less than their JSON.
func TestFileExporterCompresses(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	e := NewFileExporter(p, false)
	recs := fileRecords("r", 1000)
	for i := range recs {
		recs[i].SetBody(attribute.StringValue(fmt.Sprint(i + 1))) // like seq
	}
	for range 2 {
		if err := e.Export(t.Context(), recs); err != nil {
			t.Fatal(err)
		}
	}
	e.Shutdown(t.Context())
	b, _ := os.ReadFile(p)
	n, err := framing.FrameSize(bytes.NewReader(b), 0, int64(len(b)), int64(len(b)))
	if err != nil || !framing.IsMagic(b) || !framing.IsMagic(b[n:]) {
		t.Fatalf("file is not two zstd frames (first of %d bytes: %v)", n, err)
	}
	if m, err := framing.FrameSize(bytes.NewReader(b), n, int64(len(b)), int64(len(b))); err != nil || n+m != int64(len(b)) {
		t.Fatalf("second frame %d bytes (%v); want the rest of the file, %d", m, err, int64(len(b))-n)
	}
	if per := float64(len(b)) / 2000; per >= 100 {
		t.Errorf("%.0f bytes a record on disk; want under 100", per)
	}
	if bodies, lines := fileLines(t, p); len(bodies) != 2000 || lines != 2 {
		t.Fatalf("%d records in %d lines; want 2000 in 2", len(bodies), lines)
	}
}

// TestFileExporterGoesOnInPlainLines: a file of plain lines (written
// before runlog compressed) is appended to in plain lines.
func TestFileExporterGoesOnInPlainLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	line, err := (&plog.JSONMarshaler{}).MarshalLogs(toPlog(fileRecords("old", 2)))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, append(line, '\n'), 0o640)
	e := NewFileExporter(p, false)
	if err := e.Export(t.Context(), fileRecords("new", 2)); err != nil {
		t.Fatal(err)
	}
	e.Shutdown(t.Context())
	if bodies, lines := fileLines(t, p); len(bodies) != 4 || lines != 2 || !strings.HasPrefix(bodies[3], "new 1 ") {
		t.Fatalf("%d records in %d plain lines (%q); want 4 in 2", len(bodies), lines, bodies)
	}
}

// TestFileExporterAfterTornFrame: a file whose last frame an earlier
// process left cut is appended to with a whole frame after the piece;
// readers report the piece and find the frame by its magic number.
func TestFileExporterAfterTornFrame(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	e := NewFileExporter(p, false)
	if err := e.Export(t.Context(), fileRecords("first", 2)); err != nil {
		t.Fatal(err)
	}
	e.Shutdown(t.Context())
	whole, _ := os.ReadFile(p)
	piece := whole[:len(whole)/2]
	os.WriteFile(p, append(slices.Clone(whole), piece...), 0o640)
	e = NewFileExporter(p, false)
	if err := e.Export(t.Context(), fileRecords("second", 2)); err != nil {
		t.Fatal(err)
	}
	e.Shutdown(t.Context())
	got, _ := os.ReadFile(p)
	rest := got[len(whole)+len(piece):]
	if !bytes.HasPrefix(got, append(slices.Clone(whole), piece...)) || !framing.IsMagic(rest) {
		t.Fatal("the piece was not kept, or no frame follows it")
	}
	text, err := framing.Decompress(nil, rest)
	if err != nil || bytes.Count(text, []byte("second")) != 2 {
		t.Fatalf("the frame after the piece = %q, %v; want second's 2 records", text, err)
	}
}

// TestFileExporterAfterTornTail: a plain file whose last line an earlier
// process left cut is appended to on a new line: the piece stays, alone
// on its line, for readers to report, and is never glued to the new batch.
func TestFileExporterAfterTornTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jsonl")
	line, err := (&plog.JSONMarshaler{}).MarshalLogs(toPlog(fileRecords("first", 2)))
	if err != nil {
		t.Fatal(err)
	}
	whole := append(line, '\n')
	piece := []byte(`{"resourceLogs":[{"scopeLo`)
	if err := os.WriteFile(p, append(whole, piece...), 0o640); err != nil {
		t.Fatal(err)
	}
	e := NewFileExporter(p, false)
	if err := e.Export(t.Context(), fileRecords("second", 2)); err != nil {
		t.Fatal(err)
	}
	e.Shutdown(t.Context())
	got, _ := os.ReadFile(p)
	if !bytes.HasPrefix(got, append(append(whole, piece...), '\n')) {
		t.Fatalf("file = %q; want the piece kept and ended by a newline", got)
	}
	os.WriteFile(p, bytes.Replace(got, append(piece, '\n'), nil, 1), 0o640)
	if bodies, lines := fileLines(t, p); len(bodies) != 4 || lines != 2 {
		t.Fatalf("without the piece: %d records in %d lines; want 4 in 2", len(bodies), lines)
	}
}

// TestFileExporterShortWrite: a write cut short by the file size limit
// (as by a full disk) fails the export and leaves the file ending with
// its last whole line; the next batch is whole. The limit is set in a
// child process.
func TestFileExporterShortWrite(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RLIMIT_FSIZE as a full disk: Linux only")
	}
	if p := os.Getenv("RUNLOG_TEST_SHORT_WRITE"); p != "" {
		e := NewFileExporter(p, false)
		if err := e.Export(t.Context(), fileRecords("before", 3)); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		full := lim
		lim.Cur = uint64(fi.Size()) + 100
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		err := e.Export(t.Context(), fileRecords("cut", 20))
		if err == nil || !strings.Contains(err.Error(), "truncated away") {
			t.Fatalf("export past the limit = %v; want an error saying the piece was truncated away", err)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
			t.Fatal(err)
		}
		if err := e.Export(t.Context(), fileRecords("after", 3)); err != nil {
			t.Fatal(err)
		}
		e.Shutdown(t.Context())
		return
	}
	p := filepath.Join(t.TempDir(), "a.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileExporterShortWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RUNLOG_TEST_SHORT_WRITE="+p)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	bodies, lines := fileLines(t, p)
	if len(bodies) != 6 || lines != 2 || !strings.HasPrefix(bodies[0], "before 0") || !strings.HasPrefix(bodies[5], "after 2") {
		t.Fatalf("file holds %d records in %d lines (%q); want before's 3 and after's 3 in 2 lines", len(bodies), lines, bodies)
	}
}

// TestFileExporterSplitsLongBatches: a batch that would encode longer than
// the line bound is written as several lines under it, in order.
func TestFileExporterSplitsLongBatches(t *testing.T) {
	defer func(m int) { maxLine = m }(maxLine)
	maxLine = 2000
	p := filepath.Join(t.TempDir(), "a.jsonl")
	e := NewFileExporter(p, false)
	if err := e.Export(t.Context(), fileRecords("r", 50)); err != nil {
		t.Fatal(err)
	}
	e.Shutdown(t.Context())
	bodies, lines := fileLines(t, p)
	if len(bodies) != 50 || lines < 3 || !strings.HasPrefix(bodies[0], "r 0 ") || !strings.HasPrefix(bodies[49], "r 49 ") {
		t.Fatalf("%d records in %d lines; want 50, in order, in several lines", len(bodies), lines)
	}
	b, _ := os.ReadFile(p)
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) > maxLine {
			t.Fatalf("a line of %d bytes; want at most %d", len(line), maxLine)
		}
	}
}
