// Package deploy_test checks docker-compose.yaml without a Docker engine: it
// loads it with compose-go, the library docker compose itself uses, and
// checks the services, their ports, and that every file it mounts or builds
// from exists and is the one the integration tests use.
package deploy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/runlog/runlog/internal/itest"
)

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithName("runlog"), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("docker-compose.yaml does not load: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	root, _ := filepath.Abs("..")
	wantPorts := map[string][]uint32{"loki": {3100}, "otelcol": {4317, 4318}, "grafana": {3000}, "pipeline": nil}
	for name, ports := range wantPorts {
		svc, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s is missing", name)
			continue
		}
		var published []uint32
		for _, pc := range svc.Ports {
			if pc.Published == strconv.Itoa(int(pc.Target)) {
				published = append(published, pc.Target)
			}
		}
		for _, want := range ports {
			if !slices.Contains(published, want) {
				t.Errorf("service %s does not publish port %d (has %v)", name, want, published)
			}
		}
		// Every bind mount points at a file of the repository.
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s, which does not exist", name, v.Source)
			}
			if !strings.HasPrefix(v.Source, root) {
				t.Errorf("service %s mounts %s, outside the repository", name, v.Source)
			}
		}
	}
	if len(p.Services) != len(wantPorts) {
		t.Errorf("services: %v; want %v", slices.Sorted(maps.Keys(p.Services)), slices.Sorted(maps.Keys(wantPorts)))
	}

	// The pipeline is built from this repository with a Dockerfile that exists.
	b := p.Services["pipeline"].Build
	if b == nil {
		t.Fatal("service pipeline has no build section")
	}
	if _, err := os.Stat(filepath.Join(b.Context, b.Dockerfile)); err != nil {
		t.Errorf("pipeline Dockerfile: %v", err)
	}
	if env := p.Services["pipeline"].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; env == nil || !strings.Contains(*env, "otelcol:4318") {
		t.Errorf("the pipeline does not export to the collector: OTEL_EXPORTER_OTLP_ENDPOINT=%v", env)
	}
}

// TestComposeUsesTestConfigs: the collector and Loki of docker-compose.yaml
// run with the very files internal/itest starts them with.
func TestComposeUsesTestConfigs(t *testing.T) {
	p := loadProject(t)
	root, _ := filepath.Abs("..")
	for svc, file := range map[string]string{
		"otelcol": filepath.Join(root, "deploy", "otelcol", "config.yaml"),
		"loki":    filepath.Join(root, "deploy", "loki", "loki.yaml"),
	} {
		found := false
		for _, v := range p.Services[svc].Volumes {
			if v.Source == file {
				found = true
			}
		}
		if !found {
			t.Errorf("service %s does not mount %s", svc, file)
		}
	}
	if env := p.Services["otelcol"].Environment["LOKI_OTLP_ENDPOINT"]; env == nil || *env != "http://loki:3100/otlp" {
		t.Errorf("the collector does not export to the loki service: %v", env)
	}
}

// TestComposeKeepsQueues: the collector's persistent queue and the
// pipeline's spool are on named volumes, so a restarted container finds
// what it had accepted (docs/reliability.md).
func TestComposeKeepsQueues(t *testing.T) {
	p := loadProject(t)
	for svc, env := range map[string]string{"otelcol": "OTELCOL_QUEUE_DIR", "pipeline": "RUNLOG_SPOOL_DIR"} {
		dir := p.Services[svc].Environment[env]
		if dir == nil || *dir == "" {
			t.Errorf("service %s does not set %s", svc, env)
			continue
		}
		onVolume := false
		for _, v := range p.Services[svc].Volumes {
			if v.Type == "volume" && (*dir == v.Target || strings.HasPrefix(*dir, v.Target+"/")) {
				onVolume = true
			}
		}
		if !onVolume {
			t.Errorf("service %s: %s=%s is not on a named volume", svc, env, *dir)
		}
	}
}

// dashboard is the part of deploy/grafana/dashboards/*.json the checks read.
type dashboard struct {
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("grafana", "dashboards", "pipeline-run-logs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("pipeline-run-logs.json: %v", err)
	}
	return d
}

