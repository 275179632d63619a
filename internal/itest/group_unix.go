//go:build unix

package itest

import (
	"os/exec"
	"syscall"
)

// newGroup makes cmd the leader of a process group of its own, so that
// signalGroup reaches the children it starts too.
func newGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) { _ = syscall.Kill(-cmd.Process.Pid, sig) }
