// Package runlog is the contract of a log store for pipeline runs.
//
// A pipeline, or any program, activates a [LogStore] at the start of a run or
// a step; everything logged through [log/slog] while the activation is in
// force is stored with the run and step it belongs to; Deactivate flushes.
// Anyone can later fetch a run's logs, filtered by step, source, time range,
// level and text, a [Page] at a time or as an iterator:
//
//	store, err := runlog.Open(ctx, "local", nil) // import _ "github.com/runlog/runlog/flavors"
//	...
//	ctx, err = store.Activate(ctx, runlog.Scope{RunID: "run-42", StepID: "train"})
//	slog.InfoContext(ctx, "epoch done", "loss", 0.12)
//	err = store.Deactivate(ctx)
//
//	for e, err := range runlog.All(ctx, store, runlog.Query{RunID: "run-42", StepID: "train"}) {
//		...
//	}
//
// This package holds only the contract and depends on the standard library
// alone: [Scope], [LogStore], [Fetcher], [Flusher], [LogEntry], [Query],
// [Page], [Cursor], [Level], the typed errors and the flavor registry
// ([Register], [Open], and [OpenFetcher] for the read side alone). Routing
// records to activations, which every store needs, lives in package router;
// the OpenTelemetry write path in package otelstore; the read paths in the
// packages under query; the built-in flavors in package flavors; the
// conformance suite every store must pass in package storetest.
//
// # Semantics every store keeps
//
//   - Activations nest (a run, then a step inside it) and run concurrently
//     (steps in goroutines). A record belongs to the activation carried by the
//     context it was logged with, else to the innermost activation of the
//     process. A record never goes to another step.
//   - Deactivate flushes every record of the activation before it returns,
//     restores what Activate replaced, and is idempotent.
//   - Fetch returns entries ordered by timestamp, then sequence, at most
//     [Query.Limit] of them, with an opaque [Cursor] to resume after the last
//     one. Paging with the cursor returns every entry exactly once. Fetching an
//     unknown run returns an empty page, not an error.
//
// It is the Go form of the "custom log store" contract of pipeline frameworks
// such as ZenML: activate(run, step, source), deactivate(), and
// fetch(run, step, source, logs_uri, start, end, limit=20000).
package runlog
