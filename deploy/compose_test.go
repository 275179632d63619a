// Package deploy_test checks docker-compose.yaml and the files it mounts
// without a Docker engine: it loads the compose file with compose-go, the
// library docker compose itself uses, and checks the services of the default
// stack (VictoriaLogs, the collector, Grafana, the example pipeline) and of
// the optional loki profile, their ports and volumes, that every file they
// mount or build from exists and is the one runlog's tests use, Grafana's
// provisioning and dashboards, and, against a real VictoriaLogs fed by the
// real collector, the dashboard's queries.
package deploy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/runlog/runlog/internal/itest"
)

// The services of docker-compose.yaml: the default stack, and those of the
// loki profile, which `docker compose up` leaves out.
var (
	defaultServices = []string{"victorialogs", "otelcol", "grafana", "pipeline"}
	lokiServices    = []string{"loki", "otelcol-loki", "pipeline-loki"}
)

// The data source plugin of VictoriaLogs: its plugin id, which is also the
// data source type in provisioning and dashboards (the plugin's
// src/plugin.json and README), and the query types its targets take
// (src/types.ts: instant is "Raw Logs", statsRange "Range", stats
// "Instant", hits).
const vlPluginID = "victoriametrics-logs-datasource"

var vlQueryTypes = []string{"instant", "stats", "statsRange", "hits"}

// The uids of the provisioned data sources, which the dashboards name.
const (
	vlUID   = "runlog-victorialogs"
	lokiUID = "runlog-loki"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadProject loads docker-compose.yaml as docker compose would, with the
// given profiles active, paths resolved against the repository root and no
// variables from the environment of the test.
func loadProject(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithName("runlog"), cli.WithResolvedPaths(true),
		cli.WithProfiles(profiles))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("docker-compose.yaml does not load (profiles %v): %v", profiles, err)
	}
	return p
}

func env(svc types.ServiceConfig, name string) string {
	if v := svc.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// TestComposeServices: `docker compose up` starts the default stack only;
// `--profile loki` adds Loki, its collector and a pipeline writing through
// them. Each service publishes its ports on the host (the second collector
// on 4319 and 4320, beside the first), and every bind mount is a file of the
// repository that exists.
func TestComposeServices(t *testing.T) {
	root := repoRoot(t)
	// host port -> container port
	wantPorts := map[string]map[string]uint32{
		"victorialogs":  {"9428": 9428},
		"otelcol":       {"4317": 4317, "4318": 4318},
		"grafana":       {"3000": 3000},
		"pipeline":      nil,
		"loki":          {"3100": 3100},
		"otelcol-loki":  {"4319": 4317, "4320": 4318},
		"pipeline-loki": nil,
	}

	plain := loadProject(t)
	if got := slices.Sorted(maps.Keys(plain.Services)); !slices.Equal(got, slices.Sorted(slices.Values(defaultServices))) {
		t.Errorf("services without a profile: %v; want %v", got, slices.Sorted(slices.Values(defaultServices)))
	}
	for _, name := range lokiServices {
		if _, ok := plain.DisabledServices[name]; !ok {
			t.Errorf("service %s is not a disabled (profile) service of the default stack", name)
		}
	}

	p := loadProject(t, "loki")
	all := append(slices.Clone(defaultServices), lokiServices...)
	if got := slices.Sorted(maps.Keys(p.Services)); !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Errorf("services with --profile loki: %v; want %v", got, slices.Sorted(slices.Values(all)))
	}
	for _, name := range all {
		svc, ok := p.Services[name]
		if !ok {
			continue // reported above
		}
		wantProfiles := []string(nil)
		if slices.Contains(lokiServices, name) {
			wantProfiles = []string{"loki"}
		}
		if !slices.Equal(svc.Profiles, wantProfiles) {
			t.Errorf("service %s has profiles %v; want %v", name, svc.Profiles, wantProfiles)
		}
		published := map[string]uint32{}
		for _, pc := range svc.Ports {
			published[pc.Published] = pc.Target
		}
		if !maps.Equal(published, wantPorts[name]) {
			t.Errorf("service %s publishes (host: container) %v; want %v", name, published, wantPorts[name])
		}
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s, which does not exist", name, v.Source)
			}
			if !strings.HasPrefix(v.Source, root+string(filepath.Separator)) {
				t.Errorf("service %s mounts %s, outside the repository", name, v.Source)
			}
			if !v.ReadOnly {
				t.Errorf("service %s mounts %s read-write; the repository's files are mounted :ro", name, v.Source)
			}
		}
	}
}

// serviceURL matches the URLs of one service from another: http://NAME:PORT.
var serviceURL = regexp.MustCompile(`^https?://([a-z0-9-]+):([0-9]+)(/.*)?$`)

