package runlog

import "strings"

// Results: how a step ended, in the words of the OpenTelemetry CI/CD
// semantic conventions (the values of cicd.pipeline.task.run.result), so
// that dashboards and tools that know the standard but not runlog's causes
// can read them. An end marker carries both: the cause says what runlog (or
// the caller) saw, the result says what the standard calls it.
const (
	ResultSuccess      = "success"      // the step finished
	ResultFailure      = "failure"      // the step did not pass: it returned an error, the program exited non-zero
	ResultError        = "error"        // the step broke: it panicked
	ResultTimeout      = "timeout"      // the step ran out of time
	ResultCancellation = "cancellation" // the step was stopped from outside: a signal
	ResultSkip         = "skip"         // the step was skipped
)

// ResultOf returns the CI/CD result of an exit cause:
//
//	CauseOK      ok       success
//	CauseError   error    failure (a step that returned an error; a program that exited non-zero or did not start)
//	CausePanic   panic    error
//	CauseSignal  signal   cancellation (SIGINT, SIGTERM, a program killed by a signal)
//	CauseTimeout timeout  timeout
//	""                    success (no cause given means CauseOK)
//
// A cause of the caller's own (runlog.WithCause) that is already one of
// the six results, or a plain variant of one (case aside: "succeeded",
// "failed", "cancelled", "canceled", "skipped", "timed_out", "deadline"),
// maps to it; any other word maps to ResultFailure: the step did not end
// well, and runlog cannot tell that the fault was the system's.
func ResultOf(cause string) string {
	switch strings.ToLower(strings.TrimSpace(cause)) {
	case "", CauseOK, ResultSuccess, "succeeded", "passed":
		return ResultSuccess
	case CauseError, ResultFailure, "failed", "fail":
		return ResultFailure
	case CausePanic:
		return ResultError
	case CauseSignal, ResultCancellation, "cancelled", "canceled", "cancel", "interrupted":
		return ResultCancellation
	case CauseTimeout, "timed_out", "timedout", "deadline", "deadline_exceeded":
		return ResultTimeout
	case ResultSkip, "skipped":
		return ResultSkip
	}
	return ResultFailure
}
