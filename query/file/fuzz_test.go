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

// FuzzReadZstdFile: any bytes between two good zstd frames are read
// without a panic or an error, as damage at an offset inside the file;
// the frame after them is found, and every page ends (the fetch
// sequence moves on).
func FuzzReadZstdFile(f *testing.F) {
	a := act{run: "r", step: "s", id: "a"}
	fr := a.frame(f, 5, 3)
	f.Add(fr)
	f.Add(fr[:len(fr)/2])
	f.Add(fr[:3])
	f.Add(append(fr[:10:10], fr[20:]...))
	f.Add([]byte{0x28, 0xB5, 0x2F, 0xFD, 0, 0xff, 0xff, 0xff})
	f.Add([]byte{0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		p := a.path(root)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		content := append(append(a.frame(t, 1, 2), b...), a.frame(t, 9, 2)...)
		if err := os.WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
		r := New(root)
		q := runlog.Query{RunID: "r", Limit: 1}
		var got []runlog.LogEntry
		for range 100 {
			pg, err := r.Fetch(t.Context(), q)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			for _, d := range pg.Damaged {
				if d.File != p || d.Offset < 0 || d.Offset >= int64(len(content)) {
					t.Fatalf("damage %+v outside the file of %d bytes", d, len(content))
				}
			}
			got = append(got, pg.Entries...)
			if !pg.More {
				break
			}
			q.Cursor = pg.Next
		}
		if len(got) < 2 || got[0].Message != "a record 1" {
			t.Fatalf("entries %q: the good frame before the fuzzed bytes was not read", messages(got))
		}
	})
}

// FuzzFastDecode: what fastDecode accepts, pdata accepts too, and both
// give the same entries.
func FuzzFastDecode(f *testing.F) {
	fuzzSeeds(f)
	a := act{run: "r", step: "s", id: "a"}
	f.Add([]byte(`{"resourceLogs":[{"resource":{"attributes":[{"key":"cicd.pipeline.run.id","value":{"stringValue":"r"}},{"key":"g","value":{"kvlistValue":{"values":[{"key":"x","value":{"intValue":"7"}},{"key":"y","value":{"boolValue":false}}]}}}]},"scopeLogs":[{"scope":{"name":"n","version":"1"},"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":2,"severityNumber":9,"severityText":"INFO","body":{"stringValue":"m"},"attributes":[{"key":"k"},{"key":"e","value":{}}],"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","flags":1}]}]}]}`))
	f.Add(a.line(f, 1, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, ok := fastDecode(b, len(b)%7, nil)
		if !ok {
			return
		}
		want, err := decodePdata(b, nil)
		if err != nil {
			t.Fatalf("fastDecode accepts what pdata refuses (%v): %q", err, b)
		}
		if len(es) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(es, want) {
			t.Fatalf("fastDecode and pdata differ on %q:\n%+v\n%+v", b, es, want)
		}
	})
}
