//go:build unix

package capture

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// forwarded are the signals caught while a program runs and sent on to it.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// catchSIGPIPE makes a write to a closed pipe on fd 1 or 2 fail with
// EPIPE instead of killing the process, until the returned func is called.
// Catching rather than ignoring it leaves the program's own SIGPIPE at
// its default: a caught signal is reset by exec, an ignored one is not.
func catchSIGPIPE() (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGPIPE)
	return func() { signal.Stop(c) }
}

// onTerminal makes the program the leader of a session of its own whose
// controlling terminal is its stdout (the pseudo-terminal): it reads the
// terminal's size and gets the terminal's signals from it, and only from
// it, so the user's terminal does not signal it behind runlog's back.
func onTerminal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
}