// checkServiceURL reports whether u, used by service from, names a compose
// service that listens on that port, and, unless anyProfile, one that runs
// whenever from runs (a default service must not talk to a profile's).
func checkServiceURL(t *testing.T, p *types.Project, from, what, u string, anyProfile bool) {
	t.Helper()
	m := serviceURL.FindStringSubmatch(u)
	if m == nil {
		t.Errorf("%s: %s=%q is not http://SERVICE:PORT/...", from, what, u)
		return
	}
	to, ok := p.Services[m[1]]
	if !ok {
		t.Errorf("%s: %s=%s names no service %q", from, what, u, m[1])
		return
	}
	port, _ := strconv.Atoi(m[2])
	listens := false
	for _, pc := range to.Ports {
		listens = listens || pc.Target == uint32(port)
	}
	if !listens {
		t.Errorf("%s: %s=%s: service %s has no port %d", from, what, u, m[1], port)
	}
	if !anyProfile && len(p.Services[from].Profiles) == 0 && len(to.Profiles) > 0 {
		t.Errorf("%s (default stack): %s=%s names %s, which runs only with profiles %v", from, what, u, m[1], to.Profiles)
	}
}

// TestComposeWiring: the collectors export where their services are, the
// pipelines write to their collector and read from their backend, and
// every such URL names a service of the compose file on a port it has.
func TestComposeWiring(t *testing.T) {
	p := loadProject(t, "loki")
	want := map[string]map[string]string{
		"otelcol":       {"VICTORIALOGS_OTLP_ENDPOINT": "http://victorialogs:9428/insert/opentelemetry"},
		"otelcol-loki":  {"LOKI_OTLP_ENDPOINT": "http://loki:3100/otlp"},
		"pipeline":      {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otelcol:4318", "RUNLOG_VICTORIALOGS_URL": "http://victorialogs:9428"},
		"pipeline-loki": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otelcol-loki:4318", "RUNLOG_LOKI_URL": "http://loki:3100"},
	}
	for name, vars := range want {
		for k, v := range vars {
			if got := env(p.Services[name], k); got != v {
				t.Errorf("service %s: %s=%q; want %q", name, k, got, v)
			}
		}
	}
	for name, svc := range p.Services {
		for k, v := range svc.Environment {
			if v != nil && strings.HasPrefix(*v, "http") {
				checkServiceURL(t, p, name, k, *v, false)
			}
		}
		for _, dep := range slices.Sorted(maps.Keys(svc.DependsOn)) {
			if len(svc.Profiles) == 0 && len(p.Services[dep].Profiles) > 0 {
				t.Errorf("service %s (default stack) depends on %s, which runs only with a profile", name, dep)
			}
		}
	}
	if strings.Contains(env(p.Services["pipeline"], "RUNLOG_LOKI_URL"), "loki") {
		t.Error("the default pipeline still reads from Loki")
	}
}

// TestComposePipeline: both pipelines are built from this repository with
// deploy/pipeline.Dockerfile, whose default command uses the victorialogs
// flavor; the loki profile's pipeline switches to the otel flavor.
func TestComposePipeline(t *testing.T) {
	p := loadProject(t, "loki")
	for _, name := range []string{"pipeline", "pipeline-loki"} {
		b := p.Services[name].Build
		if b == nil {
			t.Errorf("service %s has no build section", name)
			continue
		}
		if b.Context != repoRoot(t) || b.Dockerfile != "deploy/pipeline.Dockerfile" {
			t.Errorf("service %s builds %s from %s; want deploy/pipeline.Dockerfile from the repository", name, b.Dockerfile, b.Context)
		}
	}
	df, err := os.ReadFile("pipeline.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	entrypoint, cmd := dockerfileExec(t, string(df), "ENTRYPOINT"), dockerfileExec(t, string(df), "CMD")
	if len(entrypoint) == 0 || entrypoint[0] != "pipeline" {
		t.Errorf("pipeline.Dockerfile: ENTRYPOINT %q; want the pipeline binary", entrypoint)
	}
	if got := strings.Join(cmd, " "); got != "-store victorialogs" {
		t.Errorf("pipeline.Dockerfile: CMD %q; want -store victorialogs (the default stack)", got)
	}
	if got := p.Services["pipeline"].Command; got != nil {
		t.Errorf("service pipeline overrides the Dockerfile's command with %q", got)
	}
	if got := strings.Join(p.Services["pipeline-loki"].Command, " "); got != "-store otel" {
		t.Errorf("service pipeline-loki: command %q; want -store otel", got)
	}
	if _, err := os.Stat("pipeline.Dockerfile.dockerignore"); err != nil {
		t.Errorf("the build would send the whole repository, .git included: %v", err)
	}
}

// dockerfileExec returns the exec-form (JSON) arguments of the last
// instruction of a Dockerfile, such as ENTRYPOINT or CMD.
func dockerfileExec(t *testing.T, dockerfile, instruction string) []string {
	t.Helper()
	var args []string
	for _, line := range strings.Split(dockerfile, "\n") {
		rest, ok := strings.CutPrefix(line, instruction+" ")
		if !ok {
			continue
		}
		args = nil
		if err := json.Unmarshal([]byte(rest), &args); err != nil {
			t.Errorf("Dockerfile: %s is not in exec form: %s", instruction, line)
		}
	}
	return args
}

// collectorConfigs are the collectors of docker-compose.yaml and the file
// each runs with: config.yaml, the one internal/itest starts the tests'
// collector with, and loki.yaml, the one loki_test.go starts.
var collectorConfigs = map[string]string{
	"otelcol":      filepath.Join("otelcol", "config.yaml"),
	"otelcol-loki": filepath.Join("otelcol", "loki.yaml"),
}

// mountedAt returns the host file svc mounts at target, or "".
func mountedAt(svc types.ServiceConfig, target string) string {
	for _, v := range svc.Volumes {
		if v.Target == target {
			return v.Source
		}
	}
	return ""
}

// TestComposeUsesTestConfigs: the collectors and Loki of docker-compose.yaml
// run with the very files the tests start them with, at the path their
// command names, and every variable compose sets for a collector is one its
// file reads.
func TestComposeUsesTestConfigs(t *testing.T) {
	p := loadProject(t, "loki")
	root := repoRoot(t)
	for name, file := range collectorConfigs {
		svc := p.Services[name]
		var target string
		for _, arg := range svc.Command {
			if v, ok := strings.CutPrefix(arg, "--config="); ok {
				target = v
			}
		}
		if got, want := mountedAt(svc, target), filepath.Join(root, "deploy", file); target == "" || got != want {
			t.Errorf("service %s runs --config=%q, where it mounts %q; want deploy/%s", name, target, got, file)
		}
		cfg, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range slices.Sorted(maps.Keys(svc.Environment)) {
			if !strings.Contains(string(cfg), "${env:"+k) {
				t.Errorf("service %s sets %s, which deploy/%s does not read", name, k, file)
			}
		}
	}

	loki := p.Services["loki"]
	var lokiConfig string
	for _, arg := range loki.Command {
		if v, ok := strings.CutPrefix(arg, "-config.file="); ok {
			lokiConfig = v
		}
	}
	if got := mountedAt(loki, lokiConfig); got != filepath.Join(root, "deploy", "loki", "loki.yaml") {
		t.Errorf("service loki runs -config.file=%q, where it mounts %q; want deploy/loki/loki.yaml", lokiConfig, got)
	}
	if !slices.Contains(loki.Command, "-config.expand-env=true") {
		t.Error("service loki does not expand the variables of loki.yaml (-config.expand-env=true)")
	}
	if img := p.Services["victorialogs"].Image; img != "victoriametrics/victoria-logs:v1.52.1" {
		t.Errorf("service victorialogs runs %s; want victoriametrics/victoria-logs:v1.52.1, the version the tests build", img)
	}
	for name := range collectorConfigs {
		if img := p.Services[name].Image; img != "otel/opentelemetry-collector-contrib:0.165.0" {
			t.Errorf("service %s runs %s; want the contrib collector 0.165.0, the version the tests build", name, img)
		}
	}
}

// TestCollectorConfigsValidate runs `otelcol validate` (the collector the
// tests build, with a subset of the contrib image's components) on each
// collector's file with the variables compose sets for it.
func TestCollectorConfigsValidate(t *testing.T) {
	bin := needCollector(t)
	p := loadProject(t, "loki")
	for name, file := range collectorConfigs {
		cmd := exec.Command(bin, "validate", "--config="+file)
		cmd.Env = os.Environ()
		for k, v := range p.Services[name].Environment {
			if v != nil {
				cmd.Env = append(cmd.Env, k+"="+*v)
			}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("service %s: otelcol validate --config=deploy/%s: %v\n%s", name, file, err, out)
		}
	}
}

// needCollector returns the path of the collector the tests build, or ends
// the test as internal/itest does: it fails when servers are required
// ($CI is true, $RUNLOG_REQUIRE_SERVERS is 1), else skips.
func needCollector(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not running the collector")
	}
	bin, err := itest.Binary("otelcol")
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("RUNLOG_REQUIRE_SERVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

// TestComposeKeepsData: the collectors' persistent queues, the pipelines'
// spools and the backends' data are on named volumes, so a restarted
// container finds what it had accepted (docs/reliability.md).
func TestComposeKeepsData(t *testing.T) {
	p := loadProject(t, "loki")
	dirs := map[string]map[string]string{} // service -> what -> directory
	for svc, envName := range map[string]string{"otelcol": "OTELCOL_QUEUE_DIR", "otelcol-loki": "OTELCOL_QUEUE_DIR",
		"pipeline": "RUNLOG_SPOOL_DIR", "pipeline-loki": "RUNLOG_SPOOL_DIR"} {
		dirs[svc] = map[string]string{envName: env(p.Services[svc], envName)}
	}
	for _, arg := range p.Services["victorialogs"].Command {
		if v, ok := strings.CutPrefix(arg, "-storageDataPath="); ok {
			dirs["victorialogs"] = map[string]string{"-storageDataPath": v}
		}
	}
	dirs["loki"] = map[string]string{"LOKI_DATA_DIR (loki.yaml's default)": "/loki"}

	for _, svc := range slices.Sorted(maps.Keys(dirs)) {
		for what, dir := range dirs[svc] {
			if dir == "" {
				t.Errorf("service %s does not set %s", svc, what)
				continue
			}
			onVolume := false
			for _, v := range p.Services[svc].Volumes {
				if v.Type == types.VolumeTypeVolume && (dir == v.Target || strings.HasPrefix(dir, v.Target+"/")) {
					onVolume = true
				}
			}
			if !onVolume {
				t.Errorf("service %s: %s=%s is not on a named volume", svc, what, dir)
			}
		}
	}
	if dirs["victorialogs"] == nil {
		t.Error("service victorialogs does not set -storageDataPath")
	}
	// Two collectors must not share one queue: each replays what it finds.
	if a, b := env(p.Services["otelcol"], "OTELCOL_QUEUE_DIR"), env(p.Services["otelcol-loki"], "OTELCOL_QUEUE_DIR"); a == b ||
		volumeAt(p.Services["otelcol"], a) == volumeAt(p.Services["otelcol-loki"], b) {
		t.Errorf("the collectors share their queue directory or volume (%s, %s)", a, b)
	}
}

// volumeAt returns the named volume that holds dir in svc, or "".
func volumeAt(svc types.ServiceConfig, dir string) string {
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeVolume && (dir == v.Target || strings.HasPrefix(dir, v.Target+"/")) {
			return v.Source
		}
	}
	return ""
}

// datasourceFile is the part of a Grafana data source provisioning file
// the checks read.
type datasourceFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string         `yaml:"name"`
		UID       string         `yaml:"uid"`
		Type      string         `yaml:"type"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		JSONData  map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

// provisionedDatasources parses every file of
// grafana/provisioning/datasources and returns the data sources by uid,
// with the file each comes from.
func provisionedDatasources(t *testing.T) (dsTypes map[string]string, files map[string]string, defaults []string) {
	t.Helper()
	dir := filepath.Join("grafana", "provisioning", "datasources")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	dsTypes, files = map[string]string{}, map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var f datasourceFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Errorf("%s is not valid YAML: %v", e.Name(), err)
			continue
		}
		if f.APIVersion != 1 || len(f.Datasources) == 0 {
			t.Errorf("%s: apiVersion %d, %d data sources; want apiVersion 1 and data sources", e.Name(), f.APIVersion, len(f.Datasources))
		}
		for _, ds := range f.Datasources {
			if ds.UID == "" || dsTypes[ds.UID] != "" {
				t.Errorf("%s: data source %q has uid %q, empty or taken", e.Name(), ds.Name, ds.UID)
			}
			dsTypes[ds.UID], files[ds.UID] = ds.Type, e.Name()
			if ds.IsDefault {
				defaults = append(defaults, ds.UID)
			}
		}
	}
	return dsTypes, files, defaults
}

// TestGrafanaProvisioning: Grafana installs the VictoriaLogs plugin and
// finds its data source (the default) and Loki's, and the dashboards where
// the provider looks.
func TestGrafanaProvisioning(t *testing.T) {
	p := loadProject(t, "loki")
	root := repoRoot(t)
	grafana := p.Services["grafana"]
	mounts := map[string]string{} // host path -> container path
	for _, v := range grafana.Volumes {
		mounts[v.Source] = v.Target
	}
	if got := mounts[filepath.Join(root, "deploy", "grafana", "provisioning")]; got != "/etc/grafana/provisioning" {
		t.Errorf("grafana mounts deploy/grafana/provisioning at %q; want /etc/grafana/provisioning", got)
	}
	dashDir := mounts[filepath.Join(root, "deploy", "grafana", "dashboards")]
	b, err := os.ReadFile(filepath.Join("grafana", "provisioning", "dashboards", "runlog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var provider struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &provider); err != nil {
		t.Fatalf("provisioning/dashboards/runlog.yaml: %v", err)
	}
	if len(provider.Providers) != 1 || provider.Providers[0].Type != "file" || dashDir == "" || provider.Providers[0].Options.Path != dashDir {
		t.Errorf("the dashboard provider does not read where deploy/grafana/dashboards is mounted (%q):\n%s", dashDir, b)
	}

	// The plugin is installed before Grafana starts, as preinstall_sync
	// does, so that provisioning finds it.
	var preinstalled []string
	for _, id := range strings.Split(env(grafana, "GF_PLUGINS_PREINSTALL_SYNC"), ",") {
		id, _, _ = strings.Cut(strings.TrimSpace(id), "@") // id@version pins a version
		preinstalled = append(preinstalled, id)
	}
	if !slices.Contains(preinstalled, vlPluginID) {
		t.Errorf("grafana: GF_PLUGINS_PREINSTALL_SYNC=%q does not install %s", env(grafana, "GF_PLUGINS_PREINSTALL_SYNC"), vlPluginID)
	}

	dsTypes, dsFiles, defaults := provisionedDatasources(t)
	if !slices.Equal(defaults, []string{vlUID}) {
		t.Errorf("default data sources %v; want %s alone", defaults, vlUID)
	}
	b, err = os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", dsFiles[vlUID]))
	if err != nil {
		t.Fatal(err)
	}
	var f datasourceFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, ds := range f.Datasources {
		switch ds.UID {
		case vlUID:
			if ds.Type != vlPluginID || ds.Access != "proxy" || ds.URL != "http://victorialogs:9428" {
				t.Errorf("data source %s: type %q, access %q, url %q; want %s, proxy, http://victorialogs:9428", vlUID, ds.Type, ds.Access, ds.URL, vlPluginID)
			}
			checkLevelRules(t, ds.JSONData["logLevelRules"])
		}
	}
	if dsTypes[lokiUID] != "loki" {
		t.Errorf("data source %s has type %q; want loki", lokiUID, dsTypes[lokiUID])
	}
	// Grafana's server reaches each data source: a service of the compose
	// file on a port it has. Loki's is provisioned always and runs with the
	// loki profile (datasources/loki.yaml says so).
	for _, e := range []string{dsFiles[vlUID], dsFiles[lokiUID]} {
		b, err := os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", e))
		if err != nil {
			t.Fatal(err)
		}
		var f datasourceFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		for _, ds := range f.Datasources {
			checkServiceURL(t, p, "grafana", "data source "+ds.UID+" url", ds.URL, ds.UID == lokiUID)
		}
	}
}

// checkLevelRules checks the data source's log level rules against what
// the plugin takes (src/configuration/LogLevelRules/types.ts) and the
// fields VictoriaLogs stores.
func checkLevelRules(t *testing.T, rules any) {
	t.Helper()
	list, ok := rules.([]any)
	if !ok || len(list) == 0 {
		t.Errorf("data source %s: logLevelRules %v; want rules on severity_number", vlUID, rules)
		return
	}
	operators := []string{"equals", "notEquals", "greaterThan", "lessThan", "regex", "caseInsensitiveEquals", "wordFilter"}
	levels := []string{"critical", "error", "warning", "info", "debug", "trace", "unknown"}
	for _, r := range list {
		m, _ := r.(map[string]any)
		op, _ := m["operator"].(string)
		level, _ := m["level"].(string)
		if m["field"] != "severity_number" || !slices.Contains(operators, op) || !slices.Contains(levels, level) {
			t.Errorf("data source %s: log level rule %v: want field severity_number, an operator of %v, a level of %v", vlUID, m, operators, levels)
		}
	}
}

// dashboard is the part of deploy/grafana/dashboards/*.json the checks read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Datasource *dsRef `json:"datasource"`
	Query      any    `json:"query"` // a string, or the plugin's variable query
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

// vlVariableQuery is the plugin's variable query (src/types.ts,
// VariableQuery): the values of field over the records query selects,
// from /select/logsql/field_values.
type vlVariableQuery struct {
	Type  string `json:"type"`
	Field string `json:"field"`
	Query string `json:"query"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource dsRef  `json:"datasource"`
	Targets    []struct {
		RefID        string `json:"refId"`
		Datasource   *dsRef `json:"datasource"`
		Expr         string `json:"expr"`
		QueryType    string `json:"queryType"`
		LegendFormat string `json:"legendFormat"`
		MaxLines     int    `json:"maxLines"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T, file string) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("grafana", "dashboards", file))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

func (v variable) vlQuery(t *testing.T) vlVariableQuery {
	t.Helper()
	b, _ := json.Marshal(v.Query)
	var q vlVariableQuery
	if err := json.Unmarshal(b, &q); err != nil {
		t.Errorf("variable %s: query %s is not the plugin's variable query: %v", v.Name, b, err)
	}
	return q
}

// varRef matches the variables a query uses: $name, ${name}, ${name:fmt}.
var varRef = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z0-9_]+))`)

// TestDashboards: every dashboard parses, has a uid and title of its own,
// and queries provisioned data sources of the type it says, with variables
// it defines; each data source has its dashboard.
func TestDashboards(t *testing.T) {
	dsTypes, _, _ := provisionedDatasources(t)
	files, err := filepath.Glob(filepath.Join("grafana", "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	uids, titles := map[string]string{}, map[string]string{}
	used := map[string]bool{} // data source uids the dashboards use
	for _, file := range files {
		file = filepath.Base(file)
		d := loadDashboard(t, file)
		if d.UID == "" || uids[d.UID] != "" || d.Title == "" || titles[d.Title] != "" {
			t.Errorf("%s: uid %q, title %q: empty, or another dashboard's", file, d.UID, d.Title)
		}
		uids[d.UID], titles[d.Title] = file, file
		vars := map[string]bool{}
		check := func(where string, ref *dsRef) {
			if ref == nil {
				return
			}
			used[ref.UID] = true
			if typ, ok := dsTypes[ref.UID]; !ok || typ != ref.Type {
				t.Errorf("%s: %s uses data source {type %q, uid %q}; provisioned: %v", file, where, ref.Type, ref.UID, dsTypes)
			}
		}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			check("variable "+v.Name, v.Datasource)
		}
		for _, pn := range d.Panels {
			check(fmt.Sprintf("panel %q", pn.Title), &pn.Datasource)
			if len(pn.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, pn.Title)
			}
			for _, tg := range pn.Targets {
				check(fmt.Sprintf("panel %q, query %s", pn.Title, tg.RefID), tg.Datasource)
				if pn.Datasource.Type == vlPluginID && !slices.Contains(vlQueryTypes, tg.QueryType) {
					t.Errorf("%s: panel %q: queryType %q; the plugin takes %v", file, pn.Title, tg.QueryType, vlQueryTypes)
				}
				for _, m := range varRef.FindAllStringSubmatch(tg.Expr+" "+pn.Title, -1) {
					name := m[1] + m[2]
					if !vars[name] && !strings.HasPrefix(name, "__") {
						t.Errorf("%s: panel %q uses $%s, which the dashboard does not define", file, pn.Title, name)
					}
				}
			}
		}
	}
	for uid := range dsTypes {
		if !used[uid] {
			t.Errorf("no dashboard uses the provisioned data source %s", uid)
		}
	}
}

// The VictoriaLogs dashboard's filter parts: the run's stream, the steps,
// no end markers (runlog.end is "true" on the record Deactivate writes).
const (
	vlRunFilter  = `{cicd.pipeline.run.id="$run"}`
	vlStepFilter = `cicd.pipeline.task.run.id:in($step)`
	vlNoMarkers  = `runlog.end:!="true"`
)

// TestVictoriaLogsDashboard: "Pipeline run logs" picks a run and its steps
// from the stream fields' values, and its panels, on the provisioned
// VictoriaLogs data source, select that run's lines without end markers: a
// logs panel, and the lines per step and per level.
func TestVictoriaLogsDashboard(t *testing.T) {
	d := loadDashboard(t, "pipeline-run-logs.json")
	if d.Title != "Pipeline run logs" {
		t.Errorf("dashboard title %q", d.Title)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	for name, field := range map[string]string{"run": "cicd.pipeline.run.id", "step": "cicd.pipeline.task.run.id"} {
		v := vars[name]
		q := v.vlQuery(t)
		if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != vlUID || q.Type != "fieldValue" || q.Field != field {
			t.Errorf("variable %s: %+v, query %+v; want the values of %s from %s", name, v, q, field, vlUID)
		}
	}
	if q := vars["step"].vlQuery(t); q.Query != vlRunFilter {
		t.Errorf("variable step selects the steps of %q; want %s", q.Query, vlRunFilter)
	}
	// All steps is no filter at all, so that run-level records (no step
	// id) show too: the plugin turns in(*) into LogsQL's no-op filter.
	if s := vars["step"]; !s.Multi || !s.IncludeAll || s.AllValue != "*" {
		t.Errorf("variable step: multi %v, includeAll %v, allValue %q; want several steps and All as *", s.Multi, s.IncludeAll, s.AllValue)
	}

	types := map[string]string{} // panel type -> the by() of its stats, or "logs"
	for _, pn := range d.Panels {
		if pn.Datasource.UID != vlUID || pn.Datasource.Type != vlPluginID {
			t.Errorf("panel %q uses data source %+v, not the provisioned %s", pn.Title, pn.Datasource, vlUID)
		}
		for _, tg := range pn.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != vlUID {
				t.Errorf("panel %q, query %s does not name data source %s", pn.Title, tg.RefID, vlUID)
			}
			for _, part := range []string{vlRunFilter, vlStepFilter, vlNoMarkers, "severity_number:>=$level", "$search"} {
				if !strings.Contains(tg.Expr, part) {
					t.Errorf("panel %q: %s lacks %s", pn.Title, tg.Expr, part)
				}
			}
			switch {
			case pn.Type == "logs" && tg.QueryType == "instant":
				types["logs"] = "logs"
				if strings.Contains(tg.Expr, "|") {
					t.Errorf("logs panel %q: %s has pipes; it must return the records' fields as they are", pn.Title, tg.Expr)
				}
			case pn.Type == "timeseries" && tg.QueryType == "statsRange":
				by := regexp.MustCompile(`\| stats by \(([^)]+)\) count\(\)`).FindStringSubmatch(tg.Expr)
				if by == nil || tg.LegendFormat != "{{"+by[1]+"}}" {
					t.Errorf("panel %q: %s, legend %q; want | stats by (FIELD) count() and {{FIELD}}", pn.Title, tg.Expr, tg.LegendFormat)
					continue
				}
				types["timeseries by "+by[1]] = by[1]
			default:
				t.Errorf("panel %q: type %s with query type %s", pn.Title, pn.Type, tg.QueryType)
			}
		}
	}
	for _, want := range []string{"logs", "timeseries by severity_text", "timeseries by cicd.pipeline.task.run.id"} {
		if types[want] == "" {
			t.Errorf("no %s panel (have %v)", want, slices.Sorted(maps.Keys(types)))
		}
	}
}

// TestLokiDashboard: "Pipeline run logs (Loki)", kept for the loki profile,
// queries the provisioned Loki data source, where the collector's OTLP
// attributes are structured metadata with underscores.
func TestLokiDashboard(t *testing.T) {
	d := loadDashboard(t, "pipeline-run-logs-loki.json")
	if d.Title != "Pipeline run logs (Loki)" {
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
		if pn.Datasource.UID != lokiUID {
			t.Errorf("panel %q uses data source %q, not the provisioned %s", pn.Title, pn.Datasource.UID, lokiUID)
		}
		for _, tg := range pn.Targets {
			if !strings.Contains(tg.Expr, `| runlog_end!="true"`) {
				t.Errorf("panel %q: %s shows end markers", pn.Title, tg.Expr)
			}
			if pn.Type == "logs" && strings.HasPrefix(tg.Expr, `{service_name=~".+"} | cicd_pipeline_run_id="$run" | cicd_pipeline_task_run_id=~"$step"`) {
				logsPanel = true
			}
		}
	}
	if !logsPanel {
		t.Error("no logs panel selects a run's lines with $run and $step")
	}
}

// interpolate fills in the dashboard variables of a LogsQL query as the
// plugin does (src/datasource.ts, interpolateString) for the forms the
// dashboard uses: a single value goes in as it is ("$run" inside quotes,
// $level, $search); a multi-value variable inside in(...) becomes a list
// of JSON-quoted values, and its All value, "*", becomes in(*), which
// matches every record.
func interpolate(expr string, vars map[string][]string) string {
	for name, values := range vars {
		var list string
		if slices.Equal(values, []string{"*"}) {
			list = "*"
		} else {
			quoted := make([]string, len(values))
			for i, v := range values {
				quoted[i] = strconv.Quote(v)
			}
			list = strings.Join(quoted, ",")
		}
		expr = strings.ReplaceAll(expr, "in($"+name+")", "in("+list+")")
	}
	for name, values := range vars {
		expr = strings.ReplaceAll(expr, "$"+name, strings.Join(values, " "))
	}
	return expr
}

func TestInterpolate(t *testing.T) {
	vars := map[string][]string{"run": {"r1"}, "step": {"a", `b"c`}, "level": {"9"}, "search": {""}}
	got := interpolate(`{x="$run"} s:in($step) n:>=$level $search`, vars)
	if want := `{x="r1"} s:in("a","b\"c") n:>=9 `; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	vars["step"] = []string{"*"}
	if got := interpolate(`s:in($step)`, vars); got != "s:in(*)" {
		t.Errorf("All: got %q", got)
	}
}

// otlpRecord is one log record sent to the collector.
type otlpRecord struct {
	body     string
	severity int    // severity number
	text     string // severity text
	end      bool   // an end marker (runlog.end=true), as Deactivate writes
}

// sendOTLP posts one OTLP/HTTP JSON request with the records under one
// resource to an OTLP receiver and fails the test unless it accepts it.
func sendOTLP(t *testing.T, endpoint string, resource map[string]string, records ...otlpRecord) {
	t.Helper()
	var attrs []any
	for _, k := range slices.Sorted(maps.Keys(resource)) {
		attrs = append(attrs, map[string]any{"key": k, "value": map[string]any{"stringValue": resource[k]}})
	}
	now := time.Now()
	var recs []any
	for i, r := range records {
		rec := map[string]any{
			"timeUnixNano":   strconv.FormatInt(now.Add(time.Duration(i)*time.Millisecond).UnixNano(), 10),
			"severityNumber": r.severity,
			"severityText":   r.text,
			"body":           map[string]any{"stringValue": r.body},
			"attributes": []any{
				map[string]any{"key": "runlog.sequence", "value": map[string]any{"intValue": strconv.Itoa(i + 1)}},
			},
		}
		if r.end {
			rec["attributes"] = append(rec["attributes"].([]any), map[string]any{"key": "runlog.end", "value": map[string]any{"boolValue": true}})
		}
		recs = append(recs, rec)
	}
	req := map[string]any{"resourceLogs": []any{map[string]any{
		"resource":  map[string]any{"attributes": attrs},
		"scopeLogs": []any{map[string]any{"logRecords": recs}},
	}}}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(endpoint+"/v1/logs", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s/v1/logs: %s %s", endpoint, resp.Status, msg)
	}
}

// vlGet runs a VictoriaLogs select request and returns its body; a query
// that does not parse fails the test.
func vlGet(t *testing.T, base, path string, params url.Values) []byte {
	t.Helper()
	resp, err := http.PostForm(base+path, params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %v: %s %s", path, params, resp.Status, b)
	}
	return b
}

// vlMessages returns the sorted _msg of the records a LogsQL query selects
// (/select/logsql/query, what the plugin's instant query type asks).
func vlMessages(t *testing.T, base, query string, start, end time.Time) []string {
	t.Helper()
	b := vlGet(t, base, "/select/logsql/query", url.Values{"query": {query},
		"start": {start.Format(time.RFC3339Nano)}, "end": {end.Format(time.RFC3339Nano)}})
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		msgs = append(msgs, fmt.Sprint(rec["_msg"]))
	}
	sort.Strings(msgs)
	return msgs
}

// vlSeries returns, for a stats query over a time range
// (/select/logsql/stats_query_range, the plugin's statsRange), the sum of
// each series' values by the value of its label field ("" when absent).
func vlSeries(t *testing.T, base, query, field string, start, end time.Time) map[string]int {
	t.Helper()
	b := vlGet(t, base, "/select/logsql/stats_query_range", url.Values{"query": {query},
		"start": {start.Format(time.RFC3339Nano)}, "end": {end.Format(time.RFC3339Nano)}, "step": {"1h"}})
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out := map[string]int{}
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			n, _ := strconv.Atoi(fmt.Sprint(v[1]))
			out[s.Metric[field]] += n
		}
	}
	return out
}

