package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	"github.com/runlog/runlog"
)

// handler is an activation's slog.Handler: it renders the record's
// attributes as text (groups joined with ".", errors as exception.*) and
// queues it, and prints it on the console too.
type handler struct {
	a       *activation
	console slog.Handler
	attrs   map[string]string // from WithAttrs
	prefix  string            // from WithGroup: "g1.g2."
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.a.store.cfg.MinLevel || h.console.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.a.store.cfg.MinLevel {
		attrs := maps.Clone(h.attrs)
		r.Attrs(func(at slog.Attr) bool {
			attrs = flatten(attrs, h.prefix, at)
			return true
		})
		h.a.add(r, attrs)
	}
	if h.console.Enabled(ctx, r.Level) {
		return h.console.Handle(ctx, r)
	}
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = maps.Clone(h.attrs)
	for _, at := range as {
		h2.attrs = flatten(h2.attrs, h.prefix, at)
	}
	h2.console = h.console.WithAttrs(as)
	return &h2
}

func (h *handler) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.prefix = h.prefix + name + "."
	h2.console = h.console.WithGroup(name)
	return &h2
}

func flatten(m map[string]string, prefix string, at slog.Attr) map[string]string {
	v := at.Value.Resolve()
	if m == nil {
		m = map[string]string{}
	}
	switch {
	case v.Kind() == slog.KindGroup:
		p := prefix
		if at.Key != "" {
			p += at.Key + "."
		}
		for _, g := range v.Group() {
			m = flatten(m, p, g)
		}
	case v.Kind() == slog.KindAny && isError(v.Any()):
		err := v.Any().(error)
		m["exception.message"] = err.Error()
		m["exception.type"] = fmt.Sprintf("%T", err)
	case at.Key != "":
		m[prefix+at.Key] = v.String()
	}
	return m
}

func isError(v any) bool { _, ok := v.(error); return ok }

// snippet:router-type
// router is the default slog handler while the store has activations: a
// record goes to the activation in its context, else to the innermost one,
// else to the console.
type router struct {
	s   *Store
	ops []func(slog.Handler) slog.Handler // WithAttrs/WithGroup, replayed on the target
}

// end snippet

// snippet:router-target
func (r *router) target(ctx context.Context) slog.Handler {
	var h slog.Handler = r.s.cfg.Console
	if a, ok := runlog.FromContext(ctx); ok {
		h = a.Handler
	} else {
		r.s.mu.Lock()
		if n := len(r.s.active); n > 0 {
			h = r.s.active[n-1].Handler
		}
		r.s.mu.Unlock()
	}
	for _, op := range r.ops {
		h = op(h)
	}
	return h
}

// end snippet

func (r *router) Enabled(ctx context.Context, l slog.Level) bool {
	return r.target(ctx).Enabled(ctx, l)
}
func (r *router) Handle(ctx context.Context, rec slog.Record) error {
	return r.target(ctx).Handle(ctx, rec)
}

func (r *router) WithAttrs(as []slog.Attr) slog.Handler {
	return &router{s: r.s, ops: append(r.ops[:len(r.ops):len(r.ops)], func(h slog.Handler) slog.Handler { return h.WithAttrs(as) })}
}

func (r *router) WithGroup(name string) slog.Handler {
	return &router{s: r.s, ops: append(r.ops[:len(r.ops):len(r.ops)], func(h slog.Handler) slog.Handler { return h.WithGroup(name) })}
}
