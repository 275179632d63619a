package otelstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
)

// TestRedact: secrets given literally, by environment variable and by
// pattern never reach the stored bytes — in messages, attributes, groups,
// slices, across a chunk boundary, in records spooled while the backend
// was down — and the end marker counts the records that had one.
func TestRedact(t *testing.T) {
	t.Setenv("RUNLOG_TEST_TOKEN", "env-token-0123")
	dir := t.TempDir()
	fail := new(atomic.Bool)
	fail.Store(true)
	s, err := otelstore.New(otelstore.Options{
		Console: slog.DiscardHandler, SpoolDir: filepath.Join(dir, "spool"), MaxMessageBytes: 64,
		Redact: otelstore.Redact{
			Values:   []string{"literal-s3cret", "ab"}, // "ab" is too short to redact
			Env:      []string{"RUNLOG_TEST_TOKEN", "RUNLOG_TEST_UNSET"},
			Patterns: []*regexp.Regexp{regexp.MustCompile(`ghp_[A-Za-z0-9]{8}`)},
		},
		Exporter: func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
			return switchable{otelstore.NewFileExporter(layout.File(dir, a.Scope.RunID, a.Scope.StepID, a.ID), false), fail}, nil
		},
		Fetcher: file.New(dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "redact", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	log := runlog.Logger(ctx)
	log.Info("token literal-s3cret in the message")                                // 1
	log.Info("clean", "auth", "Bearer env-token-0123")                             // 2
	log.WithGroup("g").Info("grouped", "k", []string{"x", "ghp_ABCDEF12"})         // 3
	log.Info(strings.Repeat("x", 60) + "literal-s3cret" + strings.Repeat("y", 60)) // 4: spans the 64-byte cut
	log.Info("nothing secret here, ab is too short", "n", 1)                       // not counted
	log.With("token", "literal-s3cret").Info("from With")                          // 5
	if _, err := s.Flush(t.Context()); err == nil {
		t.Fatal("Flush succeeded while the exporter fails")
	}
	fail.Store(false) // the rest, and the replay of the spool, go through
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	var all []byte
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			if framing.Sniff(b) == framing.Zstd { // a record file: what is on disk once decompressed
				if b, err = framing.Decompress(nil, b); err != nil {
					t.Errorf("%s does not decompress: %v", p, err)
				}
			}
			all = append(all, b...)
		}
		return nil
	})
	for _, secret := range []string{"literal-s3cret", "env-token-0123", "ghp_ABCDEF12", "s3cret", "ghp_AB"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("%q was written to disk", secret)
		}
	}
	if !bytes.Contains(all, []byte("ab is too short")) {
		t.Error("a value under MinSecretLen was redacted")
	}
	if !bytes.Contains(all, []byte(`{"key":"runlog.end.redacted","value":{"intValue":"5"}}`)) {
		t.Errorf("end marker does not count 5 redacted records")
	}
	var got []string
	for e, err := range runlog.All(t.Context(), s, runlog.Query{RunID: "redact"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Message+" "+e.Attributes["auth"]+e.Attributes["token"])
	}
	if len(got) < 6 || got[0] != "token **** in the message " || got[1] != "clean Bearer ****" {
		t.Errorf("read back %q", got)
	}
}
