package flavors_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestSecretKeysRedacted: what a store holds as a secret (a bearer token,
// a password, header values, and the redact keys) is replaced in every
// record it exports; the bytes on the wire never carry it.
func TestSecretKeysRedacted(t *testing.T) {
	var mu sync.Mutex
	var wire []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		wire = append(wire, b...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	t.Setenv("RUNLOG_TEST_DB_PASSWORD", "db-pass-7788")
	s, err := runlog.Open(t.Context(), "victorialogs", map[string]string{
		"url": srv.URL, "username": "svc", "password": "pw-1234-secret", "visible_timeout": "0s",
		"headers": "X-Api-Key=key-5566", "redact": "lit-9900", "redact_env": "RUNLOG_TEST_DB_PASSWORD",
		"redact_pattern": `tok_[0-9]{4}`, "spool_dir": t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("svc:pw-1234-secret"))
	slog.InfoContext(ctx, "connecting with pw-1234-secret", "header", "Basic "+basic, "key", "key-5566")
	slog.InfoContext(ctx, "lit-9900 db-pass-7788 tok_4242")
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, secret := range []string{"pw-1234-secret", basic, "key-5566", "lit-9900", "db-pass-7788", "tok_4242"} {
		if bytes.Contains(wire, []byte(secret)) {
			t.Errorf("%q was exported", secret)
		}
	}
	if !bytes.Contains(wire, []byte("connecting with ****")) {
		t.Error("the redacted message was not exported")
	}
}
