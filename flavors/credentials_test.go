package flavors_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

// TestCredentialsInURLs: credentials in any URL a flavor is given — keys
// or the standard OTEL_* variables — are refused without being repeated
// (so they never reach a log line, an error, or the name of the spool
// directory, which is made from the endpoint).
func TestCredentialsInURLs(t *testing.T) {
	t.Setenv("RUNLOG_SPOOL_DIR", t.TempDir())
	for _, tc := range []struct {
		flavor string
		cfg    map[string]string
		env    map[string]string
	}{
		{"victorialogs", map[string]string{"url": "http://me:s3cret@127.0.0.1:9428"}, nil},
		{"victorialogs", map[string]string{"url": "http://127.0.0.1:9428", "endpoint": "http://me:s3cret@127.0.0.1:4318"}, nil},
		{"victorialogs", map[string]string{"url": "http://127.0.0.1:9428"}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://me:s3cret@127.0.0.1:4318"}},
		{"otel", map[string]string{"query_url": "http://me:s3cret@127.0.0.1:3100"}, nil},
		{"otel", map[string]string{}, map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://s3cret@collector:4318/v1/logs"}},
	} {
		t.Run(tc.flavor, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := runlog.Open(t.Context(), tc.flavor, tc.cfg)
			if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open(%s) with credentials in a URL = %v; want ErrInvalid saying so, without them", tc.flavor, err)
			}
		})
	}
	// A key that is not a URL at all is shown redacted too.
	_, err := runlog.Open(t.Context(), "otel", map[string]string{"endpoint": "ftp://me:s3cret@h"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open with an ftp:// endpoint = %v; want an error without the password", err)
	}
}
