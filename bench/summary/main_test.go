package main

import (
	"strings"
	"testing"
)

// TestRows: the row lines of a source and a Go benchmark's output become
// the medians the table prints, with their verdicts.
func TestRows(t *testing.T) {
	out := "noise\nrow\texec -- true\t7\t1\tms\ttrue\tdiff<20\n" +
		"row\texec -- true\t30\t1\tms\ttrue\tdiff<20\n" +
		"row\texec -- true\t8\t2\tms\ttrue\tdiff<20\n" +
		"row\tbroken\tx\t1\tms\ttrue\t-\n"
	ms := medians(parseRows([]byte(out)))
	if len(ms) != 1 {
		t.Fatalf("got %d rows, want 1 (a row whose value is not a number is left out): %+v", len(ms), ms)
	}
	m := ms[0]
	if m.value != 8 || m.baseline != 1 || m.ratio != 7 {
		t.Errorf("medians: value %v baseline %v ratio %v; want 8, 1, 7", m.value, m.baseline, m.ratio)
	}
	if v := m.verdict(); v != "met" {
		t.Errorf("8 ms - 1 ms against diff<20: %q, want met", v)
	}

	bench := `goos: linux
BenchmarkEmit/otelslog-raw-2         	 1000000	      1000 ns/op	     120 B/op	       3 allocs/op
BenchmarkEmit/runlog-2               	 1000000	       900 ns/op	     100 B/op	       3 allocs/op
BenchmarkEmit/otelslog-raw-2         	 1000000	      1200 ns/op	     120 B/op	       3 allocs/op
BenchmarkEmit/runlog-2               	 1000000	      1100 ns/op	     100 B/op	       4 allocs/op
PASS`
	rows := goBench([]benchRow{
		{"ns", "Emit/runlog", "Emit/otelslog-raw", "ns/op", "ratio<=0.8"},
		{"allocs", "Emit/runlog", "Emit/otelslog-raw", "allocs/op", "ratio<=1"},
		{"missing", "Emit/nothing", "Emit/otelslog-raw", "ns/op", "-"},
	})([]byte(bench))
	got := map[string]summed{}
	for _, m := range medians(rows) {
		got[m.name] = m
	}
	if m := got["ns"]; m.value != 1000 || m.baseline != 1100 || m.verdict() != "NOT met" {
		t.Errorf("ns/op: %+v, %s; want value 1000, baseline 1100, NOT met", m, m.verdict())
	}
	if m := got["allocs"]; m.value != 3.5 || m.verdict() != "NOT met" {
		t.Errorf("allocs/op: %+v, %s; want 3.5, NOT met", m, m.verdict())
	}
	if _, ok := got["missing"]; ok {
		t.Error("a benchmark that did not run made a row")
	}
}

func TestTarget(t *testing.T) {
	for target, want := range map[string]string{
		"ratio<=0.8": "NOT met", "ratio>=0.7": "met", "value<100": "met", "diff<20": "met", "-": "", "nonsense<1": "",
	} {
		m := summed{row: row{value: 50, baseline: 50, target: target}, ratio: 1}
		if got := m.verdict(); got != want {
			t.Errorf("%s with value 50, baseline 50: %q, want %q", target, got, want)
		}
	}
	if got := num(1234567, "lines/s"); !strings.HasPrefix(got, "1.23M") {
		t.Errorf("num(1234567) = %q", got)
	}
}
