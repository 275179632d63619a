//go:build unix

// Command peakrss runs a command and reports its wall time and peak RSS,
// for bench/vlfetch:
//
//	peakrss CMD [ARG...] 3>REPORT
//
// The command inherits stdin, stdout and stderr; when it ends, peakrss
// writes "EXIT SECONDS MAXRSS_KIB" to file descriptor 3 and exits 0 (1 if
// the command could not be started). It exists because on Linux a child's
// peak RSS (getrusage) is at least that of the process that started it, as
// it was when the child was started: Go starts children with vfork, and
// exec records the old address space's peak. bench/vlfetch has ingested a
// million records by then; this program is a few MB, below any reader.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peakrss CMD [ARG...] 3>REPORT")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(1)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if _, err := fmt.Fprintf(report, "%d %.6f %d\n", cmd.ProcessState.ExitCode(), secs, ru.Maxrss); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss: write the report to fd 3:", err)
		os.Exit(1)
	}
}
