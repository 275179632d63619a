package file

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/resource"
)

// base is the first record's time in the files the tests write.
var base = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// act is one activation the tests write: its records are numbered
// first..first+n-1 and stamped base + sequence microseconds + offset.
type act struct {
	run, step, id string
	offset        time.Duration
	// captured makes records look like runlog exec's captured lines: a
	// service.name on the resource and a runlog.stream attribute.
	captured bool
}

func (a act) path(root string) string { return layout.File(root, a.run, a.step, a.id) }

// line encodes records first..first+n-1 of a as one OTLP JSON line.
func (a act) line(tb testing.TB, first, n int) []byte {
	tb.Helper()
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	attrs := rl.Resource().Attributes()
	attrs.PutStr(resource.RunID, a.run)
	if a.step != "" {
		attrs.PutStr(resource.StepID, a.step)
	}
	attrs.PutStr(resource.Source, "step")
	attrs.PutStr(resource.ActivationID, a.id)
	if a.captured {
		attrs.PutStr(resource.ServiceName, "runlog")
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("test")
	for seq := first; seq < first+n; seq++ {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(seq)*time.Microsecond + a.offset)))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.Body().SetStr(a.id + " record " + strconv.Itoa(seq))
		lr.Attributes().PutInt(resource.Sequence, int64(seq))
		if a.captured {
			lr.Attributes().PutStr("runlog.stream", "stdout")
		}
	}
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}

// write appends records first..first+n-1 of a to its file under root, in
// lines of batch records.
func (a act) write(tb testing.TB, root string, first, n, batch int) string {
	tb.Helper()
	p := a.path(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	for i := first; i < first+n; i += batch {
		if _, err := f.Write(a.line(tb, i, min(batch, first+n-i))); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// appendBytes appends b to the file at p.
func appendBytes(tb testing.TB, p string, b []byte) {
	tb.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		tb.Fatal(err)
	}
}

// age makes p look unchanged for an hour.
func age(tb testing.TB, p string) {
	tb.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		tb.Fatal(err)
	}
}

// frame is records first..first+n-1 of a as one zstd frame, as the local
// store's writer writes a batch.
func (a act) frame(tb testing.TB, first, n int) []byte {
	tb.Helper()
	return framing.Compress(nil, a.line(tb, first, n))
}

// writeZstd appends records first..first+n-1 of a to its file under root,
// in zstd frames of batch records.
func (a act) writeZstd(tb testing.TB, root string, first, n, batch int) string {
	tb.Helper()
	p := a.path(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if err := os.WriteFile(p, nil, 0o640); err != nil {
			tb.Fatal(err)
		}
	}
	for i := first; i < first+n; i += batch {
		appendBytes(tb, p, a.frame(tb, i, min(batch, first+n-i)))
	}
	return p
}
