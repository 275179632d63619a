package main

import (
	"context"

	"github.com/runlog/runlog"
)

// snippet:flavor
// The flavor makes the store available by name, with its configuration
// documented and checked by the registry.
func init() {
	runlog.Register(runlog.Flavor{
		Name: "http_backend",
		Doc:  "Example store for a simple HTTP log backend (POST /ingest, POST /query, bearer token).",
		Keys: []runlog.ConfigKey{
			{Name: "url", Type: runlog.TypeURL, Required: true, Doc: "backend base URL"},
			{Name: "token", Type: runlog.TypeString, Required: true, Secret: true, Doc: "bearer token; ${ENV_VAR} to read it from the environment"},
			{Name: "batch_size", Type: runlog.TypeInt, Default: "500", Doc: "records per ingest call"},
			{Name: "queue_size", Type: runlog.TypeInt, Default: "10000", Doc: "records queued per activation before logging blocks"},
			{Name: "flush_interval", Type: runlog.TypeDuration, Default: "1s", Doc: "longest a record waits before it is sent"},
			{Name: "max_retries", Type: runlog.TypeInt, Default: "5", Doc: "retries of a failed ingest call, with exponential backoff"},
			{Name: "level", Type: runlog.TypeString, Default: "info", Doc: "lowest level stored"},
		},
		Open: func(_ context.Context, c runlog.Config) (runlog.LogStore, error) {
			lv, err := runlog.ParseLevel(c.String("level"))
			if err != nil {
				return nil, err
			}
			if c.Int("batch_size") < 1 || c.Int("queue_size") < 1 {
				return nil, runlog.Invalidf("http_backend: batch_size and queue_size must be positive")
			}
			return New(Config{URL: c.String("url"), Token: c.String("token"), BatchSize: c.Int("batch_size"),
				QueueSize: c.Int("queue_size"), FlushInterval: c.Duration("flush_interval"),
				MaxRetries: c.Int("max_retries"), MinLevel: lv.Slog()})
		},
	})
}

// end snippet
