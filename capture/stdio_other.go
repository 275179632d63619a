//go:build !unix

package capture

import (
	"errors"
	"log/slog"
	"os"
)

// Stdio captures the process's own standard output and error; on this
// platform it cannot (descriptors are not duplicated the Unix way), and
// StartStdio says so. Exec works everywhere.
type Stdio struct{}

// StartStdio returns an error on this platform.
func StartStdio(slog.Handler) (*Stdio, error) {
	return nil, errors.New("capture: capturing the process's own stdout and stderr needs a Unix system; use runlog exec for a program's output")
}

// Original returns nil: nothing is captured.
func (s *Stdio) Original(int) *os.File { return nil }

// Stop does nothing.
func (s *Stdio) Stop() error { return nil }
