// Command lokifetch measures fetching one large step from a real Loki with
// runlog's query/loki next to Grafana's logcli on the same data, in the
// same run, and prints lines/s, peak RSS and their ratios.
//
//	go run ./bench/lokifetch -loki http://127.0.0.1:3100 -logcli PATH [-lines 100000]
//
// Both readers run as child processes writing every line to /dev/null, so
// that wall time and peak RSS (getrusage of the child) are measured the same
// way. logcli is given the exact time range and --batch 5000; runlog finds
// the run's time range itself, as a user's Fetch does.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/query/loki"
)

func main() {
	lokiURL := flag.String("loki", "", "Loki base URL (required)")
	logcli := flag.String("logcli", "", "path of the logcli binary (required unless -fetch)")
	lines := flag.Int("lines", 100000, "lines in the step")
	reps := flag.Int("reps", 3, "measurements of each reader (median reported)")
	fetch := flag.String("fetch", "", "internal: fetch run/step RUN:STEP and print it")
	settle := flag.Duration("settle", 5*time.Second, "pause between ingesting and measuring, so that ingestion work does not overlap")
	flag.Parse()
	if *lokiURL == "" {
		fail(fmt.Errorf("-loki is required"))
	}
	if *fetch != "" {
		fail(fetchAll(*lokiURL, *fetch))
		return
	}
	if *logcli == "" {
		fail(fmt.Errorf("-logcli is required"))
	}
	run := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	from, to, err := ingest(*lokiURL, run, *lines)
	fail(err)
	time.Sleep(*settle)
	query := fmt.Sprintf(`{service_name="runlog"} | cicd_pipeline_run_id=%q | cicd_pipeline_task_run_id="big"`, run)
	logcliArgs := []string{"query", "--addr", *lokiURL, "--quiet", "--forward", "--limit", strconv.Itoa(*lines),
		"--batch", "5000", "--from", from.Format(time.RFC3339Nano), "--to", to.Format(time.RFC3339Nano), "-o", "raw", query}
	self, err := os.Executable()
	fail(err)
	runlogArgs := []string{"-loki", *lokiURL, "-fetch", run + ":big"}

	var lc, rl []measure
	for i := range *reps {
		// Alternate who goes first, so that neither always meets a warmer Loki.
		if i%2 == 0 {
			lc = append(lc, measureCmd(*logcli, logcliArgs, *lines))
			rl = append(rl, measureCmd(self, runlogArgs, *lines))
		} else {
			rl = append(rl, measureCmd(self, runlogArgs, *lines))
			lc = append(lc, measureCmd(*logcli, logcliArgs, *lines))
		}
	}
	l, r := median(lc), median(rl)
	fmt.Printf("\n== fetch of one %d-line step from Loki (median of %d) ==\n", *lines, *reps)
	fmt.Printf("%-8s %10s %12s %10s\n", "reader", "seconds", "lines/s", "peak MiB")
	fmt.Printf("%-8s %10.2f %12.0f %10.1f\n", "logcli", l.secs, l.rate, l.rssMiB)
	fmt.Printf("%-8s %10.2f %12.0f %10.1f\n", "runlog", r.secs, r.rate, r.rssMiB)
	fmt.Printf("runlog/logcli: %.2fx lines/s, %.2fx peak memory (target: >= 1.5x lines/s, < 1x memory)\n", r.rate/l.rate, r.rssMiB/l.rssMiB)
}

type measure struct{ secs, rate, rssMiB float64 }

func measureCmd(bin string, args []string, lines int) measure {
	cmd := exec.Command(bin, args...)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	fail(err)
	defer devnull.Close()
	cmd.Stdout, cmd.Stderr = devnull, os.Stderr
	start := time.Now()
	fail(cmd.Run())
	secs := time.Since(start).Seconds()
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return measure{secs: secs, rate: float64(lines) / secs, rssMiB: float64(ru.Maxrss) / 1024}
}

func median(ms []measure) measure {
	slices.SortFunc(ms, func(a, b measure) int { return int((a.secs - b.secs) * 1e6) })
	return ms[len(ms)/2]
}

// ingest writes lines records into one step through the otel flavor,
// straight to Loki's OTLP endpoint, and waits until Loki returns them all.
func ingest(lokiURL, run string, lines int) (from, to time.Time, err error) {
	f, err := runlog.LookupFlavor("otel")
	if err != nil {
		return from, to, err
	}
	cfg, err := f.Validate(map[string]string{"endpoint": lokiURL + "/otlp", "query_url": lokiURL})
	if err != nil {
		return from, to, err
	}
	store, err := flavors.OpenOTel(context.Background(), cfg)
	if err != nil {
		return from, to, err
	}
	slog.SetDefault(slog.New(slog.DiscardHandler))
	from = time.Now().Add(-time.Second)
	ctx, err := store.Activate(context.Background(), runlog.Scope{RunID: run, StepID: "big"})
	if err != nil {
		return from, to, err
	}
	for i := range lines {
		slog.InfoContext(ctx, "processed record", "i", i, "shard", i%16, "ok", true)
	}
	if err := store.Deactivate(ctx); err != nil {
		return from, to, err
	}
	to = time.Now().Add(time.Second)
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		for _, err := range runlog.All(context.Background(), store, runlog.Query{RunID: run, StepID: "big", MinLevel: runlog.LevelInfo}) {
			if err != nil {
				return from, to, err
			}
			n++
		}
		if n == lines {
			return from, to, nil
		}
		if time.Now().After(deadline) {
			return from, to, fmt.Errorf("Loki has %d of %d lines after a minute", n, lines)
		}
		time.Sleep(time.Second)
	}
}

// fetchAll is the runlog side of the measurement: every entry of the step,
// one line each, the way `runlog logs` prints them.
func fetchAll(lokiURL, runStep string) error {
	i := len(runStep) - 1
	for i >= 0 && runStep[i] != ':' {
		i--
	}
	c, err := loki.New(loki.Config{URL: lokiURL})
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer w.Flush()
	for e, err := range runlog.All(context.Background(), c, runlog.Query{RunID: runStep[:i], StepID: runStep[i+1:]}) {
		if err != nil {
			return err
		}
		w.WriteString(e.Time.Format(time.RFC3339Nano))
		w.WriteByte(' ')
		w.WriteString(e.Message)
		w.WriteByte('\n')
	}
	return nil
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "lokifetch:", err)
		os.Exit(1)
	}
}
