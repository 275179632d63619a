// Package victorialogs reads runlog entries back from VictoriaLogs, the
// log database that an OpenTelemetry Collector (or runlog itself) feeds
// over OTLP/HTTP.
//
//	c, err := victorialogs.New(victorialogs.Config{URL: "http://127.0.0.1:9428"})
//	page, err := c.Fetch(ctx, runlog.Query{RunID: "run-42", StepID: "train"})
//
// # How records are found
//
// VictoriaLogs keeps OTLP resource attributes as stream fields and record
// attributes as fields, with their dotted names, and gives each entry its
// stream's fields as fields too. runlog puts the run, the step, the
// source, the attempt and the activation in the resource (each activation
// is one stream); other writers may put the run on every record. So a
// query matches them with exact field filters,
// "cicd.pipeline.run.id":="...", which find both places; a Config
// Convention whose attributes are in the resource only is queried with a
// stream filter, {"cicd.pipeline.run.id"="..."}, from the stream index.
// Config.Convention also names the attributes (resource.CICD by default,
// or ZenML's). Every value and field name is a quoted LogsQL string
// (VictoriaLogs reads them with Go's unquoting rules), so ids and grep
// text made of LogsQL syntax match exactly and never change the query.
//
// # Reading
//
// The answer of /select/logsql/query is JSON lines, streamed as they are
// found and unsorted. Fetch first counts what matches (one stats query);
// a page that fits comfortably is read in one request and sorted here. A
// larger span is split into time windows of about a quarter page (at
// least 4,096 entries, or a page), sized by a count per time bucket (a
// stats-by-time query), and read one after another: memory stays within a
// few pages whatever the run's size, and the server sorts nothing. A page
// ends between windows, so it may hold a little fewer entries than the
// limit while Page.More is set. An answer longer than counted (records
// still arriving) is cut off, not buffered, and the page is read again.
//
// Entries come back in Fetch order (timestamp, then sequence); cursors
// carry the sort key of the last entry returned, so paging forward or
// backward is exact, and a cursor fetched again later returns what was
// stored since: that is how `runlog logs --follow` tails a step.
//
// # Clusters and failures
//
// A VictoriaLogs cluster answers 502 when one of its storage nodes is
// down, rather than a partial answer; runlog also asks for
// allow_partial_response=0. Both that and an answer broken off mid-stream
// are ErrUnavailable errors that name the URL: a page is never presented
// as complete when it is not.
//
// Credentials (basic or bearer) and the tenant (AccountID, ProjectID) go
// with every request; TLS is verified unless told otherwise, and a
// redirect to another scheme, host or port is refused rather than
// followed with the credentials.
//
// # Where the code is
//
// fetch.go holds Fetch, as the list of its steps; cursor.go the cursor
// (the last entry's key and the windows planned for later pages);
// logsql.go the query and its time filters; plan.go the span left to read,
// the count that plans windows, and the walk through them for a page;
// read.go the requests (a window, read by two decode workers into pooled
// buffers, and the stats queries); decode.go the scanner for an answer's
// lines; ends.go the end markers. Each window read is merged into the page
// by query/internal/pagination's Merge.
package victorialogs
