package otelstore

import (
	"context"
	"time"

	"github.com/runlog/runlog"
)

// waitVisible waits, up to Options.VisibleTimeout and within ctx, until
// the store's Fetcher returns the end marker of a, written at endTime:
// then every record of a, which the backend received before the marker, can
// be fetched. It reads only what came at or after endTime in a's step and
// source, so each poll is small; it stops at the first read that fails.
func (s *Store) waitVisible(ctx context.Context, a *activation, endTime time.Time) {
	if s.opts.VisibleTimeout <= 0 || s.opts.Fetcher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.VisibleTimeout)
	defer cancel()
	q := runlog.Query{RunID: a.Scope.RunID, StepID: a.Scope.StepID, Source: a.Scope.SourceOrDefault(),
		Start: endTime, Limit: 1000}
	wait := 50 * time.Millisecond
	for {
		// A backend that cannot be read (down, unauthorized) is not waited
		// for: the records were delivered, and a reader will say why it
		// cannot see them.
		if ok, err := s.endVisible(ctx, q, a.ID); ok || err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// endVisible reports whether the pages of q list the end marker of
// activation id, or why they could not be read.
func (s *Store) endVisible(ctx context.Context, q runlog.Query, id string) (bool, error) {
	for {
		p, err := s.opts.Fetcher.Fetch(ctx, q)
		if err != nil {
			return false, err
		}
		for _, e := range p.Ends {
			if e.ActivationID == id {
				return true, nil
			}
		}
		if !p.More {
			return false, nil
		}
		q.Cursor = p.Next
	}
}
