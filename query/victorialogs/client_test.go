package victorialogs

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

// These tests put a plain HTTP server where VictoriaLogs would be, to see
// what the client sends and how it takes answers no healthy VictoriaLogs
// gives (redirects, errors, broken streams); what VictoriaLogs itself
// answers is tested against a real one in integration_test.go.

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{
		{URL: ""}, {URL: "ftp://h"}, {URL: "http://"}, {URL: "http://u:secret@h:9428"}, {URL: "http://h?x=1"},
		{URL: "http://h", Username: "u", BearerToken: "t"},
	} {
		_, err := New(cfg)
		if !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("New(%+v) = %v; want ErrInvalid", cfg, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("New's error shows the password: %v", err)
		}
	}
}

// TestCredentialsStayHome: a redirect to another origin (here https to
// http on another port) is refused, and the credentials and tenant never
// reach it; a redirect within the origin is followed with them.
func TestCredentialsStayHome(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("AccountID") != "" {
			leaked.Store(true)
		}
		fmt.Fprintln(w, `{"N":"0"}`)
	}))
	defer other.Close()
	var home *httptest.Server
	home = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved/select/logsql/query" {
			if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("AccountID") != "3" {
				t.Errorf("same-origin redirect lost the headers: %v", r.Header)
			}
			if strings.Contains(r.FormValue("query"), "| stats count()") {
				fmt.Fprintln(w, `{"N":"0"}`)
			}
			return
		}
		if strings.HasPrefix(r.URL.Path, "/same") {
			http.Redirect(w, r, "/moved/select/logsql/query", http.StatusTemporaryRedirect)
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer home.Close()

	cfg := Config{URL: home.URL, BearerToken: "tok", AccountID: 3, HTTPClient: home.Client()}
	cfg.HTTPClient.CheckRedirect = newClient(t, Config{URL: home.URL}).http.CheckRedirect
	_, err := newClient(t, cfg).Fetch(t.Context(), runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "another origin") {
		t.Fatalf("Fetch redirected to another origin = %v; want ErrUnavailable saying why it was not followed", err)
	}
	if leaked.Load() {
		t.Fatal("the credentials or tenant reached the other origin")
	}
	cfg.URL = home.URL + "/same"
	if _, err := newClient(t, cfg).Fetch(t.Context(), runlog.Query{RunID: "r"}); err != nil {
		t.Fatalf("Fetch redirected within its origin = %v", err)
	}
}

func TestStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		code int
		body string
		kind error
		says string
	}{
		{401, "no", runlog.ErrUnauthorized, "credentials"},
		{403, "no", runlog.ErrUnauthorized, "tenant"},
		{429, "slow down", runlog.ErrOverLimit, "retry later"},
		{400, "cannot parse query", runlog.ErrInvalid, "rejected the query"},
		{404, "not found", runlog.ErrUnavailable, "base URL"},
		{502, "cannot connect to storage node at 127.0.0.1:1", runlog.ErrUnavailable, "partial"},
		{503, "overloaded", runlog.ErrUnavailable, "retry later"},
		{500, "\x1b]0;pwned\x07\x1b[2J" + strings.Repeat("x", 5000), runlog.ErrUnavailable, "retry later"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, tc.body, tc.code)
		}))
		_, err := newClient(t, Config{URL: srv.URL}).Fetch(t.Context(), runlog.Query{RunID: "r"})
		srv.Close()
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("HTTP %d: %v; want %v naming %s and saying %q", tc.code, err, tc.kind, srv.URL, tc.says)
		}
		if err != nil && (strings.ContainsAny(err.Error(), "\x1b\x07") || len(err.Error()) > 1500) {
			t.Errorf("HTTP %d: the error carries the body raw: %q", tc.code, err)
		}
	}
}

// TestBrokenAnswer: an answer that stops being JSON lines part-way (what
// VictoriaLogs writes when a storage node fails after the answer began) or
// whose connection drops is an error, never a short page.
func TestBrokenAnswer(t *testing.T) {
	const rec = `{"_msg":"m","_time":"2026-11-25T11:51:01Z","cicd.pipeline.run.id":"r","runlog.sequence":"1","runlog.activation.id":"a"}`
	for name, body := range map[string]func(w http.ResponseWriter){
		"error line": func(w http.ResponseWriter) {
			fmt.Fprintln(w, rec)
			fmt.Fprintln(w, "error: cannot read from storage node 127.0.0.1:1: connection reset")
		},
		"dropped": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100000")
			fmt.Fprintln(w, rec)
		},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.FormValue("query"), "| stats count()") {
				fmt.Fprintln(w, `{"N":"2","Lo":"2026-11-25T11:51:01Z","Hi":"2026-11-25T11:51:02Z"}`)
				return
			}
			body(w)
		}))
		_, err := newClient(t, Config{URL: srv.URL}).Fetch(t.Context(), runlog.Query{RunID: "r"})
		srv.Close()
		if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "broke off") {
			t.Errorf("%s: Fetch = %v; want ErrUnavailable saying the answer broke off", name, err)
		}
	}
}

// TestAnswerCutOff: an answer holding far more lines than were counted is
// not read to its end (nor buffered): the client stops, counts again, and
// gives up with an error after a few tries.
func TestAnswerCutOff(t *testing.T) {
	var lines atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "| stats count()") {
			fmt.Fprintln(w, `{"N":"1","Lo":"2026-11-25T11:51:01Z","Hi":"2026-11-25T11:51:01Z"}`)
			return
		}
		for i := range 1_000_000 {
			if _, err := fmt.Fprintf(w, `{"_msg":"m","_time":"2026-11-25T11:51:01Z","runlog.sequence":"%d"}`+"\n", i); err != nil {
				return
			}
			lines.Add(1)
		}
	}))
	defer srv.Close()
	_, err := newClient(t, Config{URL: srv.URL}).Fetch(t.Context(), runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("Fetch of an answer without end = %v; want ErrUnavailable saying to retry", err)
	}
	if n := lines.Load(); n > 200_000 {
		t.Errorf("the server wrote %d lines before the client hung up; want it cut off early", n)
	}
}

func TestBadCursor(t *testing.T) {
	c := newClient(t, Config{URL: "http://127.0.0.1:1"})
	for _, cur := range []runlog.Cursor{"not base64!", pagination.Encode(map[string]any{"k": map[string]any{"t": -1}}),
		pagination.Encode(map[string]any{"p": []map[string]any{{"e": 1, "n": 1}}})} {
		if _, err := c.Fetch(t.Context(), runlog.Query{RunID: "r", Cursor: cur}); !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("Fetch with cursor %q = %v; want ErrInvalid", cur, err)
		}
	}
}
