package runlog_test

import (
	"testing"

	"github.com/runlog/runlog"
)

func TestResultOf(t *testing.T) {
	for cause, want := range map[string]string{
		"": runlog.ResultSuccess, runlog.CauseOK: runlog.ResultSuccess,
		runlog.CauseError: runlog.ResultFailure, runlog.CausePanic: runlog.ResultError,
		runlog.CauseSignal: runlog.ResultCancellation, runlog.CauseTimeout: runlog.ResultTimeout,
		"Cancelled": runlog.ResultCancellation, " skip ": runlog.ResultSkip, "SUCCESS": runlog.ResultSuccess,
		"failure": runlog.ResultFailure, "oom-killed": runlog.ResultFailure,
	} {
		if got := runlog.ResultOf(cause); got != want {
			t.Errorf("ResultOf(%q) = %q; want %q", cause, got, want)
		}
	}
}
