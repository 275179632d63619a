package file

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/runlog/runlog"
)

var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// panicTB stands for a testing.TB where there is none.
type panicTB struct{ testing.TB }

func (panicTB) Helper()           {}
func (panicTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

var benchData = sync.OnceFunc(func() {
	dir, err := os.MkdirTemp("", "runlog-bench-")
	if err != nil {
		panic(err)
	}
	benchDir = dir
	for _, step := range []string{"a", "b", "c", "d"} {
		act{run: "bench", step: step, id: "act" + step}.write(panicTB{}, dir, 1, 250000, 1024)
	}
})

// BenchmarkFetchMillion reads a run of 1,000,000 records (four steps of
// 250,000, in lines of 1,024 records) page after page with the default
// limit.
func BenchmarkFetchMillion(b *testing.B) {
	benchData()
	r := New(benchDir)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range runlog.All(b.Context(), r, runlog.Query{RunID: "bench"}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1000000 {
			b.Fatalf("read %d entries; want 1000000", n)
		}
	}
}

// BenchmarkFetchSmallPages reads the first 100 pages of 100 entries.
func BenchmarkFetchSmallPages(b *testing.B) {
	benchData()
	r := New(benchDir)
	b.ResetTimer()
	for b.Loop() {
		q := runlog.Query{RunID: "bench", Limit: 100}
		for range 100 {
			p, err := r.Fetch(b.Context(), q)
			if err != nil || len(p.Entries) != 100 {
				b.Fatalf("Fetch = %d entries, %v", len(p.Entries), err)
			}
			q.Cursor = p.Next
		}
	}
}
