package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
)

// snippet:sink
// sink is an activation's sink, the slog.Handler the router gives the
// records that belong to it: it renders the record's attributes as text
// (groups joined with ".", errors as exception.*) and queues it. Routing,
// the console and records logged after Deactivate are the router's
// business.
type sink struct {
	a      *activation
	attrs  map[string]string // from WithAttrs
	prefix string            // from WithGroup: "g1.g2."
}

func (h *sink) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.a.store.cfg.MinLevel
}

func (h *sink) Handle(_ context.Context, r slog.Record) error {
	attrs := maps.Clone(h.attrs)
	r.Attrs(func(at slog.Attr) bool {
		attrs = flatten(attrs, h.prefix, at)
		return true
	})
	h.a.add(r, attrs)
	return nil
}

// end snippet

func (h *sink) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = maps.Clone(h.attrs)
	for _, at := range as {
		h2.attrs = flatten(h2.attrs, h.prefix, at)
	}
	return &h2
}

func (h *sink) WithGroup(name string) slog.Handler {
	h2 := *h
	h2.prefix = h.prefix + name + "."
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
