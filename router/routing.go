package router

import (
	"context"
	"log/slog"
	"sync"

	"github.com/runlog/runlog"
)

// routing is the default slog handler while a router has activations: it
// sends each record to the activation in the record's context, else to the
// innermost activation, else to the console alone. Attributes and groups
// added with With are replayed onto the chosen handler, once per
// activation.
type routing struct {
	router  *Router
	console slog.Handler
	ops     []func(slog.Handler) slog.Handler
	derived *derivedCache // when ops != nil
}

// derivedCache maps an activation to the routing's ops applied to its
// handler. A logger made once with With outlives many activations, so the
// cache is emptied when it grows past a bound instead of holding every
// activation it ever saw.
type derivedCache struct {
	mu sync.Mutex
	m  map[*runlog.Activation]slog.Handler
}

const maxDerived = 64

// target is the handler of the record's activation: the one in ctx,
// else the innermost, else the console. An activation of another router
// in ctx is that router's business: the record goes to the console, which
// leads to that router when this one was installed after it, and is
// printed otherwise. Routing it to the activation instead would loop when
// this router is the other one's console.
func (h *routing) target(ctx context.Context) slog.Handler {
	if ctx == nil {
		ctx = context.Background()
	}
	a, ok := runlog.FromContext(ctx)
	switch {
	case ok && h.router.owns(a):
	case ok:
		return h.derive(nil, h.console)
	default:
		in := h.router.innermost.Load()
		if in == nil {
			return h.derive(nil, h.console)
		}
		a = in.gate.act
	}
	return h.derive(a, a.Handler)
}

func (h *routing) derive(a *runlog.Activation, base slog.Handler) slog.Handler {
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

func (h *routing) Enabled(ctx context.Context, l slog.Level) bool {
	return h.target(ctx).Enabled(ctx, l)
}

func (h *routing) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return h.target(ctx).Handle(ctx, r)
}

func (h *routing) with(op func(slog.Handler) slog.Handler) slog.Handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &routing{router: h.router, console: h.console, ops: ops, derived: new(derivedCache)}
}

func (h *routing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })
}

func (h *routing) WithGroup(name string) slog.Handler {
	return h.with(func(t slog.Handler) slog.Handler { return t.WithGroup(name) })
}
