// Package loki reads runlog entries back from a Grafana Loki the user
// runs, over its HTTP API; the OpenTelemetry Collector (or Loki's own OTLP
// endpoint) writes them. runlog neither builds nor links Loki.
//
//	c, err := loki.New(loki.Config{URL: "http://127.0.0.1:3100"})
//	page, err := c.Fetch(ctx, runlog.Query{RunID: "run-42", StepID: "train"})
//
// # How records are found
//
// Loki's OTLP ingestion makes service.name the index label service_name
// and keeps the other resource attributes and all record attributes as
// structured metadata, dots turned into underscores. A run spans services,
// so the stream selector is, cheapest first: the run id when it is one of
// IndexLabels, else service_name among Config.Services (or the
// convention's service, zenml's "zenml"), else service_name=~".+" (every
// stream of the tenant in the time range); then a line filter for the
// text, label filters on structured metadata for run, step and source
// (resource or record attributes alike), and severity_number >= for the
// level; every value is quoted with Go's (and LogQL's) string syntax, so
// ids and grep text stay literal. runlog's own keys come back with their
// dotted names; other attribute keys keep Loki's form (AttributeKey tells
// which). Config.Convention names the run, step and source attributes
// (resource.CICD by default).
//
// # Reading
//
// Fetch reads q.Start to q.End, else the run's own span: its newest entry
// looked for in growing windows back to MaxLookback, then its oldest within
// MaxRunDuration, with limit-1 queries. A page that fits one Loki query
// takes one request. Otherwise one count_over_time query counts the span in
// 128 buckets, and just enough buckets for the page, grouped into windows of
// at most MaxEntries entries, are read, Parallelism windows at a time; a
// window holding more pages on from its newest timestamp, dropping the
// entries at that timestamp it already has. Entries are then sorted by
// (timestamp, sequence, id, chunk), deduplicated, filtered past the cursor
// and cut at the limit. The cursor carries the last entry's sort key, the
// span and the bucket counts, so that later pages neither search nor count
// again. A run whose newest entry is under 5 minutes old is live: once paged
// to the end of its span, the next fetch with the cursor reads on to the
// present, which is how a tail follows it. The last page lists the end
// markers of the run (step, source).
//
// Errors are typed: a refused connection or a timeout is ErrUnavailable;
// 401 and 403 ErrUnauthorized; 429 and Loki's limit errors ErrOverLimit; a
// rejected query ErrInvalid. A redirect to another scheme, host or port is
// refused rather than followed with the credentials.
//
// # Where the code is
//
// fetch.go holds Fetch, as the list of its steps; cursor.go the cursor;
// logql.go the query; plan.go the span to read (span search) and the
// windows planned over it (bucket counts); read.go the requests that read
// them; decode.go the scanner for Loki's query_range answer; merge.go the
// merge, on query/internal/pagination's Merge; ends.go the end markers.
package loki
