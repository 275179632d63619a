package victorialogs_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/query/victorialogs"
	"github.com/runlog/runlog/resource"
)

// checkNodeEntries fails unless es are exactly the records the Node.js
// producer logged for r: "node record i of N" in order, at its levels
// (DEBUG, INFO, WARN, ERROR in turn from record 0), from its first to its
// last time to the nanosecond, under run and step, with its attributes.
func checkNodeEntries(t *testing.T, what string, es []runlog.LogEntry, r itest.NodeRun, run, step string) {
	t.Helper()
	if len(es) != r.Records {
		t.Fatalf("%s: %d entries; want exactly the Node step's %d: %q", what, len(es), r.Records, messages(es))
	}
	levels := [...]runlog.Level{runlog.LevelDebug, runlog.LevelInfo, runlog.LevelWarn, runlog.LevelError}
	for k, e := range es {
		i := k + 1
		ok := e.Message == fmt.Sprintf("node record %d of %d", i, r.Records) && e.Level == levels[i%4] &&
			e.RunID == run && e.StepID == step && e.Sequence == 0 && e.ID != "" &&
			e.Attributes["node.index"] == strconv.Itoa(i) && e.Attributes["node.layout"] == string(r.Layout)
		switch {
		case i == 1:
			ok = ok && e.Time.Equal(r.First)
		case i == r.Records:
			ok = ok && e.Time.Equal(r.Last)
		default:
			ok = ok && e.Time.After(es[k-1].Time)
		}
		if !ok {
			t.Fatalf("%s: entry %d = %+v; want record %d of the Node step %s of run %s (report %+v)", what, i, e, i, step, run, r)
		}
	}
}

// TestNodeProducer: a run written by two Go steps through runlog and, in
// between, by Node.js steps with the official OpenTelemetry JS SDK through
// the same collector — one with the CI/CD attributes in its resource
// under its own service.name, one (a service a step calls) with them on
// its records only. Fetch of the run returns everything in time order;
// Fetch of a Node step exactly its records; Check counts the Node steps
// not accounted and the Go steps complete. Records written as ZenML's OTel
// log store writes them are fetched with the zenml convention.
func TestNodeProducer(t *testing.T) {
	p := itest.NeedNodeProducer(t)
	vl, col, s := servers(t)
	quiet(t)
	run := "node-" + strconv.FormatInt(time.Now().UnixNano(), 36)

	logOnce(t, s, runlog.Scope{RunID: run, StepID: "build"}, "go: build")
	js := p.Run(t, col.OTLPEndpoint, itest.NodeStep{Layout: itest.NodeCICD, RunID: run, StepID: "js", Count: 300})
	svc := p.Run(t, col.OTLPEndpoint, itest.NodeStep{Layout: itest.NodeRecord, RunID: run, StepID: "svc", Count: 100})
	logOnce(t, s, runlog.Scope{RunID: run, StepID: "test"}, "go: test")

	all := waitFetch(t, s, runlog.Query{RunID: run}, 402, 30*time.Second)
	if len(all) != 402 {
		t.Fatalf("Fetch(run) = %d entries; want 402", len(all))
	}
	var steps []string
	for k, e := range all {
		if k > 0 && e.Time.Before(all[k-1].Time) {
			t.Fatalf("Fetch(run): entry %d (%s %q) is before the one above it", k, e.StepID, e.Message)
		}
		if len(steps) == 0 || steps[len(steps)-1] != e.StepID {
			steps = append(steps, e.StepID)
		}
	}
	if want := []string{"build", "js", "svc", "test"}; !slices.Equal(steps, want) {
		t.Errorf("Fetch(run): steps in the blocks %q; want %q", steps, want)
	}
	checkNodeEntries(t, "Fetch(step js)", waitFetch(t, s, runlog.Query{RunID: run, StepID: "js"}, 300, 5*time.Second), js, run, "js")
	checkNodeEntries(t, "Fetch(step svc)", waitFetch(t, s, runlog.Query{RunID: run, StepID: "svc"}, 100, 5*time.Second), svc, run, "svc")
	if e := all[1]; e.Attributes["service.name"] != "checkout-js" || e.Attributes[resource.TaskName] != "js" {
		t.Errorf("first js entry's attributes = %v; want service.name checkout-js and the task name", e.Attributes)
	}

	cs, err := runlog.Check(t.Context(), s, runlog.Query{RunID: run})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]runlog.Completeness{}
	for _, c := range cs {
		status[c.StepID] = c
	}
	for step, want := range map[string]runlog.Status{"build": runlog.StatusComplete, "js": runlog.StatusNotAccounted, "svc": runlog.StatusNotAccounted, "test": runlog.StatusComplete} {
		if c := status[step]; c.Status != want || c.Missing != 0 {
			t.Errorf("Check: step %s = %v; want %s, none missing", step, c, want)
		}
	}
	if c := status["js"]; c.Received != 300 {
		t.Errorf("Check: step js received %d; want 300", c.Received)
	}
	if len(cs) != 4 {
		t.Errorf("Check = %v; want the four steps", cs)
	}

	// ZenML's layout: found by the zenml convention only.
	zrun, zstep := "0d6f4a2e-3b1c-4e5f-9a8b-"+fmt.Sprintf("%012d", time.Now().UnixNano()%1e12), "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	zr := p.Run(t, col.OTLPEndpoint, itest.NodeStep{Layout: itest.NodeZenML, RunID: zrun, StepID: zstep, StepName: "trainer", Count: 50})
	zenml, err := resource.ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	zc, err := victorialogs.New(victorialogs.Config{URL: vl.URL, Convention: zenml})
	if err != nil {
		t.Fatal(err)
	}
	zes := waitFetch(t, zc, runlog.Query{RunID: zrun, StepID: zstep, Source: "step"}, 50, 30*time.Second)
	checkNodeEntries(t, "Fetch(zenml step) by zenml", zes, zr, zrun, zstep)
	if e := zes[0]; e.Source != "step" || e.Filename != "/app/steps/train.py" || e.Lineno != 41 || e.Attributes["zenml.step.run.name"] != "trainer" || e.Attributes["service.name"] != "zenml" {
		t.Errorf("zenml entry = %+v", e)
	}
	if got, err := s.Fetch(t.Context(), runlog.Query{RunID: zrun}); err != nil || len(got.Entries) != 0 {
		t.Errorf("Fetch(zenml run) by cicd = %d entries, %v; want none", len(got.Entries), err)
	}
}
