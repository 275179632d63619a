package runlog

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Default sources, after the conventions of pipeline frameworks. Source is
// free text; these are the names tools look for.
const (
	SourceStep         = "step"
	SourceOrchestrator = "orchestrator"
	SourceClient       = "client"
	// SourceHookPrefix starts the source of a hook: "hook:" + hook name.
	SourceHookPrefix = "hook:"
)

// MaxIDLength is the longest run id, step id or source accepted, in bytes.
const MaxIDLength = 1024

// Scope says what the records of an activation belong to.
//
// Ids are opaque text: any valid UTF-8 without NUL bytes, up to
// [MaxIDLength] bytes. Stores must not give them meaning (a run id such as
// "../../etc" is an id like any other, never a path).
type Scope struct {
	// RunID identifies the pipeline run. Required.
	RunID string
	// StepID identifies the step inside the run. Empty means run level:
	// records of the run itself, the orchestrator's for instance.
	StepID string
	// Source says who wrote the records: "step" (the default when empty),
	// "orchestrator", "client", "hook:<name>" or any other text.
	Source string
	// Attempt numbers retries of the same step, from 0.
	Attempt int
	// Attributes are extra resource attributes stored with every record,
	// such as "cicd.pipeline.name". Keys may not use the "runlog." prefix.
	Attributes map[string]string
}

// Validate reports whether s can be activated; its error wraps [ErrInvalid]
// and says which field is wrong and why.
func (s Scope) Validate() error {
	if s.RunID == "" {
		return invalidf("scope: RunID is empty; every activation needs the id of the run it belongs to")
	}
	for _, f := range []struct{ name, v string }{{"RunID", s.RunID}, {"StepID", s.StepID}, {"Source", s.Source}} {
		if err := ValidateID(f.name, f.v); err != nil {
			return err
		}
	}
	if s.Attempt < 0 {
		return invalidf("scope: Attempt is %d; attempts count from 0", s.Attempt)
	}
	for k, v := range s.Attributes {
		if k == "" || strings.HasPrefix(k, "runlog.") {
			return invalidf("scope: attribute key %q is reserved; use a key outside the runlog. namespace", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return invalidf("scope: attribute %q is not valid UTF-8", k)
		}
	}
	return nil
}

// SourceOrDefault returns s.Source, or [SourceStep] when it is empty.
func (s Scope) SourceOrDefault() string {
	if s.Source == "" {
		return SourceStep
	}
	return s.Source
}

func (s Scope) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %q", s.RunID)
	if s.StepID != "" {
		fmt.Fprintf(&b, " step %q", s.StepID)
	}
	if s.Source != "" {
		fmt.Fprintf(&b, " source %q", s.Source)
	}
	if s.Attempt != 0 {
		fmt.Fprintf(&b, " attempt %d", s.Attempt)
	}
	return b.String()
}

// ValidateID checks one id (run, step or source) given as field name.
// Empty ids are valid here; whether a field is required is the caller's rule.
func ValidateID(field, id string) error {
	switch {
	case len(id) > MaxIDLength:
		return invalidf("%s is %d bytes long; ids are at most %d bytes", field, len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return invalidf("%s %q is not valid UTF-8; ids must be text", field, id)
	case strings.IndexByte(id, 0) >= 0:
		return invalidf("%s %q contains a NUL byte; remove it", field, id)
	}
	return nil
}
