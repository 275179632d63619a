// Command custom-store is a complete runlog store for a simple HTTP log
// backend, written from scratch (a slog.Handler per activation, a bounded
// queue, a sending goroutine with retries), with the backend itself in
// backend.go. It starts the backend on loopback, opens the store through
// its flavor, runs two steps and prints what it fetches back.
//
//	go run ./examples/custom-store
//
// store_test.go runs runlog's conformance suite (storetest) against it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"

	"github.com/runlog/runlog"
)

func main() {
	backend := httptest.NewServer(&Backend{Token: "s3cret"})
	defer backend.Close()
	os.Setenv("BACKEND_TOKEN", "s3cret")

	ctx := context.Background()
	store, err := runlog.Open(ctx, "http_backend", map[string]string{"url": backend.URL, "token": "${BACKEND_TOKEN}", "level": "debug"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, step := range []string{"prepare", "train"} {
		sctx, err := store.Activate(ctx, runlog.Scope{RunID: "demo", StepID: step})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		slog.DebugContext(sctx, "starting", "step", step)
		slog.InfoContext(sctx, "done", "items", 42)
		if err := store.Deactivate(sctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for e, err := range runlog.All(ctx, store, runlog.Query{RunID: "demo"}) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s %-5s [%s] %s %v\n", e.Time.Format("15:04:05.000"), e.Level, e.StepID, e.Message, e.Attributes)
	}
}
