//go:build unix

package stores

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock on path, creating it, and returns
// what releases it. It waits for the lock until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
				fh.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			fh.Close()
			return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
		}
		select {
		case <-ctx.Done():
			fh.Close()
			return nil, &fs.PathError{Op: "flock", Path: path, Err: ctx.Err()}
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fileOwner returns the current user's id and the owner's of info.
func fileOwner(info fs.FileInfo) (uid, owner int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return os.Geteuid(), int(st.Uid), true
}
