//go:build !unix

package itest

import (
	"os/exec"
	"syscall"
)

// newGroup does nothing here: no process groups.
func newGroup(*exec.Cmd) {}

// signalGroup ends the process itself: other systems have no signals to
// send to a group.
func signalGroup(cmd *exec.Cmd, _ syscall.Signal) { _ = cmd.Process.Kill() }
