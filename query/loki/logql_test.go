package loki

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
)

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = "http://127.0.0.1:3100"
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogQL(t *testing.T) {
	c := newTestClient(t, Config{})
	got := c.logQL(&runlog.Query{RunID: "r1", StepID: "train", Source: "step", Contains: "loss", MinLevel: runlog.LevelWarn})
	want := `{service_name="runlog"} |= "loss" | cicd_pipeline_run_id="r1" | cicd_pipeline_task_run_id="train" | runlog_source="step" | severity_number >= 13 | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL =\n%s\nwant\n%s", got, want)
	}
	c = newTestClient(t, Config{IndexLabels: []string{"cicd.pipeline.run.id"}, ServiceName: `odd"name`})
	got = c.logQL(&runlog.Query{RunID: `a"b`})
	want = `{service_name="odd\"name", cicd_pipeline_run_id="a\"b"} | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL with index labels =\n%s\nwant\n%s", got, want)
	}
}

// FuzzQuote: whatever an id or grep text holds, its LogQL literal reads
// back as exactly that text and cannot end early.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{`"} |= "x`, "a\\b", "`tick`", "new\nline", ".*|[a-z]+", "\x00\xff", `\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quote(s)
		back, err := strconv.Unquote(q)
		if err != nil || back != s {
			t.Fatalf("quote(%q) = %s reads back as %q, %v", s, q, back, err)
		}
		inner := q[1 : len(q)-1]
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' {
				i++
				continue
			}
			if inner[i] == '"' || inner[i] == '\n' {
				t.Fatalf("quote(%q) = %s has an unescaped %q", s, q, inner[i])
			}
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(string(cursor{Last: &pagination.Key{T: 5, Seq: 1, ID: "x"}, Lo: 1, Hi: 9}.encode()))
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(runlog.Cursor(s))
		if err != nil {
			if !errors.Is(err, runlog.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if _, err := decodeCursor(c.encode()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{URL: "loki:3100"}, {URL: ""}, {URL: "ftp://x"}, {URL: "http://x", Username: "u", BearerToken: "t"}, {URL: "http://x", CAFile: "/nonexistent/ca.pem"}} {
		if _, err := New(cfg); !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("New(%+v) = %v; want ErrInvalid", cfg, err)
		}
	}
}

// TestConnectionRefused uses a port nothing listens on (opened, then
// closed): Fetch must fail fast with ErrUnavailable naming the URL.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	c := newTestClient(t, Config{URL: url, Timeout: 2 * time.Second})
	_, err = c.Fetch(t.Context(), runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "check that Loki runs") {
		t.Fatalf("Fetch = %v; want ErrUnavailable naming %s and what to do", err, url)
	}
}

// TestTimeout: a server that accepts and never answers must not hold
// Fetch past the configured timeout.
func TestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // hold it open, say nothing
		}
	}()
	c := newTestClient(t, Config{URL: "http://" + ln.Addr().String(), Timeout: 200 * time.Millisecond})
	_, err = c.Fetch(t.Context(), runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("Fetch = %v; want ErrUnavailable saying it timed out", err)
	}
}

func TestStatusErrors(t *testing.T) {
	c := newTestClient(t, Config{})
	for code, kind := range map[int]error{401: runlog.ErrUnauthorized, 403: runlog.ErrUnauthorized, 429: runlog.ErrOverLimit, 500: runlog.ErrUnavailable, 503: runlog.ErrUnavailable, 404: runlog.ErrUnavailable} {
		if err := c.statusError(code, "body"); !errors.Is(err, kind) {
			t.Errorf("HTTP %d -> %v; want %v", code, err, kind)
		}
	}
	if err := c.statusError(400, "max entries limit per query exceeded, limit > max_entries_limit (6000 > 5000)"); !errors.Is(err, runlog.ErrOverLimit) {
		t.Errorf("400 limit -> %v; want ErrOverLimit", err)
	}
	if err := c.statusError(400, "parse error at line 1"); !errors.Is(err, runlog.ErrInvalid) {
		t.Errorf("400 parse -> %v; want ErrInvalid", err)
	}
}
