package flavors_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/runlog/runlog"
)

// TestLocalLogsURIDirs: the local flavor's logs_uri_dirs key lets LogsURI
// read there; without it, LogsURI outside the data directory is refused.
func TestLocalLogsURIDirs(t *testing.T) {
	data, other := t.TempDir(), t.TempDir()
	q := runlog.Query{RunID: "r", LogsURI: other}
	f, err := runlog.OpenFetcher(t.Context(), "local", map[string]string{"dir": data})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(t.Context(), q); !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "logs_uri_dirs") {
		t.Fatalf("LogsURI outside without logs_uri_dirs = %v; want ErrInvalid naming the key", err)
	}
	for _, open := range []func() (runlog.Fetcher, error){
		func() (runlog.Fetcher, error) {
			return runlog.OpenFetcher(t.Context(), "local", map[string]string{"dir": data, "logs_uri_dirs": other})
		},
		func() (runlog.Fetcher, error) {
			return runlog.Open(t.Context(), "local", map[string]string{"dir": data, "logs_uri_dirs": other})
		},
	} {
		f, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Fetch(t.Context(), q); err != nil {
			t.Fatalf("LogsURI under logs_uri_dirs = %v", err)
		}
	}
}
