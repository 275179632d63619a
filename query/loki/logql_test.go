package loki

import (
	"errors"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
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
	// A run spans services: by default any service, the run on structured
	// metadata (resource or record attribute alike).
	c := newTestClient(t, Config{})
	got := c.logQL(&runlog.Query{RunID: "r1", StepID: "train", Source: "step", Contains: "loss", MinLevel: runlog.LevelWarn})
	want := `{service_name=~".+"} |= "loss" | cicd_pipeline_run_id="r1" | cicd_pipeline_task_run_id="train" | runlog_source="step" | severity_number >= 13 | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL =\n%s\nwant\n%s", got, want)
	}
	// The run id indexed: the index alone finds the run, across services.
	c = newTestClient(t, Config{IndexLabels: []string{"cicd.pipeline.run.id"}})
	got = c.logQL(&runlog.Query{RunID: `a"b`, StepID: "s"})
	want = `{cicd_pipeline_run_id="a\"b"} | cicd_pipeline_task_run_id="s" | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL with the run indexed =\n%s\nwant\n%s", got, want)
	}
	// Services configured: those alone, quoted and escaped as regexps.
	c = newTestClient(t, Config{IndexLabels: []string{"cicd.pipeline.run.id"}, ServiceName: `odd"name`})
	got = c.logQL(&runlog.Query{RunID: "r"})
	want = `{service_name="odd\"name", cicd_pipeline_run_id="r"} | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL with a service name =\n%s\nwant\n%s", got, want)
	}
	c = newTestClient(t, Config{Services: []string{"runlog", "node.step", "a|b"}})
	got = c.logQL(&runlog.Query{RunID: "r"})
	want = `{service_name=~"runlog|node\\.step|a\\|b"} | cicd_pipeline_run_id="r" | runlog_end != "true"`
	if got != want {
		t.Errorf("logQL with services =\n%s\nwant\n%s", got, want)
	}
	// zenml: its service, its record attributes in Loki's names.
	zenml, err := resource.ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	c = newTestClient(t, Config{Convention: zenml})
	got = c.logQL(&runlog.Query{RunID: "r", StepID: "s", Source: "step"})
	want = `{service_name="zenml"} | zenml_pipeline_run_id="r" | zenml_step_run_id="s" | zenml_log_source="step" | runlog_end != "true"`
	if got != want {
		t.Errorf("zenml logQL =\n%s\nwant\n%s", got, want)
	}
	e := toEntry(5, "hello", [][2]string{{"zenml_pipeline_run_id", "r"}, {"zenml_step_run_id", "s"}, {"zenml_log_source", "step"},
		{"zenml_log_id", "L1"}, {"zenml_step_run_name", "trainer"}, {"severity_number", "9"}}, c.mapping)
	if e.RunID != "r" || e.StepID != "s" || e.Source != "step" || e.ActivationID != "L1" || e.Attributes["zenml_step_run_name"] != "trainer" || e.ID == "" {
		t.Errorf("zenml entry = %+v", e)
	}
}

// FuzzSelector: whatever services are configured, the selector reads each
// back as exactly one alternative of service_name's regexp, and it never
// matches the empty string (Loki refuses such a selector).
func FuzzSelector(f *testing.F) {
	f.Add("runlog", "node", "r")
	f.Add(`a"b`, ".*", `"} or {x=~".+"`)
	f.Add("", "", "r")
	f.Fuzz(func(t *testing.T, s1, s2, run string) {
		var services []string
		for _, s := range []string{s1, s2} {
			if !utf8.ValidString(s) {
				return // New refuses it: OTLP strings are UTF-8
			}
			if s != "" {
				services = append(services, s)
			}
		}
		c := newTestClient(t, Config{Services: services})
		sel, filters := c.selector([][2]string{{"cicd.pipeline.run.id", run}})
		if want := " | cicd_pipeline_run_id=" + quote(run); filters != want {
			t.Fatalf("filters %q; want %q", filters, want)
		}
		_, m, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(sel, "{"), "}"), "service_name=")
		if !ok {
			t.Fatalf("selector %s has no service_name matcher", sel)
		}
		if strings.HasPrefix(m, "~") {
			pat, err := strconv.Unquote(m[1:])
			if err != nil {
				t.Fatalf("selector %s: %v", sel, err)
			}
			re, err := regexp.Compile("^(?:" + pat + ")$")
			if err != nil {
				t.Fatalf("selector %s: %v", sel, err)
			}
			if len(services) == 0 {
				if re.MatchString("") || !re.MatchString("x") {
					t.Fatalf("selector %s matches the empty string or not any service", sel)
				}
				return
			}
			for _, s := range services {
				if !re.MatchString(s) {
					t.Fatalf("selector %s does not match service %q", sel, s)
				}
			}
			if re.MatchString(s1+s2+"x") && !slices.Contains(services, s1+s2+"x") {
				t.Fatalf("selector %s matches %q, no configured service", sel, s1+s2+"x")
			}
			return
		}
		if v, err := strconv.Unquote(m); err != nil || len(services) != 1 || v != services[0] {
			t.Fatalf("selector %s for services %q", sel, services)
		}
	})
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
