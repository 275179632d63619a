package file

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// foreignLine is one OTLP JSON line, as a collector's file exporter writes
// it, with a resource of res and records of bodies, each with attrs, one
// millisecond apart from at.
func foreignLine(t *testing.T, res map[string]string, at time.Time, attrs map[string]string, bodies ...string) []byte {
	t.Helper()
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	for k, v := range res {
		rl.Resource().Attributes().PutStr(k, v)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("foreign")
	for i, b := range bodies {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at.Add(time.Duration(i) * time.Millisecond)))
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.Body().SetStr(b)
		for k, v := range attrs {
			lr.Attributes().PutStr(k, v)
		}
	}
	line, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
	if err != nil {
		t.Fatal(err)
	}
	return append(line, '\n')
}

// TestForeignLayouts: a collector file holding one run's records in three
// layouts — the CI/CD attributes in the resource under another
// service.name, the run and step on each record only, and ZenML's — is
// read by run and step under the default convention, and ZenML's under
// zenml; equal times stay two records.
func TestForeignLayouts(t *testing.T) {
	dir := t.TempDir()
	var data []byte
	data = append(data, foreignLine(t, map[string]string{"service.name": "node-step", resource.RunID: "r", resource.StepID: "render"},
		base, nil, "res 1", "res 2")...)
	data = append(data, foreignLine(t, map[string]string{"service.name": "billing"},
		base.Add(500*time.Microsecond), map[string]string{resource.RunID: "r", resource.StepID: "render", "customer": "c-7"}, "rec 1", "rec 2")...)
	data = append(data, foreignLine(t, map[string]string{"service.name": "billing"},
		base.Add(500*time.Microsecond), map[string]string{resource.RunID: "other", resource.StepID: "render"}, "other run")...)
	data = append(data, foreignLine(t, map[string]string{"service.name": "zenml", "service.version": "0.93.0"},
		base.Add(time.Second), map[string]string{"zenml.pipeline.run.id": "r", "zenml.step.run.id": "s-uuid", "zenml.step.run.name": "trainer",
			"zenml.log.source": "step", "zenml.log.id": "log-uuid"}, "zenml 1", "zenml 1")...)
	path := filepath.Join(dir, "run-r.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	r := New(t.TempDir(), WithLogsURIDirs(dir))
	es, ds := fetchAll(t, r, runlog.Query{RunID: "r", LogsURI: path, Limit: 1})
	if want := []string{"res 1", "rec 1", "res 2", "rec 2"}; !slices.Equal(messages(es), want) || len(ds) != 0 {
		t.Fatalf("cicd Fetch = %q, damage %v; want %q", messages(es), ds, want)
	}
	for _, e := range es {
		if e.RunID != "r" || e.StepID != "render" || e.ID == "" || e.Level != runlog.LevelWarn {
			t.Errorf("entry %q: run %q step %q id %q level %v", e.Message, e.RunID, e.StepID, e.ID, e.Level)
		}
	}
	if es[1].Attributes["service.name"] != "billing" || es[1].Attributes["customer"] != "c-7" || es[0].Attributes["service.name"] != "node-step" {
		t.Errorf("attributes: %v, %v", es[0].Attributes, es[1].Attributes)
	}
	if es, _ := fetchAll(t, r, runlog.Query{RunID: "r", StepID: "render", LogsURI: dir}); len(es) != 4 {
		t.Errorf("Fetch(step) of the directory = %q; want 4", messages(es))
	}

	zenml, err := resource.ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	z := New(t.TempDir(), WithLogsURIDirs(dir), WithConvention(zenml))
	es, _ = fetchAll(t, z, runlog.Query{RunID: "r", StepID: "s-uuid", Source: "step", LogsURI: path, Limit: 1})
	if len(es) != 2 || es[0].Message != "zenml 1" || es[0].ActivationID != "log-uuid" || es[0].Source != "step" ||
		es[0].Attributes["zenml.step.run.name"] != "trainer" || es[0].Attributes["service.name"] != "zenml" {
		t.Fatalf("zenml Fetch = %+v; want its 2 records", es)
	}
	if es[0].ID == es[1].ID {
		t.Errorf("two records of one time and text at different times share the id %q", es[0].ID)
	}
}
