package capture

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// Exit codes of a program that could not be started, as shells use them.
const (
	ExitNotExecutable = 126 // found, but could not be executed
	ExitNotFound      = 127 // not found
)

// StartError says that a program could not be started, why, and what to
// do about it. Code is the exit code a shell reports for it.
type StartError struct {
	Program string // as given
	Reason  string // "no such file or directory", "permission denied", ...
	Hint    string // what to do
	Code    int    // ExitNotFound or ExitNotExecutable
	Err     error  // what starting it returned
}

func (e *StartError) Error() string {
	msg := "exec " + e.Program + ": " + e.Reason
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *StartError) Unwrap() error { return e.Err }

// startError explains err, returned by starting cmd.
func startError(cmd *exec.Cmd, err error) *StartError {
	prog := cmd.Path
	if len(cmd.Args) > 0 {
		prog = cmd.Args[0]
	}
	e := &StartError{Program: prog, Err: err, Code: ExitNotExecutable, Reason: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		e.Reason = errno.Error()
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		e.Code, e.Reason = ExitNotFound, "command not found"
		e.Hint = "check its name; a name without a slash is looked up in $PATH"
	case errors.Is(err, fs.ErrNotExist):
		e.Code = ExitNotFound
		e.Hint = "check the path; a script's #! line must name an interpreter that exists"
	case isDir(cmd.Path):
		e.Reason = "is a directory"
		e.Hint = "name the program inside it"
	case errors.Is(err, fs.ErrPermission):
		e.Hint = "make it executable (chmod +x " + prog + ") or run it through its interpreter"
	case errors.Is(err, syscall.ENOEXEC):
		e.Hint = "not a program for this system; a script needs a #! line, or run it through its interpreter"
	}
	return e
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
