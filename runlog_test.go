package runlog_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

func TestLevels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want runlog.Level
	}{
		{"debug", runlog.LevelDebug}, {"INFO", runlog.LevelInfo}, {"Warning", runlog.LevelWarn},
		{"warn", runlog.LevelWarn}, {"error", runlog.LevelError}, {"critical", runlog.LevelFatal},
		{"fatal", runlog.LevelFatal}, {"trace", runlog.LevelTrace}, {"info3", runlog.LevelInfo + 2}, {"17", runlog.LevelError},
	} {
		got, err := runlog.ParseLevel(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := runlog.ParseLevel(got.String()); err != nil || back != got {
			t.Errorf("ParseLevel(%q.String()) = %v, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "loud", "info5", "0", "25", "debug0"} {
		if _, err := runlog.ParseLevel(bad); !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "debug, info, warn") {
			t.Errorf("ParseLevel(%q) error = %v; want ErrInvalid listing the levels", bad, err)
		}
	}
	if l := runlog.LevelFromSlog(slog.LevelWarn); l != runlog.LevelWarn || l.Slog() != slog.LevelWarn {
		t.Errorf("LevelFromSlog(WARN) = %v", l)
	}
	if l := runlog.LevelFromSlog(slog.LevelDebug - 100); l != runlog.LevelTrace {
		t.Errorf("very low slog level = %v; want clamped to TRACE", l)
	}
	if runlog.Level(0).String() != "UNSET" || runlog.LevelInfo.String() != "INFO" || (runlog.LevelWarn+1).String() != "WARN2" {
		t.Error("Level.String")
	}
}

func TestQueryValidate(t *testing.T) {
	ok := runlog.Query{RunID: "r"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]runlog.Query{
		"empty run":     {},
		"negative":      {RunID: "r", Limit: -5},
		"bad utf8 step": {RunID: "r", StepID: "\xff"},
		"long run":      {RunID: strings.Repeat("x", runlog.MaxIDLength+1)},
		"bad level":     {RunID: "r", MinLevel: 99},
		"bad direction": {RunID: "r", Direction: 7},
	} {
		if err := q.Validate(); !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("%s: Validate = %v; want ErrInvalid", name, err)
		}
	}
	if (runlog.Query{}).EffectiveLimit() != 20000 {
		t.Error("default limit is not 20000")
	}
}

func testFlavor() runlog.Flavor {
	return runlog.Flavor{
		Name: "test_flavor",
		Keys: []runlog.ConfigKey{
			{Name: "query_url", Type: runlog.TypeURL, Required: true, Doc: "where to read"},
			{Name: "batch_size", Type: runlog.TypeInt, Default: "100"},
			{Name: "timeout", Type: runlog.TypeDuration, Default: "5s"},
			{Name: "api_key", Type: runlog.TypeString, Secret: true},
		},
		Open: func(context.Context, runlog.Config) (runlog.LogStore, error) {
			return nil, errors.New("not opened in tests")
		},
	}
}

func TestFlavorValidate(t *testing.T) {
	f := testFlavor()
	c, err := f.Validate(map[string]string{"query-url": "http://loki:3100", "batch_size": "7"})
	if err != nil {
		t.Fatal(err)
	}
	if c.String("query_url") != "http://loki:3100" || c.Int("batch_size") != 7 || c.Duration("timeout").Seconds() != 5 {
		t.Errorf("config = %v", c)
	}
	for _, bad := range []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{}, `needs config key "query_url"`},
		{map[string]string{"query_url": "http://x", "colour": "red"}, "valid keys: query_url, batch_size, timeout, api_key"},
		{map[string]string{"query_url": "loki:3100"}, "wants a url"},
		{map[string]string{"query_url": "http://x", "batch_size": "many"}, `"batch_size" wants a int, got "many"`},
		{map[string]string{"query_url": "http://x", "timeout": "5"}, "wants a duration"},
	} {
		_, err := f.Validate(bad.cfg)
		if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Validate(%v) = %v; want ErrInvalid mentioning %q", bad.cfg, err, bad.want)
		}
	}
	// Secrets may be environment references and are never echoed.
	if _, err := f.Validate(map[string]string{"query_url": "http://x", "api_key": "${LOKI_KEY}"}); err != nil {
		t.Errorf("env reference rejected: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	f := testFlavor()
	runlog.Register(f)
	defer func() {
		if recover() == nil {
			t.Error("registering a flavor twice did not panic")
		}
	}()
	if _, err := runlog.LookupFlavor("test_flavor"); err != nil {
		t.Fatal(err)
	}
	_, err := runlog.Open(context.Background(), "no_such", nil)
	if !errors.Is(err, runlog.ErrNotFound) || !strings.Contains(err.Error(), "test_flavor") {
		t.Errorf("Open(unknown) = %v; want ErrNotFound listing registered flavors", err)
	}
	t.Setenv("RUNLOG_TEST_KEY", "")
	_, err = runlog.Open(context.Background(), "test_flavor", map[string]string{"query_url": "http://x", "api_key": "${RUNLOG_UNSET_VAR}"})
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "RUNLOG_UNSET_VAR") {
		t.Errorf("unset env reference: %v", err)
	}
	runlog.Register(f)
}

// pages is an in-memory Fetcher serving fixed pages, to test the iterator.
type pages []runlog.Page

func (p pages) Fetch(_ context.Context, q runlog.Query) (runlog.Page, error) {
	i := 0
	if q.Cursor != "" {
		i = int(q.Cursor[0] - '0')
	}
	if i >= len(p) {
		return runlog.Page{}, errors.New("read past the end")
	}
	return p[i], nil
}

func TestAll(t *testing.T) {
	f := pages{
		{Entries: []runlog.LogEntry{{Message: "a"}, {Message: "b"}}, Next: "1", More: true},
		{Entries: []runlog.LogEntry{{Message: "c"}}, Next: "2"},
	}
	var got []string
	for e, err := range runlog.All(context.Background(), f, runlog.Query{RunID: "r"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Message)
	}
	if strings.Join(got, "") != "abc" {
		t.Errorf("All = %v", got)
	}
	for range runlog.All(context.Background(), f, runlog.Query{RunID: "r"}) {
		break // stopping early must not panic
	}
}

func TestErrorMessage(t *testing.T) {
	err := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: "http://127.0.0.1:1", Err: errors.New("connection refused"), Hint: "is Loki running?"}
	want := "runlog: fetch http://127.0.0.1:1: backend unavailable: connection refused (is Loki running?)"
	if err.Error() != want || !errors.Is(err, runlog.ErrUnavailable) {
		t.Errorf("Error() = %q", err)
	}
}
