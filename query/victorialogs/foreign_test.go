package victorialogs_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/file"
	"github.com/runlog/runlog/query/victorialogs"
	"github.com/runlog/runlog/resource"
)

// foreignRecord is a record as another program's OpenTelemetry SDK emits
// it: runlog's write path plays no part.
type foreignRecord struct {
	at    time.Time
	sev   otellog.Severity
	body  string
	attrs []attribute.KeyValue
}

// emitSDK sends recs with the raw Go SDK (sdk/log, a batch processor,
// otlploghttp) to the OTLP/HTTP logs URL, under a resource of res, and
// flushes them.
func emitSDK(t *testing.T, logsURL string, res []attribute.KeyValue, recs ...foreignRecord) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(logsURL))
	if err != nil {
		t.Fatal(err)
	}
	p := sdklog.NewLoggerProvider(sdklog.WithResource(sdkresource.NewSchemaless(res...)),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	l := p.Logger("foreign.sdk")
	for _, fr := range recs {
		var r otellog.Record
		r.SetTimestamp(fr.at)
		r.SetObservedTimestamp(fr.at)
		r.SetSeverity(fr.sev)
		r.SetBody(attribute.StringValue(fr.body))
		r.AddAttributes(fr.attrs...)
		l.Emit(ctx, r)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("foreign SDK export to %s: %v", logsURL, err)
	}
}

func messages(es []runlog.LogEntry) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = es[i].Message
	}
	return out
}

// TestRunAcrossServices: one run written by runlog (a Go step), by another
// SDK with the CI/CD attributes in its resource under its own
// service.name (a Node step, through the collector), and by a service a
// step called that stamps the run and step on each record only (straight
// to VictoriaLogs). Fetch of the run returns all of them in time order
// under the default convention; a step's Fetch its own; the fields are
// filled from whichever place held them; the collector's files read the
// same with query/file.
func TestRunAcrossServices(t *testing.T) {
	vl, col, s := servers(t)
	quiet(t)
	run := "span-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	emitSDK(t, col.OTLPEndpoint+"/v1/logs", []attribute.KeyValue{
		attribute.String("service.name", "node-step"),
		attribute.String(resource.RunID, run),
		attribute.String(resource.StepID, "render"),
		attribute.String(resource.TaskName, "render"),
	},
		foreignRecord{at(10), otellog.SeverityInfo, "node: start", []attribute.KeyValue{attribute.Int("pages", 3)}},
		foreignRecord{at(30), otellog.SeverityWarn, "node: slow page", nil},
		// The same time twice: two records, not one.
		foreignRecord{at(30), otellog.SeverityWarn, "node: slow page again", nil},
	)
	emitSDK(t, vl.OTLPEndpoint()+"/v1/logs", []attribute.KeyValue{attribute.String("service.name", "billing")},
		foreignRecord{at(20), otellog.SeverityDebug, "billing: quote asked", []attribute.KeyValue{
			attribute.String(resource.RunID, run), attribute.String(resource.StepID, "render"), attribute.String("customer", "c-7")}},
		foreignRecord{at(40), otellog.SeverityError, "billing: for another run", []attribute.KeyValue{
			attribute.String(resource.RunID, run+"-other"), attribute.String(resource.StepID, "render")}},
	)
	emitSDK(t, col.OTLPEndpoint+"/v1/logs", []attribute.KeyValue{attribute.String("service.name", "billing")},
		foreignRecord{at(50), otellog.SeverityInfo, "billing: via the collector", []attribute.KeyValue{
			attribute.String(resource.RunID, run), attribute.String(resource.StepID, "render")}},
	)
	logOnce(t, s, runlog.Scope{RunID: run, StepID: "train"}, "go: train")

	got := waitFetch(t, s, runlog.Query{RunID: run}, 6, 30*time.Second)
	// Records of one time are in the order of their ids.
	ms := messages(got)
	if len(ms) == 6 {
		slices.Sort(ms[2:4])
	}
	if want := []string{"node: start", "billing: quote asked", "node: slow page", "node: slow page again", "billing: via the collector", "go: train"}; !slices.Equal(ms, want) {
		t.Fatalf("Fetch(run) = %q; want %q", messages(got), want)
	}
	for _, e := range got[:4] {
		if e.RunID != run || e.StepID != "render" || e.ID == "" || e.Sequence != 0 {
			t.Errorf("foreign entry %q: run %q step %q id %q seq %d", e.Message, e.RunID, e.StepID, e.ID, e.Sequence)
		}
	}
	if e := got[0]; e.Level != runlog.LevelInfo || e.Attributes["pages"] != "3" || e.Attributes["service.name"] != "node-step" || !e.Time.Equal(at(10)) {
		t.Errorf("node entry = %+v", e)
	}
	if e := got[1]; e.Level != runlog.LevelDebug || e.Attributes["customer"] != "c-7" || e.Attributes["service.name"] != "billing" {
		t.Errorf("billing entry = %+v", e)
	}
	if got[2].ID == got[3].ID {
		t.Errorf("two records of one time share the id %q", got[2].ID)
	}
	step := waitFetch(t, s, runlog.Query{RunID: run, StepID: "render"}, 5, 10*time.Second)
	if len(step) != 5 {
		t.Errorf("Fetch(step render) = %q; want the 5 foreign records", messages(step))
	}
	// Paging one entry at a time crosses the equal times exactly once each.
	var paged []string
	q := runlog.Query{RunID: run, Limit: 1}
	for e, err := range runlog.All(t.Context(), s, q) {
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, e.Message)
	}
	if !slices.Equal(paged, messages(got)) {
		t.Errorf("paged by 1 = %q; want %q", paged, messages(got))
	}

	// The collector's file exporter wrote what came through it, readable
	// as a LogsURI: the Node step's records and runlog's. Grouping files
	// by the resource's run id (deploy/otelcol/config.yaml), it writes
	// none for billing's, whose run is on the record only.
	r := file.New(t.TempDir(), file.WithLogsURIDirs(col.FileDir))
	files := waitFetch(t, r, runlog.Query{RunID: run, LogsURI: col.FileDir}, 4, 10*time.Second)
	fs := messages(files)
	if len(fs) == 4 {
		slices.Sort(fs[1:3])
	}
	if want := []string{"node: start", "node: slow page", "node: slow page again", "go: train"}; !slices.Equal(fs, want) {
		ents, _ := os.ReadDir(col.FileDir)
		for _, e := range ents {
			t.Logf("collector file %s", e.Name())
		}
		t.Errorf("collector files = %q; want %q", messages(files), want)
	}
}

