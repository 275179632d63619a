package capture_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
)

// On a pseudo-terminal the program sees a terminal, and its stdout and
// stderr are stored in the order it wrote them.
func TestExecTTY(t *testing.T) {
	s := newStore(t)
	var out bytes.Buffer
	cmd := exec.Command("sh", "-c", `test -t 1 && test -t 2 && echo terminal; for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 4`)
	res, err := capture.ExecWith(t.Context(), s, runlog.Scope{RunID: "r", StepID: "tty"}, cmd, capture.Options{Stdout: &out, TTY: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "terminal|out1|err1|out2|err2|out3|err3|out4|err4|out5|err5"
	if res.ExitCode != 4 || out.String() != strings.ReplaceAll(want, "|", "\n")+"\n" {
		t.Fatalf("result %+v, echoed %q", res, out.String())
	}
	var msgs []string
	for _, e := range entries(t, s, "tty") {
		if e.Attributes[capture.StreamKey] == "tty" {
			msgs = append(msgs, e.Message)
		}
	}
	if got := strings.Join(msgs, "|"); got != want {
		t.Errorf("stored %s; want %s", got, want)
	}
}
