package otelstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
)

// A store built on runlog's write path: any sdk/log exporter to write,
// any runlog.Fetcher to read. Here, OTLP JSON files and query/file.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "runlog-example")
	defer os.RemoveAll(dir)

	// snippet:way-a
	store, err := otelstore.New(otelstore.Options{
		Name: "my-backend",
		// One exporter per activation; otlploghttp.New(ctx, ...) for OTLP.
		Exporter: func(ctx context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
			return otelstore.NewFileExporter(filepath.Join(dir, a.ID+".jsonl"), false), nil
		},
		// The read side: your query adapter for the backend.
		Fetcher: file.New(dir),
		Console: slog.DiscardHandler,
	})
	// end snippet
	if err != nil {
		panic(err)
	}
	ctx, _ := store.Activate(context.Background(), runlog.Scope{RunID: "r1", StepID: "s1"})
	slog.InfoContext(ctx, "hello", "n", 1)
	_ = store.Deactivate(ctx)

	p, _ := store.Fetch(context.Background(), runlog.Query{RunID: "r1", LogsURI: dir})
	for _, e := range p.Entries {
		fmt.Println(e.StepID, e.Level, e.Message, e.Attributes["n"])
	}
	// Output: s1 INFO hello 1
}
