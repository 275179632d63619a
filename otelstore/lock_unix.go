//go:build unix

package otelstore

import (
	"errors"
	"os"
	"syscall"
)

var errLocked = errors.New("locked by another activation")

// lockFile takes an exclusive lock on f, held until f is closed (or its
// process ends, however it ends).
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

// tryLockFile is lockFile returning errLocked when f is held elsewhere.
func tryLockFile(f *os.File) error {
	err := lockFile(f)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
