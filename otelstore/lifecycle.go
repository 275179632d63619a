package otelstore

import (
	"context"
	"errors"

	"github.com/runlog/runlog"
)

var (
	_ runlog.RunLister = (*Store)(nil)
	_ runlog.Deleter   = (*Store)(nil)
)

// ListRuns lists runs through the store's Fetcher, when it is a
// runlog.RunLister; otherwise it fails with an error wrapping ErrInvalid.
func (s *Store) ListRuns(ctx context.Context, q runlog.RunQuery) (runlog.RunPage, error) {
	l, ok := s.opts.Fetcher.(runlog.RunLister)
	if !ok {
		return runlog.RunPage{}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "list runs", Store: s.opts.Name,
			Err:  errors.New("this store cannot list runs"),
			Hint: "its reader (Options.Fetcher) does not implement runlog.RunLister"}
	}
	return l.ListRuns(ctx, q)
}

// DeleteRun deletes a run through the store's Fetcher, when it is a
// runlog.Deleter; otherwise it fails with an error wrapping ErrInvalid.
// Records of the run still queued or spooled by this store are not
// touched: an activation of the run still running writes them after the
// deletion.
func (s *Store) DeleteRun(ctx context.Context, run string) (runlog.DeleteReport, error) {
	d, ok := s.opts.Fetcher.(runlog.Deleter)
	if !ok {
		return runlog.DeleteReport{RunID: run}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: s.opts.Name,
			Err:  errors.New("this store cannot delete runs"),
			Hint: "its reader (Options.Fetcher) does not implement runlog.Deleter"}
	}
	return d.DeleteRun(ctx, run)
}