// TestGrafanaProvisioning: Grafana finds the dashboard where the provider
// looks, and the dashboard uses the provisioned Loki data source, the run
// and step variables, and a logs panel that filters on them.
func TestGrafanaProvisioning(t *testing.T) {
	p := loadProject(t)
	root, _ := filepath.Abs("..")
	mounts := map[string]string{} // host path -> container path
	for _, v := range p.Services["grafana"].Volumes {
		mounts[v.Source] = v.Target
	}
	if got := mounts[filepath.Join(root, "deploy", "grafana", "provisioning")]; got != "/etc/grafana/provisioning" {
		t.Errorf("grafana mounts deploy/grafana/provisioning at %q; want /etc/grafana/provisioning", got)
	}
	dashDir := mounts[filepath.Join(root, "deploy", "grafana", "dashboards")]
	provider, err := os.ReadFile(filepath.Join("grafana", "provisioning", "dashboards", "runlog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if dashDir == "" || !strings.Contains(string(provider), "path: "+dashDir+"\n") {
		t.Errorf("the dashboard provider does not read where deploy/grafana/dashboards is mounted (%q):\n%s", dashDir, provider)
	}
	ds, err := os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", "loki.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"type: loki", "uid: runlog-loki", "url: http://loki:3100"} {
		if !strings.Contains(string(ds), want) {
			t.Errorf("datasources/loki.yaml lacks %q", want)
		}
	}

	d := loadDashboard(t)
	if d.Title != "Pipeline run logs" {
		t.Errorf("dashboard title %q", d.Title)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"run", "step"} {
		if !slices.Contains(vars, want) {
			t.Errorf("dashboard variables %v lack %s", vars, want)
		}
	}
	logsPanel := false
	for _, pn := range d.Panels {
		if pn.Datasource.UID != "runlog-loki" {
			t.Errorf("panel %q uses data source %q, not the provisioned runlog-loki", pn.Title, pn.Datasource.UID)
		}
		for _, tg := range pn.Targets {
			if pn.Type == "logs" && strings.HasPrefix(tg.Expr, `{service_name=~".+"} | cicd_pipeline_run_id="$run" | cicd_pipeline_task_run_id=~"$step"`) {
				logsPanel = true
			}
		}
	}
	if !logsPanel {
		t.Error("no logs panel selects a run's lines with $run and $step")
	}
}

// TestDashboardQueries runs the dashboard's queries, with its variables
// filled in, against a real Loki fed by the real collector, both started
// with the configs docker-compose.yaml mounts: they parse, and they select
// the lines of one run and one step.
func TestDashboardQueries(t *testing.T) {
	lk := itest.StartLoki(t)
	col := itest.StartCollector(t, lk.URL)
	start := time.Now().Add(-time.Minute)
	send := func(run, step, msg string) {
		col.SendLog(t, map[string]string{"service.name": "pipeline", "cicd.pipeline.run.id": run, "cicd.pipeline.task.run.id": step}, msg)
	}
	send("r1", "train", "train of r1")
	send("r1", "evaluate", "evaluate of r1")
	send("r2", "train", "train of r2")

	vars := strings.NewReplacer("$run", "r1", "$step", "tr.*", "$search", "", "$level", "9", "$__auto", "1m")
	for _, pn := range loadDashboard(t).Panels {
		for _, tg := range pn.Targets {
			expr := vars.Replace(tg.Expr)
			q := url.Values{
				"query": {expr},
				"start": {strconv.FormatInt(start.UnixNano(), 10)},
				"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
				"step":  {"60"},
			}
			var got string
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
				got = queryRange(t, lk.URL+"/loki/api/v1/query_range?"+q.Encode())
				if got == "train of r1" || (pn.Type != "logs" && got == "train") {
					break
				}
			}
			switch {
			case pn.Type == "logs" && got != "train of r1":
				t.Errorf("panel %q, %s: lines %q; want the train step of r1 only", pn.Title, expr, got)
			case pn.Type != "logs" && got != "train":
				t.Errorf("panel %q, %s: series %q; want one for the train step", pn.Title, expr, got)
			}
		}
	}
}

// queryRange returns the lines of a log query, or the label values of a
// metric query's series, joined by newlines.
func queryRange(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", resp.Status, b) // a query that does not parse
	}
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range r.Data.Result {
		if s.Metric != nil {
			out = append(out, slices.Sorted(maps.Values(s.Metric))...)
			continue
		}
		for _, v := range s.Values {
			out = append(out, fmt.Sprint(v[1]))
		}
	}
	return strings.Join(out, "\n")
}
