package attach_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/otelstore/attach"
	"github.com/runlog/runlog/query/file"
)

// gated holds its first export until open is closed, so that the
// BatchProcessor in front of it fills its queue.
type gated struct {
	sdklog.Exporter
	open chan struct{}
}

func (g gated) Export(ctx context.Context, rs []sdklog.Record) error {
	<-g.open
	return g.Exporter.Export(ctx, rs)
}

// TestServiceDropsAreDetected: what docs/otel-service.md promises when the
// service's own processor drops. The SDK's BatchProcessor with a small
// queue and a stalled exporter loses most of a burst; Check must say
// incomplete and count exactly the records lost, never complete.
func TestServiceDropsAreDetected(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "service.jsonl")
	exp := gated{otelstore.NewFileExporter(path, false), make(chan struct{})}
	runs := attach.New(attach.Options{})
	lp := runs.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp,
		sdklog.WithMaxQueueSize(50), sdklog.WithExportMaxBatchSize(50))))
	defer lp.Shutdown(context.Background())
	log := otelslog.NewLogger("svc", otelslog.WithLoggerProvider(lp))

	ctx, err := runs.Activate(t.Context(), runlog.Scope{RunID: "r", StepID: "burst"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for range n {
		log.InfoContext(ctx, "line", slog.Int("i", 1))
	}
	close(exp.open)
	_ = runs.Deactivate(ctx)

	f := file.New(dir).OneFile(path)
	var stored uint64
	for _, err := range runlog.All(t.Context(), f, runlog.Query{RunID: "r"}) {
		if err != nil {
			t.Fatal(err)
		}
		stored++
	}
	if stored >= n {
		t.Fatalf("%d of %d records stored: the queue did not overflow, the test proves nothing", stored, n)
	}
	cs, err := runlog.Check(t.Context(), f, runlog.Query{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("Check: %v; want one activation", cs)
	}
	c := cs[0]
	t.Logf("%d of %d stored; check: %s", stored, n, c)
	switch {
	case c.Status == runlog.StatusComplete:
		t.Fatalf("Check says complete with %d of %d records stored", stored, n)
	case !c.Ended:
		// The marker was dropped too: running, which is no lie either.
		if c.Status != runlog.StatusRunning && c.Status != runlog.StatusIncomplete {
			t.Fatalf("Check: %s; want running or incomplete", c)
		}
	case c.Status != runlog.StatusIncomplete || c.Expected != n || c.Received != stored || c.Missing != n-stored:
		t.Fatalf("Check: %s (expected %d, received %d, missing %d); want incomplete, %d expected, %d received, %d missing",
			c, c.Expected, c.Received, c.Missing, n, stored, n-stored)
	}
}
