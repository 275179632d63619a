package capture_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

func newStore(t *testing.T) runlog.LogStore {
	t.Helper()
	s, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func entries(t *testing.T, s runlog.LogStore, step string) []runlog.LogEntry {
	t.Helper()
	var out []runlog.LogEntry
	for e, err := range runlog.All(t.Context(), s, runlog.Query{RunID: "r", StepID: step}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func cause(t *testing.T, s runlog.LogStore, step string) string {
	t.Helper()
	cs, err := runlog.Check(t.Context(), s, runlog.Query{RunID: "r", StepID: step})
	if err != nil || len(cs) != 1 || !cs[0].Ended {
		t.Fatalf("check %s: %v %+v", step, err, cs)
	}
	return cs[0].Cause
}

// A program that cannot start ends its step with cause error and a
// record saying why, with the exit code a shell would give.
func TestExecNotStarted(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	for _, c := range []struct {
		step, prog, reason string
		code               int
	}{
		{"missing", filepath.Join(dir, "nonexistent"), "no such file or directory", 127},
		{"not-on-path", "runlog-no-such-program", "not found", 127},
		{"not-executable", script, "permission denied", 126},
		{"directory", dir, "is a directory", 126},
	} {
		res, err := capture.Exec(t.Context(), s, runlog.Scope{RunID: "r", StepID: c.step}, exec.Command(c.prog), nil, nil)
		var se *capture.StartError
		if !errors.As(err, &se) || se.Code != c.code || !strings.Contains(se.Error(), c.reason) || se.Hint == "" {
			t.Errorf("%s: error %v; want a StartError with code %d, %q and a hint", c.step, err, c.code, c.reason)
		}
		if res.ExitCode != c.code || res.Cause != runlog.CauseError {
			t.Errorf("%s: result %+v; want exit %d, cause error", c.step, res, c.code)
		}
		es := entries(t, s, c.step)
		if len(es) != 1 || es[0].Level != runlog.LevelError || !strings.Contains(es[0].Message, c.reason) ||
			es[0].Attributes[capture.ExitCodeKey] != strconv.Itoa(c.code) || es[0].Attributes[capture.ExitCauseKey] != "error" {
			t.Errorf("%s: stored %+v", c.step, es)
		}
		if got := cause(t, s, c.step); got != runlog.CauseError {
			t.Errorf("%s: ended %q; want error", c.step, got)
		}
	}
}

// waitFor is a writer that calls fn once it has seen text.
type waitFor struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	text string
	fn   func()
}

func (w *waitFor) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.fn != nil && strings.Contains(w.buf.String(), w.text) {
		w.fn()
		w.fn = nil
	}
	return len(p), nil
}

func (w *waitFor) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// The program gets the signal runlog got, as that signal, and decides
// itself how to end.
func TestExecForwardsSignals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals to forward")
	}
	s := newStore(t)
	sigs := make(chan os.Signal, 1)
	out := &waitFor{text: "ready", fn: func() { sigs <- syscall.SIGINT }}
	cmd := exec.Command("sh", "-c", `trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.05; done`)
	res, err := capture.ExecWith(t.Context(), s, runlog.Scope{RunID: "r", StepID: "int"}, cmd, capture.Options{Stdout: out, Signals: sigs})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 7 || res.Cause != runlog.CauseError || !strings.Contains(out.String(), "got INT") {
		t.Fatalf("result %+v, output %q; want the trap's exit 7", res, out.String())
	}
}

// A program that ignores signals is killed once it has had the grace
// period after the second one.
func TestExecGrace(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals to forward")
	}
	s := newStore(t)
	sigs := make(chan os.Signal, 2)
	out := &waitFor{text: "ready", fn: func() { sigs <- syscall.SIGTERM; sigs <- syscall.SIGTERM }}
	cmd := exec.Command("sh", "-c", `trap 'echo ignored' TERM; echo ready; while :; do sleep 0.05; done`)
	var errOut bytes.Buffer
	res, err := capture.ExecWith(t.Context(), s, runlog.Scope{RunID: "r", StepID: "grace"}, cmd,
		capture.Options{Stdout: out, Stderr: &errOut, Signals: sigs, Grace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 137 || res.Cause != runlog.CauseSignal || res.Signal != "killed" {
		t.Fatalf("result %+v; want killed, 137", res)
	}
	if !strings.Contains(errOut.String(), "SIGKILL") {
		t.Errorf("stderr %q does not say why it was killed", errOut.String())
	}
	var warned bool
	for _, e := range entries(t, s, "grace") {
		warned = warned || e.Level == runlog.LevelWarn && strings.Contains(e.Message, "SIGKILL")
	}
	if !warned {
		t.Error("the kill is not recorded")
	}
	if got := cause(t, s, "grace"); got != runlog.CauseSignal {
		t.Errorf("ended %q; want signal", got)
	}
}

// Output without a newline reaches the terminal at once: the program
// below waits for an answer to its prompt, which is only given once the
// prompt has been echoed.
func TestExecEchoesPrompt(t *testing.T) {
	s := newStore(t)
	stdinR, stdinW := io.Pipe()
	out := &waitFor{text: "name? ", fn: func() {
		go func() { io.WriteString(stdinW, "ada\n"); stdinW.Close() }()
	}}
	cmd := exec.Command("sh", "-c", `printf 'name? '; read name; echo "hello $name"`)
	cmd.Stdin = stdinR
	done := make(chan error, 1)
	go func() {
		_, err := capture.Exec(t.Context(), s, runlog.Scope{RunID: "r", StepID: "prompt"}, cmd, out, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		stdinW.Close()
		t.Fatalf("the prompt was not echoed before its line ended; output %q", out.String())
	}
	var msgs []string
	for _, e := range entries(t, s, "prompt") {
		msgs = append(msgs, e.Message)
	}
	if strings.Join(msgs, "|") != "name? hello ada|process exited: ok" {
		t.Errorf("stored %q", msgs)
	}
}

// failing is an echo destination whose reader went away.
type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) { f.n++; return 0, syscall.EPIPE }

// An echo destination that fails stops neither the program nor the
// capture; a long line is stored in bounded pieces.
func TestExecClosedStdoutAndLongLines(t *testing.T) {
	s := newStore(t)
	out := &failing{}
	cmd := exec.Command("sh", "-c", `seq 1 5000; head -c 10000 /dev/zero | tr '\0' y; echo; exit 3`)
	res, err := capture.ExecWith(t.Context(), s, runlog.Scope{RunID: "r", StepID: "closed"}, cmd,
		capture.Options{Stdout: out, MaxLineBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || res.Lines != 5001 {
		t.Fatalf("result %+v; want exit 3 and 5001 lines", res)
	}
	if out.n != 1 {
		t.Errorf("%d writes to a closed stdout; want 1, then none", out.n)
	}
	es := entries(t, s, "closed")
	if len(es) != 5000+10+1 {
		t.Fatalf("stored %d records; want 5000 lines, 10 pieces and the exit", len(es))
	}
	for i := range 5000 {
		if es[i].Message != strconv.Itoa(i+1) {
			t.Fatalf("record %d is %q", i, es[i].Message)
		}
	}
	for i, e := range es[5000:5010] {
		more := e.Attributes["runlog.line.continues"] == "true"
		if len(e.Message) != 1000 || more != (i < 9) {
			t.Errorf("piece %d: %d bytes, continues=%v", i, len(e.Message), more)
		}
	}
}
