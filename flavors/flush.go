package flavors

import (
	"context"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
)

// AsFlusher returns s as a runlog.Flusher: s itself when it is one, else,
// for the *otelstore.Store that every built-in flavor's Open returns, an
// adapter whose Flush calls the store's and converts its report. The
// boolean is false for a store that keeps nothing to flush.
//
// The adapter exists because otelstore.Store.Flush returns an
// otelstore.ReplayReport; once that is runlog.FlushReport, *otelstore.Store
// is a runlog.Flusher itself and AsFlusher is a type assertion. Open does
// not return the adapter, so that callers can keep asserting
// *otelstore.Store.
func AsFlusher(s runlog.LogStore) (runlog.Flusher, bool) {
	switch s := s.(type) {
	case runlog.Flusher:
		return s, true
	case *otelstore.Store:
		return otelFlusher{s}, true
	}
	return nil, false
}

type otelFlusher struct{ s *otelstore.Store }

func (f otelFlusher) Flush(ctx context.Context) (runlog.FlushReport, error) {
	r, err := f.s.Flush(ctx)
	return runlog.FlushReport(r), err
}
