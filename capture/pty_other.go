//go:build !linux

package capture

import (
	"errors"
	"io"
	"os"
)

// openPTY fails: pseudo-terminals are opened on Linux only.
func openPTY(io.Writer) (master, slave *os.File, err error) {
	return nil, nil, errors.New("running a program on a pseudo-terminal is supported on Linux only; run it without --tty")
}
