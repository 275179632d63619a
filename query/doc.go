// Package query holds runlog's read path: one package per backend, each a
// runlog.Fetcher that maps the backend's results to runlog.LogEntry.
//
//   - query/file reads OTLP JSON lines: the embedded local store, and files
//     the OpenTelemetry Collector's file exporter wrote.
//   - query/victorialogs reads VictoriaLogs (single node or cluster) over
//     its LogsQL HTTP API: the backend runlog's tests build and run.
//   - query/loki reads a Grafana Loki the user runs, over its HTTP API.
//
// Adapters never print and never import the write path. Every adapter
// passes the storetest conformance suite; query/loki's runs against a Loki
// the user names (RUNLOG_TEST_LOKI_URL), since Loki is not built here.
package query
