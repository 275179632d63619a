package file

import (
	"errors"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

func FuzzDecodeCursor(f *testing.F) {
	f.Add(string(cursor{Pos: map[string][3]int64{"a/b.jsonl": {10, 2, 5}}, Key: &pagination.Key{T: 1, Seq: 2, ID: "x"}}.encode()))
	f.Add("")
	f.Add("not a cursor")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(runlog.Cursor(s))
		if err != nil {
			if !errors.Is(err, runlog.ErrInvalid) {
				t.Fatalf("decodeCursor error %v is not ErrInvalid", err)
			}
			return
		}
		if _, err := decodeCursor(c.encode()); err != nil {
			t.Fatalf("re-encoded cursor does not decode: %v", err)
		}
	})
}

func TestFetchUnknownDirIsEmpty(t *testing.T) {
	p, err := New(t.TempDir(), WithLogsURIDirs("/nonexistent")).Fetch(t.Context(), runlog.Query{RunID: "nope", LogsURI: "/nonexistent/dir/x.json"})
	if err != nil || len(p.Entries) != 0 {
		t.Fatalf("Fetch = %v, %v; want empty", p, err)
	}
}
