// Package deploy_test checks docker-compose.yaml without a Docker engine: it
// loads it with compose-go, the library docker compose itself uses, and
// checks the services, their ports, and that every file it mounts or builds
// from exists and is the one the integration tests use.
package deploy_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
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
