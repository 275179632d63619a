package runlog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

// pageSeq is a Fetcher answering with its pageSeq in turn.
type pageSeq []runlog.Page

func (ps *pageSeq) Fetch(_ context.Context, q runlog.Query) (runlog.Page, error) {
	p := (*ps)[0]
	*ps = (*ps)[1:]
	p.More = len(*ps) > 0
	return p, nil
}

// TestCheckDamaged: an activation with damage is StatusDamaged, whatever
// else; damage listed on several pageSeq counts once; damage the store
// could not tie to an activation has an account of its own; the scope of
// an activation named first by a damage comes from its entries.
func TestCheckDamaged(t *testing.T) {
	line := runlog.Damage{File: "runs/r/s/a.jsonl", Offset: 120, Err: "not an OTLP JSON line", RunID: "r", ActivationID: "a"}
	dir := runlog.Damage{File: "runs/r/x", Offset: -1, Err: "cannot list: permission denied", RunID: "r"}
	entry := func(seq uint64) runlog.LogEntry {
		return runlog.LogEntry{RunID: "r", StepID: "s", Source: "step", ActivationID: "a", Sequence: seq}
	}
	ps := pageSeq{
		{Damaged: []runlog.Damage{line, dir}},
		{Entries: []runlog.LogEntry{entry(1), entry(2)}, Damaged: []runlog.Damage{dir}},
		{Entries: []runlog.LogEntry{entry(3)}, Ends: []runlog.End{{RunID: "r", StepID: "s", Source: "step", ActivationID: "a", Last: 3, Cause: "ok"}}, Damaged: []runlog.Damage{dir}},
	}
	cs, err := runlog.Check(t.Context(), &ps, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("Check = %v; want two accounts", cs)
	}
	var a, d runlog.Completeness
	for _, c := range cs {
		if c.Activation == "a" {
			a = c
		} else {
			d = c
		}
	}
	if a.Status != runlog.StatusDamaged || a.StepID != "s" || a.Source != "step" || a.Received != 3 || len(a.Damaged) != 1 || a.Damaged[0] != line {
		t.Fatalf("activation a = %+v; want damaged, step s, 3 records, the line once", a)
	}
	if !strings.Contains(a.String(), "damaged: runs/r/s/a.jsonl at byte 120: not an OTLP JSON line") {
		t.Fatalf("String = %q; want the damage named", a.String())
	}
	if d.Status != runlog.StatusDamaged || d.Activation != "" || d.RunID != "r" || len(d.Damaged) != 1 || d.Damaged[0] != dir {
		t.Fatalf("directory account = %+v; want damaged, no activation, listed once", d)
	}
	if s := d.String(); s != "run r: damaged, 0 records; damaged: runs/r/x: cannot list: permission denied" {
		t.Fatalf("String = %q", s)
	}
}

// TestCheckUnaccounted: records without sequence numbers (another
// program's) are counted per run, step and source, reported not
// accounted, and never make a gap or a missing count, beside a runlog
// activation of the same step that stays complete.
func TestCheckUnaccounted(t *testing.T) {
	ours := func(seq uint64) runlog.LogEntry {
		return runlog.LogEntry{RunID: "r", StepID: "s", Source: "step", ActivationID: "a", Sequence: seq}
	}
	theirs := func(step string) runlog.LogEntry { return runlog.LogEntry{RunID: "r", StepID: step} }
	ps := pageSeq{
		{Entries: []runlog.LogEntry{ours(1), theirs("js"), theirs("s")}},
		{Entries: []runlog.LogEntry{theirs("js"), ours(2), theirs("js")}, Ends: []runlog.End{{RunID: "r", StepID: "s", Source: "step", ActivationID: "a", Last: 2, Cause: "ok"}}},
	}
	cs, err := runlog.Check(t.Context(), &ps, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		step, activation string
		status           runlog.Status
		received         uint64
	}{{"js", "", runlog.StatusUnaccounted, 3}, {"s", "a", runlog.StatusComplete, 2}, {"s", "", runlog.StatusUnaccounted, 1}}
	if len(cs) != len(want) {
		t.Fatalf("Check = %v; want %d accounts", cs, len(want))
	}
	for i, w := range want {
		c := cs[i]
		if c.StepID != w.step || c.Activation != w.activation || c.Status != w.status || c.Received != w.received || c.Missing != 0 || c.Expected != 0 && w.activation == "" {
			t.Errorf("account %d = %+v; want step %s, activation %q, %s, %d received, none missing", i, c, w.step, w.activation, w.status, w.received)
		}
	}
	if s := cs[0].String(); s != "run r step js: not accounted, 3 records without sequence numbers (not written by runlog: none can be known missing)" {
		t.Errorf("String = %q", s)
	}
}
