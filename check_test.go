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

// TestCheckForeign: records without runlog's sequence numbers (another
// program's) are counted per writer's stream and step, "not accounted":
// never missing, never complete, whatever runlog's own activation next to
// them says.
func TestCheckForeign(t *testing.T) {
	own := func(seq uint64) runlog.LogEntry {
		return runlog.LogEntry{RunID: "r", StepID: "train", Source: "step", ActivationID: "a", Sequence: seq}
	}
	node := runlog.LogEntry{RunID: "r", StepID: "render", Message: "node"}
	zen := runlog.LogEntry{RunID: "r", StepID: "s", Source: "step", ActivationID: "zenml-log-id"}
	ps := pageSeq{
		{Entries: []runlog.LogEntry{own(1), node, zen}},
		{Entries: []runlog.LogEntry{own(2), node, node, zen}, Ends: []runlog.End{{RunID: "r", StepID: "train", Source: "step", ActivationID: "a", Last: 2, Cause: "ok"}}},
	}
	cs, err := runlog.Check(t.Context(), &ps, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("Check = %v; want three accounts", cs)
	}
	byStep := map[string]runlog.Completeness{}
	for _, c := range cs {
		byStep[c.StepID] = c
	}
	if c := byStep["train"]; c.Status != runlog.StatusComplete || c.Received != 2 {
		t.Errorf("runlog's step = %+v; want complete", c)
	}
	n := byStep["render"]
	if n.Status != runlog.StatusNotAccounted || n.Received != 3 || n.Missing != 0 || n.Expected != 0 || n.Activation != "" {
		t.Errorf("foreign step = %+v; want not accounted, 3 records, none missing", n)
	}
	if want := "run r step render: not accounted, 3 records without runlog sequence numbers (written by another program): whether any are missing cannot be told"; n.String() != want {
		t.Errorf("String = %q; want %q", n.String(), want)
	}
	if z := byStep["s"]; z.Status != runlog.StatusNotAccounted || z.Received != 2 || z.Activation != "zenml-log-id" {
		t.Errorf("zenml stream = %+v; want not accounted, 2 records, its log id", z)
	}
}
