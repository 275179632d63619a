//go:build !unix

package capture

import (
	"os"
	"os/exec"
)

// forwarded are the signals caught while a program runs and sent on to it.
var forwarded = []os.Signal{os.Interrupt}

// catchSIGPIPE does nothing: there is no SIGPIPE here.
func catchSIGPIPE() (stop func()) { return func() {} }

// onTerminal does nothing: openPTY fails first.
func onTerminal(*exec.Cmd) {}
