// Package attach attaches runlog activations to an OpenTelemetry
// LoggerProvider that a Go service already has, keeping the service's own
// processors and exporters. It is the other way to write runlog's records:
// package otelstore builds a LoggerProvider per activation with the scope
// as its resource; here the service keeps one provider for everything,
// and each record is stamped with its activation's scope as log-record
// attributes.
//
// A [Processor] is an sdk/log Processor. Register it on the service's
// provider before the processors that export, so that they see what it
// stamps (the SDK calls processors in order, and a record changed by one is
// what the next one gets):
//
//	runs := attach.New(attach.Options{})
//	provider := runs.NewLoggerProvider( // runs first, then the service's own options
//		sdklog.WithResource(res),
//		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
//	)
//	slog.SetDefault(otelslog.NewLogger("svc", otelslog.WithLoggerProvider(provider)))
//
//	ctx, err := runs.Activate(ctx, runlog.Scope{RunID: run, StepID: step})
//	slog.InfoContext(ctx, "training")   // stamped with run and step
//	err = runs.Deactivate(ctx)          // end marker, then the provider's ForceFlush
//
// A provider built elsewhere works too: register the Processor first and
// give it the provider with [Processor.SetLoggerProvider].
//
// # Routing
//
// Routing is runlog's (package router's rule, applied to OpenTelemetry
// records rather than slog records): in OnEmit a record belongs to the
// activation carried by its context (slog.InfoContext(ctx, ...), any
// bridge that passes the context on), else to the innermost activation of
// this Processor still in force (unless Options.ContextOnly), else to none,
// and is left alone. A context
// carrying another store's activation, or one that has ended, is never
// stamped with another: records of an ended activation are counted
// ([Processor.Late]), not misattributed. So two steps served concurrently,
// each with its own context, each get their own records.
//
// A stamped record carries cicd.pipeline.run.id, cicd.pipeline.task.run.id
// (steps only), runlog.source, runlog.attempt, runlog.activation.id, the
// scope's Attributes (cicd.pipeline.task.name, for instance), and
// runlog.sequence, which numbers the activation's records from 1 in the
// order OnEmit saw them. A record whose time is not after the previous
// record's of its activation (goroutines of one step race between taking
// the time and emitting) is moved just past it, so that time order and
// sequence order agree, as in otelstore; invalid UTF-8 is repaired.
// Resource attributes stay the service's
// (service.name ...). Readers find runs by these record attributes.
//
// Unlike otelstore, Activate does not replace the default slog logger: the
// service's logging stays as it was. Records reach runlog only through the
// provider, so log through a bridge on it (otelslog, as above), or through
// the Activation's Handler, which runlog.Logger(ctx) returns.
//
// # Completeness
//
// Deactivate writes the activation's end marker through the provider
// (resource.EndRecord: the count of records stamped, the exit cause of
// runlog.WithCause and its CI/CD result), then calls the provider's
// ForceFlush within ctx's deadline. `runlog check` reads both back.
//
// What can be promised depends on the service's processors, which runlog
// does not control:
//
//   - detected, not prevented: sdk/log's BatchProcessor drops records when
//     its queue is full (2,048 by default) and the exporter does not
//     retry a refused connection. A dropped record leaves a gap in the
//     sequence, which `runlog check` reports as missing, with the numbers;
//     a dropped end marker leaves the activation "running", never
//     "complete". Check never says "complete" for an activation that lost
//     a record, but runlog cannot say how many the service's processors
//     dropped (the end marker's dropped count stays 0), nor get them back:
//     there is no spool in this mode.
//   - prevented in the processor, with one that does not drop: sdk/log's
//     SimpleProcessor (one export per record), or a BatchProcessor whose
//     queue holds the largest burst (sdklog.WithMaxQueueSize). The
//     exporter can still lose a batch: otlploghttp retries 429, 502, 503
//     and 504, but not a refused connection.
//   - Deactivate's error: the provider's ForceFlush error (where its
//     processors report one), which says that an export failed, not which
//     records; run `runlog check` to see.
//   - a record logged while Deactivate runs, with the ending activation's
//     context, is stamped before the marker or not at all; one stamped just
//     before may reach the exporter after ForceFlush returned, as it would
//     in the service without runlog.
//   - a processor registered before this one, or a filter after it, that
//     drops the end marker (a severity filter above INFO) makes every
//     activation look "running".
//
// docs/otel-service.md is the guide.
package attach
