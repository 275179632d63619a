package runlog

import (
	"context"
	"log/slog"
)

// LogStore collects the logs of pipeline runs and fetches them back.
//
// Activate starts collecting the records of a [Scope] and returns a context
// that carries the new activation. It may assume s passed [Scope.Validate]
// only if it checks it itself: stores must reject an invalid scope with an
// error wrapping [ErrInvalid]. While an activation is in force, records logged
// with its context (slog.InfoContext(ctx, ...), or a logger from [Logger])
// belong to it, and records logged without an activation in their context
// belong to the innermost activation of the process still in force.
// Activations nest and may run concurrently; Activate must be safe to call
// from many goroutines.
//
// Deactivate ends the activation carried by ctx, or, when ctx carries none of
// this store's, the innermost one still in force. It flushes every record of
// the activation before it returns, within ctx's deadline, and restores what
// Activate replaced (the default slog logger). Deactivating twice, or when
// nothing is active, returns nil. When records could not be delivered, the
// error says how many and where they are kept.
//
// Fetch returns the entries matching q in q.Direction, at most
// q.EffectiveLimit() of them, ordered by timestamp, then sequence. An
// unknown run yields an empty page, not an error. Errors wrap one of
// ErrInvalid, ErrUnavailable, ErrUnauthorized, ErrOverLimit.
type LogStore interface {
	Activate(ctx context.Context, s Scope) (context.Context, error)
	Deactivate(ctx context.Context) error
	Fetcher
}

// Activation is what Activate records in the context it returns.
type Activation struct {
	// ID identifies the activation; stores derive entry ids from it.
	ID    string
	Scope Scope
	// Handler writes records to this activation (and wherever the store
	// fans out, such as the console).
	Handler slog.Handler
	// Owner is the store that made the activation.
	Owner LogStore
}

type activationKey struct{}

// NewContext returns a copy of ctx carrying a. Stores call it in Activate.
func NewContext(ctx context.Context, a *Activation) context.Context {
	return context.WithValue(ctx, activationKey{}, a)
}

// FromContext returns the activation ctx carries, if any.
func FromContext(ctx context.Context) (*Activation, bool) {
	a, ok := ctx.Value(activationKey{}).(*Activation)
	return a, ok
}

// Logger returns a logger whose records belong to the activation ctx
// carries, wherever and with whatever context they are later logged; with no
// activation in ctx, it returns slog.Default(). Use it to hand a step's
// logger to code that does not take a context.
func Logger(ctx context.Context) *slog.Logger {
	if a, ok := FromContext(ctx); ok && a.Handler != nil {
		return slog.New(a.Handler)
	}
	return slog.Default()
}
