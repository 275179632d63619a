//go:build unix

// Command execcost measures what `runlog exec` adds to the program it
// wraps, on the embedded local store, next to the bare program in the same
// run (issue 17: cheap enough to wrap every CI step):
//
//   - `runlog exec -- true` against `true`: the fixed cost (process start,
//     opening the store, Activate, Deactivate with its flush and end
//     marker); target: adds under 20 ms;
//   - `runlog exec -- seq 1 N` against `seq 1 N > file` (N = 1,000,000 by
//     default): the cost per line; target: under 2x the wall time. The
//     exec's own output (the echo) goes to a file too, as seq's does.
//
// The runs are interleaved (bare, wrapped, bare, ...), each program is
// started directly (no shell), and the median wall time of -reps runs is
// reported with the median CPU time (user + system, getrusage of the
// child). It prints a table and "row" lines for bench/summary; it never
// fails on a target.
//
//	go build -o runlog ./cmd/runlog && go run ./bench/execcost -runlog ./runlog
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog/bench/internal/figure"
)

func main() {
	runlogBin := flag.String("runlog", "", "runlog CLI binary (required)")
	repsTrue := flag.Int("reps-true", 21, "runs of true and of runlog exec -- true")
	repsSeq := flag.Int("reps-seq", 5, "runs of seq and of runlog exec -- seq")
	lines := flag.Int("lines", 1000000, "lines seq prints")
	flag.Parse()
	if *runlogBin == "" {
		fail(fmt.Errorf("-runlog is required (go build -o runlog ./cmd/runlog)"))
	}
	dir, err := os.MkdirTemp("", "runlog-execcost")
	fail(err)
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "RUNLOG_DATA_DIR="+filepath.Join(dir, "data"), "RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"))
	out := filepath.Join(dir, "out")
	truePath, err := exec.LookPath("true")
	fail(err)
	seqPath, err := exec.LookPath("seq")
	fail(err)
	n := strconv.Itoa(*lines)

	step := 0
	wrapped := func(prog ...string) []string {
		step++
		return append([]string{*runlogBin, "exec", "--run", "execcost", "--step", "s" + strconv.Itoa(step), "--"}, prog...)
	}
	// One untimed round: the page cache holds the binaries, the store's
	// directories exist.
	run(env, out, truePath)
	run(env, out, wrapped(truePath)...)

	var bareTrue, execTrue, bareSeq, execSeq samples
	for range *repsTrue {
		bareTrue.add(run(env, out, truePath))
		execTrue.add(run(env, out, wrapped(truePath)...))
	}
	for range *repsSeq {
		bareSeq.add(run(env, out, seqPath, "1", n))
		execSeq.add(run(env, out, wrapped(seqPath, "1", n)...))
	}

	fmt.Printf("== runlog exec on the local store, median of %d (true) and %d (seq) interleaved runs ==\n", *repsTrue, *repsSeq)
	fmt.Printf("%-36s %10s %10s\n", "command", "wall ms", "CPU ms")
	for _, r := range []struct {
		name string
		s    samples
	}{
		{"true", bareTrue}, {"runlog exec -- true", execTrue},
		{"seq 1 " + n + " > file", bareSeq}, {"runlog exec -- seq 1 " + n + " > file", execSeq},
	} {
		fmt.Printf("%-36s %10.1f %10.1f\n", r.name, r.s.wall()*1e3, r.s.cpu()*1e3)
	}
	added := (execTrue.wall() - bareTrue.wall()) * 1e3
	ratio := execSeq.wall() / bareSeq.wall()
	fmt.Printf("\nexec -- true adds %.1f ms (target < 20 ms): %s\n", added, figure.Verdict(added < 20))
	fmt.Printf("exec -- seq 1 %s: %.1fx the wall time of seq > file (target < 2x): %s; %.0f ns and %.0f ns of CPU per line\n",
		n, ratio, figure.Verdict(ratio < 2), (execSeq.wall()-bareSeq.wall())*1e9/float64(*lines), (execSeq.cpu()-bareSeq.cpu())*1e9/float64(*lines))
	fmt.Println()
	fmt.Println(figure.Row("runlog exec -- true: wall ms", execTrue.wall()*1e3, bareTrue.wall()*1e3, "ms", "true", "diff<20"))
	// CPU shows the cost where a busy machine's scheduling inflates the wall time.
	fmt.Println(figure.Row("runlog exec -- true: CPU ms", execTrue.cpu()*1e3, bareTrue.cpu()*1e3, "ms", "true", "-"))
	fmt.Println(figure.Row("runlog exec -- seq 1 "+figure.Short(*lines)+": wall", execSeq.wall(), bareSeq.wall(), "s", "seq > file", "ratio<2"))
	fmt.Println(figure.Row("runlog exec -- seq 1 "+figure.Short(*lines)+": CPU", execSeq.cpu(), bareSeq.cpu(), "s", "seq > file", "-"))
}

// samples are the wall and CPU seconds of runs of one command.
type samples struct{ walls, cpus []float64 }

func (s *samples) add(wall, cpu float64) {
	s.walls = append(s.walls, wall)
	s.cpus = append(s.cpus, cpu)
}
func (s *samples) wall() float64 { return figure.Median(s.walls) }
func (s *samples) cpu() float64  { return figure.Median(s.cpus) }

// run runs argv with stdout to the file out (truncated), and returns its
// wall and CPU seconds.
func run(env []string, out string, argv ...string) (wall, cpu float64) {
	f, err := os.Create(out)
	fail(err)
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("%s: %w", strings.Join(argv, " "), err))
	}
	wall = time.Since(start).Seconds()
	return wall, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "execcost:", err)
		os.Exit(1)
	}
}
