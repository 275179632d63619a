package resource

import (
	"cmp"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/runlog/runlog"
)

// The end marker is the last record of an activation, written by
// Deactivate: EndCount records were logged before it, EndDropped of them
// were refused by the drop overflow policy, EndRejected refused by the
// backend, EndRedacted had a secret replaced, and EndCause says how the
// activation ended (runlog.CauseOK ...), and EndResult says it in the
// words of the OpenTelemetry CI/CD conventions (runlog.ResultOf). The marker is numbered like a
// record, so records 1..(its sequence - 1) precede it. It is never an
// entry: readers report it in runlog.Page.Ends.
//
// [EndRecord] is its one writer and [EndOf] its one reader; a backend's
// query keeps markers out of entries, or selects only them, by the
// attribute End = "true".
const (
	End        = "runlog.end"
	EndCount   = "runlog.end.count"
	EndDropped = "runlog.end.dropped"
	EndCause   = "runlog.end.cause"
	// EndRedacted counts the records that had a secret replaced before
	// export; EndRejected the records the backend refused as invalid
	// before the marker was sent (set aside, see otelstore.Rejected).
	// Both are stamped by the write path's worker, which has handled every
	// record before the marker by then.
	EndRedacted = "runlog.end.redacted"
	EndRejected = "runlog.end.rejected"
	// EndResult is the semantic-convention attribute of a task run's
	// result (success, failure, error, timeout, cancellation, skip), on
	// the marker only: the result is known when the activation ends.
	EndResult = "cicd.pipeline.task.run.result"
)

// endMessage is the marker's body: Loki drops empty lines.
const endMessage = "end of activation"

// EndRecord returns the end marker e stands for, as the record the write
// path emits: e.Time, e.Count, e.Dropped, e.Cause and e.Result
// (runlog.ResultOf(e.Cause) when empty) are written; the
// scope, the activation id and the sequence are the activation's, added
// as for any record.
func EndRecord(e runlog.End) otellog.Record {
	var r otellog.Record
	r.SetTimestamp(e.Time)
	r.SetSeverity(otellog.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetBody(attribute.StringValue(endMessage))
	r.AddAttributes(
		attribute.Bool(End, true),
		attribute.Int64(EndCount, int64(e.Count)),
		attribute.Int64(EndDropped, int64(e.Dropped)),
		attribute.String(EndCause, e.Cause),
		attribute.String(EndResult, cmp.Or(e.Result, runlog.ResultOf(e.Cause))),
	)
	return r
}

// IsEnd reports whether kv, an attribute of a record on the write path,
// marks the record as an end marker.
func IsEnd(kv attribute.KeyValue) bool {
	return kv.Key == End && kv.Value.Type() == attribute.BOOL && kv.Value.AsBool()
}

// EndOf returns the end marker e stands for, if e, as read back from a
// backend, is an activation's end marker; readers keep markers out of
// their entries.
func EndOf(e *runlog.LogEntry) (runlog.End, bool) {
	if e.Attributes[End] != "true" {
		return runlog.End{}, false
	}
	n, _ := strconv.ParseUint(e.Attributes[EndCount], 10, 64)
	dropped, _ := strconv.ParseUint(e.Attributes[EndDropped], 10, 64)
	rejected, _ := strconv.ParseUint(e.Attributes[EndRejected], 10, 64)
	redacted, _ := strconv.ParseUint(e.Attributes[EndRedacted], 10, 64)
	end := runlog.End{RunID: e.RunID, StepID: e.StepID, Source: e.Source, ActivationID: e.ActivationID,
		Time: e.Time, Count: n, Dropped: dropped, Rejected: rejected, Redacted: redacted, Cause: e.Attributes[EndCause],
		// A marker written before the result was recorded: derived alike.
		Result: cmp.Or(e.Attributes[EndResult], runlog.ResultOf(e.Attributes[EndCause]))}
	if e.Sequence > 0 {
		end.Last = e.Sequence - 1
	}
	return end, true
}
