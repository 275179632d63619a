package file

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/runlog/runlog"
)

func fuzzSeeds(f *testing.F) {
	a := act{run: "r", step: "s", id: "a"}
	f.Add(a.line(f, 1, 3))
	f.Add([]byte(`{"resourceLogs":[{"resource":{"attributes":[{"key":"runlog.sequence","value":{"intValue":"7"}}]},"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"k","value":{"doubleValue":1.5}}]}},"attributes":[{"key":"g","value":{"kvlistValue":{"values":[{"key":"x","value":{"boolValue":true}}]}}}],"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}]}]}]}`))
	f.Add([]byte("{}"))
	f.Add([]byte("garbage\x1b[31m"))
	f.Add([]byte(`{"resourceLogs":[{"resource":{}}`))
}

// FuzzDecodeLine: no input makes the line decoder panic, and what decodes
// decodes the same once re-encoded by pdata.
func FuzzDecodeLine(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeLine(b, nil)
		if err != nil {
			return
		}
		logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
		if err != nil {
			t.Fatalf("decodeLine accepts what pdata refuses: %v", err)
		}
		again, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
		if err != nil {
			t.Fatal(err)
		}
		es2, err := decodeLine(again, nil)
		if err != nil {
			t.Fatalf("re-encoded line does not decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(es, es2) {
			t.Fatalf("round trip changed the entries:\n%+v\n%+v", es, es2)
		}
	})
}

// FuzzReadFile: any content of a record file is read without a panic or
// an error: what cannot be read is damage, at an offset inside the file.
func FuzzReadFile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		a := act{run: "r", step: "s", id: "a"}
		p := a.path(root)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		content := append(append(a.line(t, 1, 1), b...), '\n')
		content = append(content, a.line(t, 2, 1)...)
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
		for _, dir := range []runlog.Direction{runlog.Forward, runlog.Backward} {
			pg, err := New(root).Fetch(t.Context(), runlog.Query{RunID: "r", Direction: dir})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			for _, d := range pg.Damaged {
				if d.File != p || d.Offset < 0 || d.Offset >= int64(len(content)) {
					t.Fatalf("damage %+v outside the file of %d bytes", d, len(content))
				}
			}
			if len(pg.Entries) == 0 {
				t.Fatalf("%v: the good lines around the fuzzed one were not read", dir)
			}
		}
	})
}