// TestZenMLLayout: records shaped exactly as ZenML's OTel log store writes
// them — a resource of service.name "zenml" and service.version, and on
// every record the origin's metadata as zenml.* attributes with the
// Python handler's code.* ones — produced by a foreign SDK, are read back
// with the zenml convention, by run, step and source, directly and through
// the collector.
func TestZenMLLayout(t *testing.T) {
	vl, col, _ := servers(t)
	run, step, logID := "9b2f3c1e-0d4a-4c55-9f00-"+strconv.FormatInt(time.Now().UnixNano()%1e12, 10), "5e7d0c2a-8f1b-4e6d-a3c9-2b4f6e8a0c1d", "0c4a9e2b-7d3f-4b1a-8e5c-6f2d9a1b3c7e"
	t0 := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	meta := func(source, logID string, stepLevel bool) []attribute.KeyValue {
		kv := []attribute.KeyValue{
			attribute.String("code.file.path", "/app/steps/train.py"),
			attribute.String("code.function.name", "trainer"),
			attribute.Int("code.line.number", 42),
			attribute.String("zenml.pipeline.run.id", run),
			attribute.String("zenml.pipeline.run.name", "training-2026_12_01"),
			attribute.String("zenml.project.id", "p-1"),
			attribute.String("zenml.project.name", "default"),
			attribute.String("zenml.pipeline.id", "pl-1"),
			attribute.String("zenml.pipeline.name", "training"),
			attribute.String("zenml.stack.id", "st-1"),
			attribute.String("zenml.stack.name", "default"),
			attribute.String("zenml.user.id", "u-1"),
			attribute.String("zenml.user.name", "alice"),
			attribute.String("zenml.source", source),
			attribute.String("zenml.log.id", logID),
			attribute.String("zenml.log.source", source),
			attribute.String("zenml.log_store.id", "ls-1"),
			attribute.String("zenml.log_store.name", "otel"),
		}
		if stepLevel {
			kv = append(kv, attribute.String("zenml.step.run.id", step), attribute.String("zenml.step.run.name", "trainer"))
		}
		return kv
	}
	res := []attribute.KeyValue{attribute.String("service.name", "zenml"), attribute.String("service.version", "0.93.0")}
	emitSDK(t, vl.OTLPEndpoint()+"/v1/logs", res,
		foreignRecord{t0.Add(1 * time.Millisecond), otellog.SeverityInfo, "Step trainer has started.", meta("step", logID, true)},
		foreignRecord{t0.Add(3 * time.Millisecond), otellog.SeverityWarn, "loss is nan", meta("step", logID, true)},
	)
	emitSDK(t, col.OTLPEndpoint+"/v1/logs", res,
		foreignRecord{t0.Add(2 * time.Millisecond), otellog.SeverityInfo, "Initiating a new run for the pipeline: training.", meta("orchestrator", "run-log-1", false)},
	)

	zenml, err := resource.ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := victorialogs.New(victorialogs.Config{URL: vl.URL, Convention: zenml})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFetch(t, c, runlog.Query{RunID: run}, 3, 30*time.Second)
	if want := []string{"Step trainer has started.", "Initiating a new run for the pipeline: training.", "loss is nan"}; !slices.Equal(messages(got), want) {
		t.Fatalf("Fetch(run) by zenml = %q; want %q", messages(got), want)
	}
	e := got[0]
	if e.RunID != run || e.StepID != step || e.Source != "step" || e.ActivationID != logID || e.Filename != "/app/steps/train.py" ||
		e.Lineno != 42 || e.Level != runlog.LevelInfo || e.Attributes["zenml.step.run.name"] != "trainer" || e.Attributes["service.name"] != "zenml" {
		t.Errorf("zenml entry = %+v", e)
	}
	if e := got[1]; e.StepID != "" || e.Source != "orchestrator" {
		t.Errorf("run-level zenml entry: step %q source %q", e.StepID, e.Source)
	}
	if s := waitFetch(t, c, runlog.Query{RunID: run, StepID: step, Source: "step"}, 2, 5*time.Second); len(s) != 2 {
		t.Errorf("Fetch(step, source) by zenml = %q; want its 2 records", messages(s))
	}
	// Under the default convention these are no run's records.
	def, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := def.Fetch(t.Context(), runlog.Query{RunID: run}); err != nil || len(p.Entries) != 0 {
		t.Errorf("cicd Fetch of a zenml run = %q, %v; want nothing", messages(p.Entries), err)
	}
}
