package flavors_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

// TestLocalLogsURIDirs: the local flavor's logs_uri_dirs key lets LogsURI
// read there; without it, LogsURI outside the data directory is refused.
func TestLocalLogsURIDirs(t *testing.T) {
	data, other := t.TempDir(), t.TempDir()
	q := runlog.Query{RunID: "r", LogsURI: other}
	f, err := runlog.OpenFetcher(t.Context(), "local", map[string]string{"dir": data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(t.Context(), q); !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "logs_uri_dirs") {
		t.Fatalf("LogsURI outside without logs_uri_dirs = %v; want ErrInvalid naming the key", err)
	}
	for _, open := range []func() (runlog.Fetcher, error){
		func() (runlog.Fetcher, error) {
			return runlog.OpenFetcher(t.Context(), "local", map[string]string{"dir": data, "logs_uri_dirs": other})
		},
		func() (runlog.Fetcher, error) {
			return runlog.Open(t.Context(), "local", map[string]string{"dir": data, "logs_uri_dirs": other})
		},
	} {
		f, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Fetch(t.Context(), q); err != nil {
			t.Fatalf("LogsURI under logs_uri_dirs = %v", err)
		}
	}
}

// TestConventionKey: convention=zenml makes the local flavor's reader map
// and match ZenML's record attributes in a LogsURI file; every flavor that
// reads refuses an unknown convention, listing the known ones, when the
// store is configured.
func TestConventionKey(t *testing.T) {
	data, other := t.TempDir(), t.TempDir()
	line := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"zenml"}}]},"scopeLogs":[{"scope":{"name":"zenml.step"},"logRecords":[{"timeUnixNano":"1764500000000000000","severityNumber":9,"body":{"stringValue":"Step trainer has started."},"attributes":[{"key":"zenml.pipeline.run.id","value":{"stringValue":"zr"}},{"key":"zenml.step.run.id","value":{"stringValue":"zs"}},{"key":"zenml.log.source","value":{"stringValue":"step"}},{"key":"zenml.log.id","value":{"stringValue":"zl"}}]}]}]}]}` + "\n"
	path := filepath.Join(other, "zenml.jsonl")
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	for conv, want := range map[string]int{"zenml": 1, "cicd": 0, "": 0} {
		cfg := map[string]string{"dir": data, "logs_uri_dirs": other}
		if conv != "" {
			cfg["convention"] = conv
		}
		f, err := runlog.OpenFetcher(t.Context(), "local", cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.Fetch(t.Context(), runlog.Query{RunID: "zr", StepID: "zs", Source: "step", LogsURI: path})
		if err != nil || len(p.Entries) != want {
			t.Fatalf("convention %q: %+v, %v; want %d entries", conv, p.Entries, err, want)
		}
		if want == 1 && (p.Entries[0].ActivationID != "zl" || p.Entries[0].Message != "Step trainer has started.") {
			t.Errorf("zenml entry = %+v", p.Entries[0])
		}
	}
	for _, flavor := range []string{"local", "otel", "victorialogs"} {
		f, err := runlog.LookupFlavor(flavor)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Validate(map[string]string{"convention": "zenmll"}); !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "one of cicd, zenml") {
			t.Errorf("%s with convention zenmll: %v; want ErrInvalid listing cicd, zenml", flavor, err)
		}
		if c, err := f.Validate(map[string]string{}); err != nil || c.String("convention") != "cicd" {
			t.Errorf("%s: convention defaults to %q, %v; want cicd", flavor, c.String("convention"), err)
		}
	}
}
