package attach_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/otelstore/attach"
	"github.com/runlog/runlog/query/file"
)

// A service's provider, with its own processor and exporter (here a file
// of OTLP JSON lines); runlog is attached in front, and one step is served.
func Example() {
	dir, _ := os.MkdirTemp("", "attach")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "service.jsonl")

	runs := attach.New(attach.Options{})
	provider := runs.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(otelstore.NewFileExporter(path, false))),
	)
	defer provider.Shutdown(context.Background())
	log := otelslog.NewLogger("svc", otelslog.WithLoggerProvider(provider))

	_ = runlog.Run(context.Background(), runs, runlog.Scope{RunID: "r1", StepID: "train"}, func(ctx context.Context) error {
		log.InfoContext(ctx, "epoch 1")
		log.InfoContext(ctx, "epoch 2")
		return nil
	})

	f := file.New(dir).OneFile(path)
	p, _ := f.Fetch(context.Background(), runlog.Query{RunID: "r1", StepID: "train"})
	for _, e := range p.Entries {
		fmt.Println(e.StepID, e.Sequence, e.Message)
	}
	cs, _ := runlog.Check(context.Background(), f, runlog.Query{RunID: "r1"})
	fmt.Println(cs[0].Status, cs[0].Cause, cs[0].Result)
	// Output:
	// train 1 epoch 1
	// train 2 epoch 2
	// complete ok success
}
