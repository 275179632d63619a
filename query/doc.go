// Package query holds runlog's read path: one package per backend, each a
// runlog.Fetcher that maps the backend's results to runlog.LogEntry.
//
//   - query/file reads OTLP JSON lines: the embedded local store, and files
//     the OpenTelemetry Collector's file exporter wrote.
//
// Adapters never print and never import the write path. Every adapter
// passes the storetest conformance suite.
package query
