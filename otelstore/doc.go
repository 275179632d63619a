// Package otelstore is runlog's OpenTelemetry write path: a runlog.LogStore
// whose Activate builds an sdk/log LoggerProvider for the scope and installs
// the otelslog bridge as the default slog handler, and whose Deactivate
// flushes and shuts it down. Reads are delegated to a runlog.Fetcher for the
// backend the records went to (package query).
//
// # Routing
//
// Every activation has its own LoggerProvider, whose resource carries the
// scope (run, step, source, attempt; see package resource), and its own
// sink, the otelslog bridge to that provider at Options.MinLevel. Routing
// is package router's: the first activation of a Store replaces the
// default slog logger with a router that sends each record to the
// activation carried by the context it was logged with (runlog.Logger(ctx)
// returns its handler), or, with none, to the innermost activation still in
// force; records also go to the handler that was the default before (the
// console), which the last Deactivate restores. So steps running
// concurrently in goroutines each get their own records, always.
//
// # Delivery
//
// Records are batched by a processor of runlog's own, in front of the
// exporter, that never drops by default. It is a chain of stages, one file
// each:
//
//   - emit.go: the bridge's records (most of them straight from slog) are
//     built as the SDK's logger would build them, but once, and queued
//     without another copy.
//   - queue.go: when the queue (Options.QueueSize records) is full, logging
//     blocks until the worker has taken it (Options.Overflow =
//     OverflowDrop drops and counts instead). This replaces the SDK's
//     BatchProcessor, which overwrites the oldest records of a full queue
//     silently.
//   - budget.go: the bytes of records in memory across all activations
//     are bounded too (Options.MemoryMaxBytes), with the same
//     backpressure, shared fairly between activations.
//   - prepare.go: the worker numbers records (the runlog.sequence
//     attribute), splits messages longer than Options.MaxMessageBytes into
//     chunks that share a log.record.uid, repairs invalid UTF-8, and makes
//     timestamps strictly increase within an activation so that sequence
//     and time order agree.
//   - delivery.go and spool.go: a batch the exporter refuses goes to a
//     spool file of the activation in Options.SpoolDir (fsync policy
//     Options.SpoolSync), and later batches go behind it until it has been
//     replayed, so the backend receives records in order. The activation
//     replays it when the backend answers again; spool files of ended
//     activations and dead processes are replayed by the next Activate (in
//     the background) and by [Store.Flush] (`runlog flush`).
//   - otlpjson.go: the OTLP JSON the file exporter and the spool write,
//     and its decoding for replay.
//
// processor.go drives them. Deactivate (store.go) writes the end marker
// (resource.EndRecord: count, dropped, exit cause from runlog.WithCause),
// flushes within its context's deadline, and reports records not
// delivered as a [runlog.DeliveryError] (report.go). docs/reliability.md
// states what survives what.
//
// # Exporters
//
// Options.Exporter makes one exporter per activation: [NewFileExporter]
// appends OTLP JSON lines, the format of the OpenTelemetry Collector's file
// exporter, one zstd frame per batch (the collector's native zstd
// compression), for the embedded local store; any sdk/log exporter works,
// such as otlploghttp's.
//
// # A service's own pipeline
//
// A Go service that already has a LoggerProvider, with its processors and
// exporters, attaches activations to it with package otelstore/attach
// instead: an sdk/log Processor that stamps each record with its
// activation's scope and writes the end marker through that provider.
package otelstore
