// Command otel-service is a Go service that already has its own
// OpenTelemetry logging pipeline — its LoggerProvider, resource,
// BatchProcessor and exporter — and serves pipeline steps over HTTP.
// runlog is attached to that provider (package otelstore/attach): each
// step's records are stamped with its run and step, numbered, and ended
// with an end marker, and go out through the service's own exporter.
//
// The program starts the service on a loopback port and plays the
// orchestrator: it asks for two steps of one run at once, "train-a" and
// "train-b", which the service runs concurrently, each in its request's
// goroutine with workers of its own.
//
//	go run ./examples/otel-service                # to an OTLP JSON file, then read back and checked
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 go run ./examples/otel-service   # to a collector
//
// Without an endpoint the exporter appends OTLP JSON lines (the collector
// file exporter's format) to -file, and the program reads them back with
// query/file and prints `runlog check`'s account of each step. With one,
// it exports over OTLP/HTTP (the OTEL_EXPORTER_OTLP_* variables apply) and
// prints the command that checks the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/otelstore/attach"
	"github.com/runlog/runlog/query/file"
)

func main() {
	path := flag.String("file", filepath.Join(os.TempDir(), "otel-service.jsonl"), "OTLP JSON file written when no OTLP endpoint is set")
	runID := flag.String("run", "", "run id (default: a new one)")
	lines := flag.Int("lines", 100, "lines each worker of a step logs")
	flag.Parse()
	if *runID == "" {
		*runID = "svc-" + time.Now().UTC().Format("20060102-150405.000")
	}
	cfg := config{RunID: *runID, Lines: *lines}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") == "" {
		cfg.File = *path
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "otel-service:", err)
		os.Exit(1)
	}
}

// config is what one run of the example needs.
type config struct {
	RunID string
	Lines int
	// File, if set, is where the service's exporter writes (else OTLP/HTTP
	// from the environment).
	File string
}

// steps are the steps the orchestrator asks for, concurrently.
var steps = []string{"train-a", "train-b"}

// workers is how many goroutines each step logs from.
const workers = 2

func run(ctx context.Context, cfg config) error {
	// The service's own pipeline, as it was before runlog: its resource,
	// its exporter, its BatchProcessor, its slog bridge. The one addition
	// is runs, registered first so that the exporter sees what it stamps.
	exp, err := exporter(ctx, cfg)
	if err != nil {
		return err
	}
	runs := attach.New(attach.Options{Name: "otel-service", ContextOnly: true})
	provider := runs.NewLoggerProvider(
		sdklog.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", "otel-service"))),
		// A queue that holds every record of a step: the SDK's default
		// (2,048) drops the rest of a burst, which runlog check would then
		// report as missing (docs/otel-service.md).
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithMaxQueueSize(1<<16))),
	)
	defer provider.Shutdown(context.Background())
	log := otelslog.NewLogger("otel-service", otelslog.WithLoggerProvider(provider))

	srv := &http.Server{Handler: service(runs, log, cfg.Lines)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer srv.Close()

	// The orchestrator: both steps at once.
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() { errs[i] = request(ctx, "http://"+ln.Addr().String(), cfg.RunID, step) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if cfg.File == "" {
		fmt.Printf("run %s: %d steps exported; check it with: runlog check %s\n", cfg.RunID, len(steps), cfg.RunID)
		return nil
	}
	return report(ctx, cfg)
}

// exporter is the service's exporter: OTLP/HTTP as configured by the
// OTEL_EXPORTER_OTLP_* variables, or, with cfg.File, a file.
func exporter(ctx context.Context, cfg config) (sdklog.Exporter, error) {
	if cfg.File != "" {
		return otelstore.NewFileExporter(cfg.File, false), nil
	}
	return otlploghttp.New(ctx)
}

// service is the service's HTTP API: POST /steps?run=R&step=S runs step S
// of run R and answers when its logs are flushed.
func service(runs *attach.Processor, log *slog.Logger, lines int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /steps", func(w http.ResponseWriter, r *http.Request) {
		sc := runlog.Scope{RunID: r.FormValue("run"), StepID: r.FormValue("step"),
			Attributes: map[string]string{"cicd.pipeline.task.name": r.FormValue("step")}}
		// The service's own line, logged without a step's context: with
		// ContextOnly it is the service's, stamped with no step.
		log.InfoContext(r.Context(), "request", "path", r.URL.Path)
		err := runlog.Run(r.Context(), runs, sc, func(ctx context.Context) error {
			return train(ctx, log, sc.StepID, lines)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// train is a step: workers goroutines log lines, each with the step's
// context, so that every record is the step's.
func train(ctx context.Context, log *slog.Logger, step string, lines int) error {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range lines {
				log.InfoContext(ctx, fmt.Sprintf("%s worker %d line %d", step, w, i), "worker", w, "i", i)
			}
		})
	}
	wg.Wait()
	log.InfoContext(ctx, step+" done")
	return nil
}

// request is the orchestrator's call for one step.
func request(ctx context.Context, base, run, step string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/steps?"+url.Values{"run": {run}, "step": {step}}.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("step %s: %s", step, resp.Status)
	}
	return nil
}

// report reads the file back, as `runlog logs --logs-uri` would, and
// prints the account of each step.
func report(ctx context.Context, cfg config) error {
	f := file.New(filepath.Dir(cfg.File)).OneFile(cfg.File)
	cs, err := runlog.Check(ctx, f, runlog.Query{RunID: cfg.RunID})
	if err != nil {
		return err
	}
	for _, c := range cs {
		fmt.Println(c)
	}
	fmt.Printf("records in %s\n", cfg.File)
	return nil
}
