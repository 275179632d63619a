package flavors_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
	"github.com/runlog/runlog/query/loki"
	"github.com/runlog/runlog/query/victorialogs"
)

// TestOpenFetcher: each built-in flavor opens its query adapter alone.
// What only the write side reads — RUNLOG_LEVEL, export keys — is wrong
// here, so that Open fails; OpenFetcher does not, and creates no
// directory.
func TestOpenFetcher(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("RUNLOG_LEVEL", "bogus")
	t.Setenv("RUNLOG_SPOOL_DIR", filepath.Join(tmp, "spool"))
	t.Setenv("RUNLOG_DATA_DIR", filepath.Join(tmp, "data"))
	for _, tc := range []struct {
		flavor string
		cfg    map[string]string
		is     func(runlog.Fetcher) bool
	}{
		{"local", map[string]string{"overflow": "bogus"}, func(f runlog.Fetcher) bool { _, ok := f.(*file.Reader); return ok }},
		{"otel", map[string]string{"query_url": "http://127.0.0.1:1", "compression": "bogus"}, func(f runlog.Fetcher) bool { _, ok := f.(*loki.Client); return ok }},
		{"victorialogs", map[string]string{"url": "http://127.0.0.1:1", "compression": "bogus"}, func(f runlog.Fetcher) bool { _, ok := f.(*victorialogs.Client); return ok }},
	} {
		if _, err := runlog.Open(t.Context(), tc.flavor, tc.cfg); err == nil {
			t.Errorf("%s: Open(%v) succeeded; the test wants a write side that fails", tc.flavor, tc.cfg)
		}
		f, err := runlog.OpenFetcher(t.Context(), tc.flavor, tc.cfg)
		if err != nil {
			t.Errorf("%s: OpenFetcher = %v; want the reader alone, whatever the write side's settings", tc.flavor, err)
			continue
		}
		if _, isStore := f.(runlog.LogStore); isStore || !tc.is(f) {
			t.Errorf("%s: OpenFetcher returned a %T; want the flavor's query adapter", tc.flavor, f)
		}
	}
	// Reading an empty local store creates nothing either.
	f, err := runlog.OpenFetcher(t.Context(), "local", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := f.Fetch(t.Context(), runlog.Query{RunID: "r"}); err != nil || len(p.Entries) != 0 {
		t.Fatalf("Fetch of an empty local store = %v, %v", p, err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("opening readers and fetching created %v under the data and spool roots; want nothing", ents)
	}
}

// TestOpenFetcherReadsWhatOpenWrote: the local reader alone reads what
// the whole store wrote.
func TestOpenFetcherReadsWhatOpenWrote(t *testing.T) {
	dir := t.TempDir()
	store, err := flavors.NewLocal(dir, false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	logOne(t, store)
	f, err := runlog.OpenFetcher(t.Context(), "local", map[string]string{"dir": dir})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Fetch(t.Context(), runlog.Query{RunID: "r"})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Message != "hello" {
		t.Fatalf("Fetch = %+v, %v; want the one record written", p.Entries, err)
	}
}

func TestOpenFetcherOTelNeedsLoki(t *testing.T) {
	t.Setenv("RUNLOG_LOKI_URL", "")
	_, err := runlog.OpenFetcher(t.Context(), "otel", map[string]string{"endpoint": "http://127.0.0.1:1"})
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "query_url") {
		t.Fatalf("OpenFetcher(otel without query_url) = %v; want ErrInvalid naming query_url", err)
	}
}

// TestFlusher: the built-in stores are flushed through runlog.Flusher,
// which reports the spool directory, or none when the spool is off.
func TestFlusher(t *testing.T) {
	dir := t.TempDir()
	store, err := flavors.NewLocal(dir, false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	fl, ok := runlog.LogStore(store).(runlog.Flusher)
	if !ok {
		t.Fatal("the local store is not a runlog.Flusher")
	}
	rep, err := fl.Flush(t.Context())
	if err != nil || rep.Dir != filepath.Join(dir, "spool") || !strings.HasPrefix(rep.String(), "replayed 0 records from 0 spool files in ") {
		t.Fatalf("Flush = %q (dir %q), %v; want nothing replayed from %s", rep, rep.Dir, err, filepath.Join(dir, "spool"))
	}
	nospool, err := flavors.NewLocal(dir, false, otelstore.Options{Console: slog.DiscardHandler, NoSpool: true})
	if err != nil {
		t.Fatal(err)
	}
	fl = nospool
	if rep, err := fl.Flush(t.Context()); err != nil || rep.Dir != "" {
		t.Fatalf("Flush without a spool = %+v, %v; want an empty report", rep, err)
	}
}
