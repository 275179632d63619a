package flavors_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
)

// otlpSink is an HTTP server standing in for an OTLP receiver: it records
// the path and headers of what it is sent and accepts it.
type otlpSink struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newSink(t *testing.T) *otlpSink {
	s := &otlpSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(s.Close)
	return s
}

func openVL(t *testing.T, cfg map[string]string) runlog.LogStore {
	t.Helper()
	f, err := runlog.LookupFlavor("victorialogs")
	if err != nil {
		t.Fatal(err)
	}
	cfg["spool_dir"] = t.TempDir()
	cfg["visible_timeout"] = "0s" // the sinks record writes; they answer no query
	c, err := f.Validate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := flavors.OpenVictoriaLogs(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func logOne(t *testing.T, s runlog.LogStore) {
	t.Helper()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "hello")
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestVictoriaLogsWrites: without an endpoint the flavor writes to
// VictoriaLogs' own OTLP path with the tenant and credentials; with one,
// to that collector, and the credentials and tenant meant for VictoriaLogs
// stay out of it.
func TestVictoriaLogsWrites(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	vl := newSink(t)
	logOne(t, openVL(t, map[string]string{"url": vl.URL, "account_id": "3", "project_id": "4", "username": "me", "password": "pw"}))
	if len(vl.reqs) == 0 {
		t.Fatal("nothing was written to VictoriaLogs")
	}
	for _, r := range vl.reqs {
		if u, p, _ := r.BasicAuth(); r.URL.Path != "/insert/opentelemetry/v1/logs" || r.Header.Get("AccountID") != "3" || r.Header.Get("ProjectID") != "4" || u != "me" || p != "pw" {
			t.Errorf("direct write: %s %v; want /insert/opentelemetry/v1/logs with tenant 3:4 and basic auth", r.URL.Path, r.Header)
		}
	}

	col := newSink(t)
	logOne(t, openVL(t, map[string]string{"url": "http://127.0.0.1:1", "endpoint": col.URL, "account_id": "3", "bearer_token": "tok"}))
	if len(col.reqs) == 0 {
		t.Fatal("nothing was written to the collector")
	}
	for _, r := range col.reqs {
		if r.URL.Path != "/v1/logs" || r.Header.Get("Authorization") != "" || r.Header.Get("AccountID") != "" {
			t.Errorf("write through a collector: %s %v; want /v1/logs without VictoriaLogs' credentials or tenant", r.URL.Path, r.Header)
		}
	}
}

func TestVictoriaLogsConfigErrors(t *testing.T) {
	t.Setenv("RUNLOG_VICTORIALOGS_URL", "")
	f, err := runlog.LookupFlavor("victorialogs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  map[string]string
		says string
	}{
		{map[string]string{}, "RUNLOG_VICTORIALOGS_URL"},
		{map[string]string{"url": "http://h:9428", "account_id": "-1"}, "account_id"},
		{map[string]string{"url": "http://h:9428", "project_id": "4294967296"}, "project_id"},
		{map[string]string{"url": "http://me:secret@h:9428"}, "credentials"},
		{map[string]string{"url": "http://h:9428", "username": "u", "bearer_token": "t"}, "use one"},
	} {
		c, err := f.Validate(tc.cfg)
		if err == nil {
			_, err = flavors.OpenVictoriaLogs(t.Context(), c)
		}
		if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "secret") {
			t.Errorf("open %v = %v; want ErrInvalid saying %q, no secret", tc.cfg, err, tc.says)
		}
	}
}
