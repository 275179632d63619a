//go:build unix

// Command clilogs measures `runlog logs` on a large run of the local
// store: it captures a program printing N lines with `runlog exec`, then
// prints the run to /dev/null with `runlog logs` and reports wall time,
// lines/s and peak RSS (getrusage of the child), next to `cat` of the same
// store files as a floor; and -o jsonl with the default page and with
// --limit 2000000, whose peak RSS must be about the same.
//
//	go run ./bench/clilogs [-lines 1000000]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines in the run")
	flag.Parse()
	dir, err := os.MkdirTemp("", "runlog-clilogs")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "runlog")
	check(exec.Command("go", "build", "-o", bin, "./cmd/runlog").Run())
	env := append(os.Environ(), "RUNLOG_DATA_DIR="+filepath.Join(dir, "data"), "RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"))

	start := time.Now()
	capture := exec.Command(bin, "exec", "--run", "big", "--step", "s", "--", "seq", "1", strconv.Itoa(*lines))
	capture.Env = env
	check(capture.Run())
	fmt.Printf("captured %d lines with runlog exec in %.1f s\n", *lines, time.Since(start).Seconds())

	files, _ := filepath.Glob(filepath.Join(dir, "data", "runs", "*", "*", "*.jsonl"))
	catSecs, catRSS := measure(exec.Command("cat", files...), env)
	secs, rss := measure(exec.Command(bin, "logs", "big"), env)
	// Memory must not follow the flags: --limit asks for bigger pages,
	// which the CLI caps (runlog.MaxPage).
	jsecs, jrss := measure(exec.Command(bin, "logs", "big", "-o", "jsonl"), env)
	lsecs, lrss := measure(exec.Command(bin, "logs", "big", "-o", "jsonl", "--limit", "2000000"), env)
	fmt.Printf("\n== runlog logs of a %d-line run to /dev/null ==\n", *lines)
	fmt.Printf("%-34s %8s %12s %10s\n", "reader", "seconds", "lines/s", "peak MiB")
	fmt.Printf("%-34s %8.2f %12s %10.1f\n", "cat (floor)", catSecs, "-", catRSS)
	fmt.Printf("%-34s %8.2f %12.0f %10.1f\n", "runlog logs", secs, float64(*lines+1)/secs, rss)
	fmt.Printf("%-34s %8.2f %12.0f %10.1f\n", "runlog logs -o jsonl", jsecs, float64(*lines+1)/jsecs, jrss)
	fmt.Printf("%-34s %8.2f %12.0f %10.1f\n", "runlog logs -o jsonl --limit 2000000", lsecs, float64(*lines+1)/lsecs, lrss)
	fmt.Printf("peak RSS %.1f MiB (target: under 100 MB); %.1fx the time of reading the files with cat\n", rss, secs/catSecs)
	fmt.Printf("--limit 2000000: peak RSS %.2fx the default page's (target: about 1x, memory independent of flags)\n", lrss/jrss)
}

func measure(cmd *exec.Cmd, env []string) (secs, rssMiB float64) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	check(err)
	defer devnull.Close()
	cmd.Env, cmd.Stdout, cmd.Stderr = env, devnull, os.Stderr
	start := time.Now()
	check(cmd.Run())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return time.Since(start).Seconds(), float64(ru.Maxrss) / 1024
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "clilogs:", err)
		os.Exit(1)
	}
}
