package otelstore

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"sync"

	"github.com/runlog/runlog"
)

// activationHandler is the slog.Handler of one activation: records at or
// above the minimum level go to the activation's otelslog handler, and
// every record the console wants goes to the console. After Deactivate,
// records logged with the activation's context reach the console only.
type activationHandler struct {
	act     *activation
	otel    slog.Handler
	console slog.Handler
}

func (h *activationHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.act.minLevel || h.console.Enabled(ctx, l)
}

func (h *activationHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.store(ctx, r)
	if h.console.Enabled(ctx, r.Level) {
		if cerr := h.console.Handle(ctx, r); err == nil {
			err = cerr
		}
	}
	return err
}

// store sends r to the activation's records, not to the console.
func (h *activationHandler) store(ctx context.Context, r slog.Record) error {
	if r.Level < h.act.minLevel {
		return nil
	}
	a := h.act
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ended {
		return nil
	}
	return h.otel.Handle(ctx, r)
}

// capturedOutput receives the lines of the process's captured stdout and
// stderr (Options.CaptureStdio) and stores them in the innermost
// activation, without echoing them to the console: the capture already
// passes them through.
type capturedOutput struct{ s *Store }

func (c capturedOutput) Enabled(context.Context, slog.Level) bool { return true }

func (c capturedOutput) Handle(ctx context.Context, r slog.Record) error {
	a := c.s.innermost.Load()
	if a == nil {
		return nil
	}
	return a.Handler.(*activationHandler).store(ctx, r)
}

func (c capturedOutput) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c capturedOutput) WithGroup(string) slog.Handler      { return c }

func (h *activationHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &activationHandler{act: h.act, otel: h.otel.WithAttrs(attrs), console: h.console.WithAttrs(attrs)}
}

func (h *activationHandler) WithGroup(name string) slog.Handler {
	return &activationHandler{act: h.act, otel: h.otel.WithGroup(name), console: h.console.WithGroup(name)}
}

// router is the default slog handler while a Store has activations: it
// sends each record to the activation in the record's context, else to the
// store's innermost activation, else to the console alone. Attributes and
// groups added with With are replayed onto the chosen handler, once per
// activation.
type router struct {
	store   *Store
	console slog.Handler
	ops     []func(slog.Handler) slog.Handler
	derived *derivedCache // when ops != nil
}

// derivedCache maps an activation to the router's ops applied to its
// handler. A logger made once with With outlives many activations, so the
// cache is emptied when it grows past a bound instead of holding every
// activation it ever saw.
type derivedCache struct {
	mu sync.Mutex
	m  map[*runlog.Activation]slog.Handler
}

const maxDerived = 64

func (h *router) target(ctx context.Context) slog.Handler {
	a, ok := runlog.FromContext(ctx)
	if !ok {
		in := h.store.innermost.Load()
		if in == nil {
			return h.derive(nil, h.console)
		}
		a = &in.Activation
	}
	return h.derive(a, a.Handler)
}

func (h *router) derive(a *runlog.Activation, base slog.Handler) slog.Handler {
	if h.ops == nil {
		return base
	}
	c := h.derived
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.m[a]; ok {
		return d
	}
	d := base
	for _, op := range h.ops {
		d = op(d)
	}
	if c.m == nil || len(c.m) >= maxDerived {
		c.m = make(map[*runlog.Activation]slog.Handler)
	}
	c.m[a] = d
	return d
}

func (h *router) Enabled(ctx context.Context, l slog.Level) bool {
	return h.target(ctx).Enabled(ctx, l)
}

func (h *router) Handle(ctx context.Context, r slog.Record) error {
	return h.target(ctx).Handle(ctx, r)
}

func (h *router) with(op func(slog.Handler) slog.Handler) slog.Handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &router{store: h.store, console: h.console, ops: ops, derived: new(derivedCache)}
}

func (h *router) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })
}

func (h *router) WithGroup(name string) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}

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
