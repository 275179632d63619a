package resource

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/runlog/runlog"
)

// TestEndResult: the marker carries the CI/CD result of its cause, and a
// marker written before the result was recorded reads back with the same
// result derived from its cause.
func TestEndResult(t *testing.T) {
	r := EndRecord(runlog.End{Count: 2, Cause: runlog.CausePanic})
	e := runlog.LogEntry{Attributes: map[string]string{}}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		e.Attributes[string(kv.Key)] = kv.Value.Emit()
		return true
	})
	if e.Attributes[EndResult] != runlog.ResultError {
		t.Fatalf("marker of a panic has %s = %q; want %q", EndResult, e.Attributes[EndResult], runlog.ResultError)
	}
	if end, ok := EndOf(&e); !ok || end.Cause != runlog.CausePanic || end.Result != runlog.ResultError {
		t.Fatalf("EndOf = %+v, %v; want cause panic, result error", end, ok)
	}
	delete(e.Attributes, EndResult)
	e.Attributes[EndCause] = runlog.CauseSignal
	if end, _ := EndOf(&e); end.Result != runlog.ResultCancellation {
		t.Fatalf("EndOf of an older marker (signal, no result) = result %q; want cancellation", end.Result)
	}
	e.Attributes[EndResult] = runlog.ResultSkip // what the writer said wins
	if end, _ := EndOf(&e); end.Result != runlog.ResultSkip {
		t.Fatalf("EndOf = result %q; want the stored skip", end.Result)
	}
}
