package router

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"sync"
)

// isStdDefault reports whether h is the handler slog.Default has before
// anyone calls slog.SetDefault. It writes through package log, whose output
// slog.SetDefault redirects to the new default handler, so it cannot be
// called from a handler installed as default without recursing.
func isStdDefault(h slog.Handler) bool {
	return fmt.Sprintf("%T", h) == "*slog.defaultHandler"
}

// logHandler stands in for slog's initial default handler while it cannot
// be used: it writes "LEVEL message k=v ..." through a log.Logger with the
// writer, prefix and flags package log had, as the default handler does.
type logHandler struct {
	out     *log.Logger
	enabled slog.Handler // the replaced default handler, for its level
	mu      *sync.Mutex
	buf     *bytes.Buffer
	text    slog.Handler // formats attributes into buf
}

func newLogHandler(out *log.Logger, enabled slog.Handler) *logHandler {
	buf := new(bytes.Buffer)
	return &logHandler{
		out: out, enabled: enabled, mu: new(sync.Mutex), buf: buf,
		text: slog.NewTextHandler(buf, &slog.HandlerOptions{
			Level: slog.Level(-1 << 20),
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
					return slog.Attr{}
				}
				return a
			},
		}),
	}
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.enabled.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	h.buf.Reset()
	err := h.text.Handle(ctx, r)
	attrs := bytes.TrimRight(h.buf.Bytes(), "\n")
	line := r.Level.String() + " " + r.Message
	if len(attrs) > 0 {
		line += " " + string(attrs)
	}
	h.mu.Unlock()
	if err != nil {
		return err
	}
	return h.out.Output(0, line)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.text = h.text.WithAttrs(attrs)
	return &h2
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.text = h.text.WithGroup(name)
	return &h2
}
