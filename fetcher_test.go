package runlog_test

import (
	"context"
	"testing"

	"github.com/runlog/runlog"
)

type fetchStub struct{ runlog.Fetcher }

// TestOpenFetcher: runlog.OpenFetcher uses a flavor's OpenFetcher, with
// the configuration validated and resolved, and falls back to Open.
func TestOpenFetcher(t *testing.T) {
	var opened, fetcherOpened int
	var got runlog.Config
	open := func(context.Context, runlog.Config) (runlog.LogStore, error) { opened++; return nil, nil }
	f := runlog.Flavor{Name: "fetcher_test", Keys: []runlog.ConfigKey{
		{Name: "url", Type: runlog.TypeURL, Default: "http://d"},
		{Name: "token", Type: runlog.TypeString, Secret: true},
	}, Open: open,
		OpenFetcher: func(_ context.Context, c runlog.Config) (runlog.Fetcher, error) {
			fetcherOpened++
			got = c
			return fetchStub{}, nil
		}}
	runlog.Register(f)
	t.Setenv("RUNLOG_TEST_TOKEN", "s3")
	fe, err := runlog.OpenFetcher(t.Context(), "fetcher_test", map[string]string{"token": "${RUNLOG_TEST_TOKEN}"})
	if _, ok := fe.(fetchStub); err != nil || !ok || opened != 0 || fetcherOpened != 1 {
		t.Fatalf("OpenFetcher = %T, %v; Open called %d times, OpenFetcher %d; want OpenFetcher's once", fe, err, opened, fetcherOpened)
	}
	if got["url"] != "http://d" || got["token"] != "s3" {
		t.Fatalf("OpenFetcher got config %v; want defaults applied and references resolved", got)
	}
	if _, err := runlog.OpenFetcher(t.Context(), "fetcher_test", map[string]string{"nope": "x"}); err == nil || fetcherOpened != 1 {
		t.Fatalf("OpenFetcher with an unknown key = %v; want it refused before the flavor is called", err)
	}

	runlog.Register(runlog.Flavor{Name: "fetcher_test_open_only", Open: open})
	if _, err := runlog.OpenFetcher(t.Context(), "fetcher_test_open_only", nil); err != nil || opened != 1 {
		t.Fatalf("OpenFetcher of a flavor without one = %v, Open called %d times; want Open once", err, opened)
	}
}

func TestFlushReportString(t *testing.T) {
	r := runlog.FlushReport{Dir: "d", Replayed: 3, Segments: 1, Remaining: 2, Expired: 1, Unreadable: 4}
	want := "replayed 3 records from 1 spool files in d; 2 files remain; 1 files older than the spool's maximum age removed; 4 unreadable batches skipped"
	if r.String() != want {
		t.Fatalf("String = %q; want %q", r, want)
	}
}
