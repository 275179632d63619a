// Package query holds runlog's read path: one package per backend, each a
// runlog.Fetcher that maps the backend's results to runlog.LogEntry.
//
//   - query/file reads OTLP JSON lines: the embedded local store, and files
//     the OpenTelemetry Collector's file exporter wrote.
//   - query/victorialogs reads VictoriaLogs (single node or cluster) over
//     its LogsQL HTTP API: the backend runlog's tests build and run.
//   - query/loki reads a Grafana Loki the user runs, over its HTTP API.
//   - query/internal/pagination is what the adapters share: an entry's sort
//     key, the encoding of cursors as opaque text, and Merge, which makes a
//     page of entries read in any order (sort by key, dedupe where reads
//     meet, drop what the cursor already returned, cut at the limit).
//
// The two HTTP adapters lay out Fetch alike, one concern per file:
// fetch.go holds Fetch alone, as the list of its steps; cursor.go the
// cursor and its encoding; logsql.go or logql.go the query; plan.go what
// to read (the time span and the windows planned over it); read.go the
// HTTP requests that read it, whose answers decode.go scans; ends.go the
// end markers, read with resource.EndOf. The merge is pagination.Merge
// (query/loki wraps it in merge.go).
//
// Adapters never print and never import the write path. Every adapter
// passes the storetest conformance suite; query/loki's runs against a Loki
// the user names (RUNLOG_TEST_LOKI_URL), since Loki is not built here.
package query
