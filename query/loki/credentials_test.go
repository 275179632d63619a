package loki

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runlog/runlog"
)

// TestCredentialsNotRedirected: Loki (or a proxy in front of it) redirects
// from https to plain http on another port: the client does not follow,
// says why, and the other end never sees the Authorization header or the
// tenant.
func TestCredentialsNotRedirected(t *testing.T) {
	var leaked atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Scope-OrgID") != "" {
			leaked.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"streams","result":[]}}`))
	}))
	defer plain.Close()
	home := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer home.Close()
	for _, auth := range []Config{{Username: "me", Password: "pw"}, {BearerToken: "tok"}} {
		cfg := auth
		cfg.URL, cfg.TenantID, cfg.HTTPClient = home.URL, "team-a", home.Client()
		cfg.HTTPClient.CheckRedirect = newTestClient(t, Config{}).http.CheckRedirect
		_, err := newTestClient(t, cfg).Fetch(t.Context(), runlog.Query{RunID: "r"})
		if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "another origin") {
			t.Errorf("Fetch redirected from https to http = %v; want ErrUnavailable saying it was not followed", err)
		}
		if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "tok") {
			t.Errorf("error shows the credentials: %v", err)
		}
	}
	if leaked.Load() {
		t.Fatal("credentials or tenant reached the plain-http server")
	}
}

// TestURLCredentialsRefused: credentials written into the URL are refused,
// and the error does not repeat them.
func TestURLCredentialsRefused(t *testing.T) {
	for _, u := range []string{"http://me:s3cret@loki:3100", "https://s3cret@loki:3100/prefix", "ftp://me:s3cret@loki"} {
		_, err := New(Config{URL: u})
		if !errors.Is(err, runlog.ErrInvalid) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "me:") {
			t.Errorf("New(%s) = %v; want ErrInvalid without the credentials", runlog.RedactURL(u), err)
		}
	}
}

// TestAnswerTooLarge: an answer far larger than the entries asked for can
// take (a misbehaving proxy, not Loki) is refused, not read whole.
func TestAnswerTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 1<<20))
		for range 70 { // 70 MiB of white space before anything
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL, MaxEntries: 1})
	_, err := c.Fetch(t.Context(), runlog.Query{RunID: "r", Limit: 1})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("Fetch of a 70 MiB answer = %v; want ErrUnavailable saying it is too large", err)
	}
}
