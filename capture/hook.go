package capture

import (
	"log/slog"

	"github.com/runlog/runlog/router"
)

// StdioHook starts capturing the process's stdout and stderr into h, in
// the form router.Options.Stdio and otelstore.Options.CaptureStdio take:
//
//	store, err := otelstore.New(otelstore.Options{CaptureStdio: capture.StdioHook, ...})
func StdioHook(h slog.Handler) (router.Capture, error) {
	s, err := StartStdio(h)
	if err != nil {
		return nil, err
	}
	return s, nil
}

var _ router.Capture = (*Stdio)(nil)
