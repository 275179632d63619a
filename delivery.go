package runlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
)

// Exit causes: how an activation ended, as its end marker records it.
const (
	CauseOK     = "ok"     // the step finished
	CauseError  = "error"  // the step returned an error
	CausePanic  = "panic"  // the step panicked (the panic is logged with its stack first)
	CauseSignal = "signal" // the process was told to stop (SIGINT, SIGTERM, ...)
	// CauseTimeout: the step ran out of time (its context's deadline).
	CauseTimeout = "timeout"
)

// Each cause also has a result in the words of the OpenTelemetry CI/CD
// conventions (ResultOf), which the end marker carries next to it.

type causeKey struct{}

// WithCause returns a copy of ctx telling Deactivate how the activation
// ended; one of the Cause constants, or a word of your own. Without it the
// cause is CauseOK.
//
//	defer func() { store.Deactivate(runlog.WithCause(ctx, runlog.CauseError)) }()
func WithCause(ctx context.Context, cause string) context.Context {
	return context.WithValue(ctx, causeKey{}, cause)
}

// CauseFrom returns the exit cause ctx carries, CauseOK if none.
func CauseFrom(ctx context.Context) string {
	if c, ok := ctx.Value(causeKey{}).(string); ok && c != "" {
		return c
	}
	return CauseOK
}

// Run activates sc in s, calls fn with the activation's context, and
// deactivates with the cause fn ended with:
//
//   - CauseOK when fn returns nil;
//   - CauseError when it returns an error, which is logged (ERROR, with
//     exception.message) and returned, joined with Deactivate's error;
//   - CauseSignal when it returns after ctx was cancelled by
//     signal.NotifyContext;
//   - CauseTimeout when it returns an error after ctx's deadline passed,
//     or an error that is context.DeadlineExceeded;
//   - CausePanic when it panics: the panic value and its stack are logged
//     (ERROR, exception.type "panic", exception.stacktrace) before the end
//     marker, the activation is flushed, and the panic goes on.
//
// Run is the way to get an end marker that tells the truth about a step
// without writing the bookkeeping yourself.
func Run(ctx context.Context, s LogStore, sc Scope, fn func(ctx context.Context) error) (err error) {
	actx, err := s.Activate(ctx, sc)
	if err != nil {
		return err
	}
	log := Logger(actx)
	panicked := true
	defer func() {
		if !panicked {
			return
		}
		v := recover()
		log.ErrorContext(actx, fmt.Sprintf("panic: %v", v),
			slog.String("exception.type", "panic"),
			slog.String("exception.message", fmt.Sprint(v)),
			slog.String("exception.stacktrace", string(debug.Stack())))
		_ = s.Deactivate(WithCause(actx, CausePanic))
		panic(v)
	}()
	ferr := fn(actx)
	panicked = false
	cause := CauseOK
	switch {
	case ferr == nil:
	case ctx.Err() != nil && isSignal(context.Cause(ctx)):
		cause = CauseSignal
		log.WarnContext(actx, "stopped: "+context.Cause(ctx).Error())
	case errors.Is(ferr, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		cause = CauseTimeout
		log.ErrorContext(actx, "step timed out: "+ferr.Error(), slog.String("exception.message", ferr.Error()))
	default:
		cause = CauseError
		log.ErrorContext(actx, "step failed: "+ferr.Error(), slog.String("exception.message", ferr.Error()))
	}
	return errors.Join(ferr, s.Deactivate(WithCause(actx, cause)))
}

// isSignal recognises the cause signal.NotifyContext cancels with ("interrupt
// signal received"); its type is not exported.
func isSignal(err error) bool {
	return err != nil && errors.Is(err, context.Canceled) && strings.HasSuffix(err.Error(), " signal received")
}

// DeliveryError is the account of an activation whose records did not all
// reach the backend; Deactivate returns it wrapped in an [*Error]
// (errors.As finds both). Logged counts records as logged; Delivered,
// Spooled, Dropped and Pending count numbered records: a message split into
// chunks counts once per chunk, and the end marker counts one; records
// dropped by the overflow policy count once each.
type DeliveryError struct {
	Scope      Scope
	Activation string
	// Logged is the number of records the activation accepted (not chunks).
	Logged uint64
	// Delivered records reached the backend, directly or replayed from the spool.
	Delivered uint64
	// Spooled records are on disk in SpoolPath, waiting to be replayed by
	// the next flush, the next Activate, or `runlog flush`.
	Spooled   uint64
	SpoolPath string
	// Dropped records are lost: refused by a full queue under the drop
	// overflow policy, or neither exported nor spooled (spool full or not
	// writable). Each is counted; none is lost silently.
	Dropped uint64
	// Pending records were still in memory when the deadline passed; they
	// are lost if the process exits now.
	Pending uint64
	// Rejected records were refused by the backend as invalid (an HTTP
	// 4xx other than 408 and 429): sending them again cannot succeed, so
	// they were set aside in RejectedPath (OTLP JSON lines, never
	// replayed) instead of blocking the records after them.
	Rejected     uint64
	RejectedPath string
	// Err is why: the last export, spool or deadline error.
	Err error
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d records logged; of them and the end marker, %d delivered", e.Scope, e.Logged, e.Delivered)
	if e.Spooled > 0 {
		fmt.Fprintf(&b, ", %d spooled in %s", e.Spooled, e.SpoolPath)
	}
	if e.Dropped > 0 {
		fmt.Fprintf(&b, ", %d dropped", e.Dropped)
	}
	if e.Pending > 0 {
		fmt.Fprintf(&b, ", %d still in memory", e.Pending)
	}
	if e.Rejected > 0 {
		fmt.Fprintf(&b, ", %d rejected by the backend", e.Rejected)
		if e.RejectedPath != "" {
			fmt.Fprintf(&b, " (set aside in %s)", e.RejectedPath)
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *DeliveryError) Unwrap() error { return e.Err }