// vlFieldValues returns the sorted non-empty values of field over the
// records query selects (/select/logsql/field_values, what the plugin's
// variable queries ask).
func vlFieldValues(t *testing.T, base, query, field string, start, end time.Time) []string {
	t.Helper()
	b := vlGet(t, base, "/select/logsql/field_values", url.Values{"query": {query}, "field": {field},
		"start": {start.Format(time.RFC3339Nano)}, "end": {end.Format(time.RFC3339Nano)}})
	var r struct {
		Values []struct {
			Value string `json:"value"`
		} `json:"values"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var out []string
	for _, v := range r.Values {
		if v.Value != "" {
			out = append(out, v.Value)
		}
	}
	sort.Strings(out)
	return out
}

// TestDashboardQueries runs the VictoriaLogs dashboard's variable and panel
// queries, with its variables filled in as the plugin fills them, against a
// real VictoriaLogs fed by the real collector (deploy/otelcol/config.yaml,
// the file docker-compose.yaml mounts): they parse, pick the runs and a
// run's steps, and select the lines of one run, its steps and levels, never
// its end markers.
func TestDashboardQueries(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	start := time.Now().Add(-time.Minute)
	res := func(run, step string) map[string]string {
		r := map[string]string{"service.name": "pipeline", "cicd.pipeline.run.id": run, "runlog.source": "step"}
		if step != "" {
			r["cicd.pipeline.task.run.id"] = step
		}
		return r
	}
	info := func(body string) otlpRecord { return otlpRecord{body: body, severity: 9, text: "INFO"} }
	sendOTLP(t, col.OTLPEndpoint, res("r1", "train"), info("train of r1"),
		otlpRecord{body: "debug of r1", severity: 5, text: "DEBUG"},
		otlpRecord{body: "error of r1", severity: 17, text: "ERROR"},
		otlpRecord{body: "", severity: 9, text: "INFO", end: true})
	sendOTLP(t, col.OTLPEndpoint, res("r1", "evaluate"), info("evaluate of r1"), otlpRecord{severity: 9, text: "INFO", end: true})
	sendOTLP(t, col.OTLPEndpoint, res("r1", ""), info("run level of r1"), otlpRecord{severity: 9, text: "INFO", end: true})
	sendOTLP(t, col.OTLPEndpoint, res("r2", "train"), info("train of r2"))

	d := loadDashboard(t, "pipeline-run-logs.json")
	var logsExpr, byLevel, byStep string
	for _, pn := range d.Panels {
		for _, tg := range pn.Targets {
			switch {
			case tg.QueryType == "instant":
				logsExpr = tg.Expr
			case strings.Contains(tg.Expr, "by (severity_text)"):
				byLevel = tg.Expr
			case strings.Contains(tg.Expr, "by (cicd.pipeline.task.run.id)"):
				byStep = tg.Expr
			}
		}
	}
	if logsExpr == "" || byLevel == "" || byStep == "" {
		t.Fatal("the dashboard lacks a panel (see TestVictoriaLogsDashboard)")
	}
	all := map[string][]string{"run": {"r1"}, "step": {"*"}, "level": {"0"}, "search": {""}}
	end := time.Now().Add(time.Minute)
	wantAll := []string{"debug of r1", "error of r1", "evaluate of r1", "run level of r1", "train of r1"}
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got = vlMessages(t, vl.URL, interpolate(logsExpr, all), start, end)
		// r2's line came last: once it is there, all are.
		if len(vlMessages(t, vl.URL, `{cicd.pipeline.run.id="r2"}`, start, end)) == 1 && slices.Equal(got, wantAll) {
			break
		}
	}
	if !slices.Equal(got, wantAll) {
		t.Fatalf("logs panel, run r1, all steps and levels, %s: %q; want %q", interpolate(logsExpr, all), got, wantAll)
	}

	for _, c := range []struct {
		vars map[string][]string
		want []string
	}{
		{map[string][]string{"run": {"r1"}, "step": {"train"}, "level": {"9"}, "search": {""}}, []string{"error of r1", "train of r1"}},
		{map[string][]string{"run": {"r1"}, "step": {"train", "evaluate"}, "level": {"13"}, "search": {""}}, []string{"error of r1"}},
		{map[string][]string{"run": {"r1"}, "step": {"*"}, "level": {"0"}, "search": {"evaluate"}}, []string{"evaluate of r1"}},
		{map[string][]string{"run": {"r2"}, "step": {"*"}, "level": {"0"}, "search": {""}}, []string{"train of r2"}},
	} {
		q := interpolate(logsExpr, c.vars)
		if got := vlMessages(t, vl.URL, q, start, end); !slices.Equal(got, c.want) {
			t.Errorf("logs panel, %v, %s: %q; want %q", c.vars, q, got, c.want)
		}
	}

	train := map[string][]string{"run": {"r1"}, "step": {"train"}, "level": {"0"}, "search": {""}}
	if got, want := vlSeries(t, vl.URL, interpolate(byLevel, train), "severity_text", start, end),
		map[string]int{"DEBUG": 1, "INFO": 1, "ERROR": 1}; !maps.Equal(got, want) {
		t.Errorf("lines per level, %s: %v; want %v", interpolate(byLevel, train), got, want)
	}
	if got, want := vlSeries(t, vl.URL, interpolate(byStep, all), "cicd.pipeline.task.run.id", start, end),
		map[string]int{"train": 3, "evaluate": 1, "": 1}; !maps.Equal(got, want) {
		t.Errorf("lines per step, %s: %v; want %v", interpolate(byStep, all), got, want)
	}

	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	runQ, stepQ := vars["run"].vlQuery(t), vars["step"].vlQuery(t)
	if got := vlFieldValues(t, vl.URL, runQ.Query, runQ.Field, start, end); !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("variable run: %q; want r1 and r2", got)
	}
	if got := vlFieldValues(t, vl.URL, interpolate(stepQ.Query, all), stepQ.Field, start, end); !slices.Equal(got, []string{"evaluate", "train"}) {
		t.Errorf("variable step of run r1: %q; want evaluate and train", got)
	}
}
