package runlog

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of errors. Every error a store returns wraps one of them, so that
// callers can test it with errors.Is.
var (
	// ErrInvalid: a bad scope, query, cursor or configuration. Fix the input.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound: a named thing (store, flavor) does not exist. An unknown
	// run is not an error: Fetch returns an empty page.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the backend could not be reached or failed. Retry
	// later or check that it runs.
	ErrUnavailable = errors.New("backend unavailable")
	// ErrUnauthorized: the backend refused the credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrOverLimit: the backend refused the request as too large or too
	// frequent. Narrow the query or slow down.
	ErrOverLimit = errors.New("over limit")
)

// Error is the error stores return: a kind (one of the Err variables), what
// was being done, against what, the cause, and what to do about it.
type Error struct {
	Kind  error  // ErrInvalid, ErrUnavailable, ...
	Op    string // "activate", "deactivate", "fetch", "open", ...
	Store string // the store or backend, such as a URL or a directory
	Err   error  // the cause, if any
	Hint  string // what the user can do, if known
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("runlog")
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	if e.Store != "" {
		b.WriteString(" " + e.Store)
	}
	if e.Kind != nil {
		b.WriteString(": " + e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func invalidf(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
}

// Invalidf returns an error of kind ErrInvalid with a formatted message.
func Invalidf(format string, args ...any) error { return invalidf(format, args...) }
