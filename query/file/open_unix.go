//go:build unix

package file

import "syscall"

// openFlags keep an open from waiting on a named pipe put where a record
// file should be.
const openFlags = syscall.O_NONBLOCK
