// Command vlfetch measures reading one large step back from a real
// VictoriaLogs, fed by an OpenTelemetry Collector, with runlog next to the
// raw LogsQL query on the same data, in the same run. bench/run.sh
// victorialogs starts the servers and runs it; by hand:
//
//	go build -o peakrss ./bench/vlfetch/peakrss && go build -o runlog ./cmd/runlog
//	go run ./bench/vlfetch -vl http://127.0.0.1:9428 -otlp http://127.0.0.1:4318 \
//		-vlogscli PATH -runlog ./runlog -peakrss ./peakrss [-lines 1000000] [-reps 5] [-cpuprofile FILE]
//
// It writes -lines records into one step through the collector with
// runlog (Activate, slog.InfoContext, Deactivate), waits until VictoriaLogs
// counts them all, then measures four readers of the whole step, -reps
// times each, interleaved (each round starts with the next reader):
//
//   - curl: the exact query runlog's adapter sends for a whole step,
//     POSTed to /select/logsql/query with allow_partial_response=0, no
//     compression, the answer to /dev/null: the baseline;
//   - vlogscli: VictoriaLogs' own CLI running the same query
//     non-interactively (stdin), one JSON line per entry (\s), to /dev/null;
//     it decodes and re-encodes every line, and asks for gzip (Go's
//     default), so it is far slower than curl: at a million lines it needs
//     VictoriaLogs' -search.maxQueryDuration above the default 30 s, or its
//     answer is cut off;
//   - runlog.All: runlog's iterator over the step (default page size),
//     counting the entries, which must be -lines;
//   - runlog logs: `runlog logs RUN --step STEP -o jsonl` to /dev/null,
//     with a store registered in a scratch config.
//
// Every reader is a child process (runlog.All in a re-exec of this
// program) started through the small peakrss program, which reports its
// wall time and peak RSS (getrusage): all four are measured the same way,
// and none inherits this process's own peak (see peakrss). Before the
// timed rounds each reader runs once untimed, as a warm-up that also
// checks it returns every line. It prints the median
// seconds, lines/s and peak RSS of each, lines/s as a ratio to curl's, and
// whether runlog meets its targets (at least 0.7x curl's lines/s, peak RSS
// under 100 MB): a report, never a failure. Machines are shared and noisy:
// read the ratios, not the absolute numbers.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/bench/internal/figure"
	_ "github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/victorialogs"
)

const step = "big"

// The targets of runlog's readers, relative to the raw query.
const (
	targetRatio = 0.7   // of curl's lines/s, at least
	targetRSS   = 100e6 // bytes of peak RSS, under
)

var cleanup []func()

func main() {
	vl := flag.String("vl", "", "VictoriaLogs base URL (required)")
	otlp := flag.String("otlp", "", "base URL of the collector's OTLP/HTTP receiver (required)")
	vlogscli := flag.String("vlogscli", "", "path of the vlogscli binary (required)")
	runlogBin := flag.String("runlog", "", "path of the runlog CLI binary (required)")
	peakrss := flag.String("peakrss", "", "path of the peakrss binary (go build ./bench/vlfetch/peakrss; required)")
	lines := flag.Int("lines", 1000000, "records in the step")
	reps := flag.Int("reps", 5, "timed runs of each reader (median reported)")
	settle := flag.Duration("settle", 5*time.Second, "pause between ingesting and measuring, so that VictoriaLogs' flushes do not overlap")
	dir := flag.String("dir", "", "scratch directory (spools, CLI config, vlogscli history); default a temporary one, removed at exit")
	cpuprofile := flag.String("cpuprofile", "", "after measuring, run the iterator once more, untimed, writing its CPU profile here")
	freeports := flag.Int("freeports", 0, "print this many free loopback TCP ports, one a line, and exit")
	iterate := flag.String("iterate", "", "internal: read every entry of run RUN and step "+step+" with runlog.All; -lines is the count wanted")
	flag.Parse()

	if *freeports > 0 {
		fail(printFreePorts(*freeports))
		return
	}
	if *vl == "" || *otlp == "" {
		fail(errors.New("-vl and -otlp are required"))
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "runlog-vlfetch")
		fail(err)
		cleanup = append(cleanup, func() { os.RemoveAll(d) })
		*dir = d
	}
	defer func() {
		for _, f := range cleanup {
			f()
		}
	}()
	cfg := map[string]string{"url": *vl, "endpoint": *otlp, "spool_dir": filepath.Join(*dir, "spool"), "level": "debug"}
	if *iterate != "" {
		fail(iterateStep(cfg, *iterate, *lines, *cpuprofile))
		return
	}
	if *vlogscli == "" || *runlogBin == "" || *peakrss == "" {
		fail(errors.New("-vlogscli, -runlog and -peakrss are required"))
	}

	run := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	start := time.Now()
	fail(ingest(cfg, run, *lines))
	fmt.Printf("wrote %d records through the collector in %.1f s\n", *lines, time.Since(start).Seconds())
	start = time.Now()
	fail(waitCount(*vl, run, *lines))
	fmt.Printf("VictoriaLogs counted all %d after %.1f s more; settling %v\n", *lines, time.Since(start).Seconds(), *settle)
	time.Sleep(*settle)

	self, err := os.Executable()
	fail(err)
	query := stepQuery(run)
	cliEnv, err := registerStore(*runlogBin, *dir, *vl, *otlp)
	fail(err)
	readers := []reader{
		{name: "curl (raw LogsQL)", bin: "curl", prefix: "{", args: []string{"-sS", "--fail", "--data-urlencode", "query=" + query,
			"--data", "allow_partial_response=0", *vl + "/select/logsql/query"}},
		{name: "vlogscli", bin: *vlogscli, prefix: "{", stdin: "\\s\n" + query + "\n",
			args: []string{"-datasource.url=" + *vl + "/select/logsql/query", "-loggerLevel=WARN", "-historyFile=" + filepath.Join(*dir, "vlogscli-history")}},
		{name: "runlog.All", bin: self, runlog: true,
			args: []string{"-vl", *vl, "-otlp", *otlp, "-dir", *dir, "-lines", strconv.Itoa(*lines), "-iterate", run}},
		{name: "runlog logs -o jsonl", bin: *runlogBin, prefix: "{", env: cliEnv, runlog: true,
			args: []string{"logs", run, "--step", step, "-o", "jsonl", "--store", "bench"}},
	}

	fmt.Printf("query: %s\n", query)
	fmt.Printf("warm-up: each reader once, untimed, checking it returns %d lines\n", *lines)
	for i := range readers {
		fail(readers[i].check(*lines))
	}
	fmt.Printf("measuring: %d rounds of %d readers\n", *reps, len(readers))
	for i := range *reps {
		for j := range readers {
			r := &readers[(i+j)%len(readers)]
			r.ms = append(r.ms, r.measure(*peakrss))
		}
		fmt.Printf("  round %d/%d done\n", i+1, *reps)
	}
	report(readers, *lines, *reps)

	if *cpuprofile != "" {
		args := append(slices.Clone(readers[2].args), "-cpuprofile", *cpuprofile)
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		fail(cmd.Run())
		fmt.Printf("\nCPU profile of one more runlog.All run: %s (go tool pprof -top %s)\n", *cpuprofile, *cpuprofile)
	}
}

// stepQuery is the LogsQL query runlog's adapter sends for every entry of
// a whole step.
func stepQuery(run string) string {
	return victorialogs.LogsQL(runlog.Query{RunID: run, StepID: step})
}

// ingest writes lines records into run's step through the collector, the
// way a pipeline step logs.
func ingest(cfg map[string]string, run string, lines int) error {
	ctx := context.Background()
	store, err := runlog.Open(ctx, "victorialogs", cfg)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(slog.DiscardHandler))
	ctx, err = store.Activate(ctx, runlog.Scope{RunID: run, StepID: step})
	if err != nil {
		return err
	}
	for i := range lines {
		slog.InfoContext(ctx, "processed record", "i", i, "shard", i%16)
	}
	if err := store.Deactivate(ctx); err != nil {
		return err
	}
	if s, ok := store.(interface{ Stats() otelstore.Stats }); ok {
		st := s.Stats()
		if st.Dropped > 0 || st.Spooled > 0 {
			return fmt.Errorf("the collector did not take every record: %v", st)
		}
	}
	return nil
}

// waitCount polls VictoriaLogs until the step holds want entries.
func waitCount(vl, run string, want int) error {
	q := stepQuery(run) + " | stats count() N"
	deadline := time.Now().Add(5 * time.Minute)
	for {
		resp, err := http.PostForm(vl+"/select/logsql/query", url.Values{"query": {q}})
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("count: %s: %s", resp.Status, b)
		}
		var row struct{ N string }
		if err := json.Unmarshal(b, &row); err != nil {
			return fmt.Errorf("count: %v: %s", err, b)
		}
		n, _ := strconv.Atoi(row.N)
		if n == want {
			return nil
		}
		if n > want {
			return fmt.Errorf("VictoriaLogs counts %d entries in the step; want %d", n, want)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("VictoriaLogs counts %d of %d entries after 5 minutes", n, want)
		}
		time.Sleep(time.Second)
	}
}

// registerStore registers store "bench" for the runlog CLI in a config of
// its own under dir, and returns the environment to run the CLI with:
// nothing of the user's configuration or cache is read or written.
func registerStore(bin, dir, vl, otlp string) ([]string, error) {
	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"))
	cmd := exec.Command(bin, "log-store", "register", "bench", "--flavor", "victorialogs",
		"--url="+vl, "--endpoint="+otlp, "--spool_dir="+filepath.Join(dir, "spool-cli"))
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runlog log-store register: %v: %s", err, out)
	}
	return env, nil
}

type measure struct{ secs, rssMiB float64 }

type reader struct {
	name   string
	bin    string
	args   []string
	env    []string // nil: this process's
	stdin  string
	prefix string // check counts the output lines starting with it; "" when the reader checks itself
	runlog bool   // one of runlog's, held to the targets
	ms     []measure
}

func (r *reader) command() *exec.Cmd {
	cmd := exec.Command(r.bin, r.args...)
	cmd.Env = r.env
	if r.stdin != "" {
		cmd.Stdin = strings.NewReader(r.stdin)
	}
	cmd.Stderr = os.Stderr
	return cmd
}

// check runs the reader once and verifies that it returns lines entries.
func (r *reader) check(lines int) error {
	cmd := r.command()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	n, last := 0, ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		if r.prefix != "" && bytes.HasPrefix(sc.Bytes(), []byte(r.prefix)) {
			n++
		} else if len(sc.Bytes()) > 0 {
			last = sc.Text()
		}
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	if scanErr != nil {
		return fmt.Errorf("%s: %w", r.name, scanErr)
	}
	if r.prefix != "" && n != lines {
		return fmt.Errorf("%s returned %d lines; want %d (last other line: %q)", r.name, n, lines, last)
	}
	return nil
}

// measure runs the reader once under peakrss with its output to
// /dev/null and returns its wall time and peak RSS.
func (r *reader) measure(peakrss string) measure {
	cmd := r.command()
	cmd.Args = append([]string{peakrss, r.bin}, r.args...)
	cmd.Path = peakrss
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	fail(err)
	defer devnull.Close()
	cmd.Stdout = devnull
	pr, pw, err := os.Pipe()
	fail(err)
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw}
	err = cmd.Start()
	pw.Close()
	fail(err)
	report, err := io.ReadAll(pr)
	fail(err)
	fail(cmd.Wait())
	var code int
	var secs, kib float64
	if _, err := fmt.Sscan(string(report), &code, &secs, &kib); err != nil {
		fail(fmt.Errorf("%s: peakrss reported %q: %v", r.name, report, err))
	}
	if code != 0 {
		fail(fmt.Errorf("%s: exit status %d", r.name, code))
	}
	return measure{secs: secs, rssMiB: kib / 1024} // ru_maxrss is in KiB on Linux
}

func report(readers []reader, lines, reps int) {
	type row struct{ secs, lo, hi, rate, rss float64 }
	rows := make([]row, len(readers))
	for i, r := range readers {
		var secs, rss []float64
		for _, m := range r.ms {
			secs = append(secs, m.secs)
			rss = append(rss, m.rssMiB)
		}
		s := figure.Median(secs)
		rows[i] = row{secs: s, lo: slices.Min(secs), hi: slices.Max(secs), rate: float64(lines) / s, rss: figure.Median(rss)}
	}
	base := rows[0].rate
	fmt.Printf("\n== read of one %d-line step from VictoriaLogs, median of %d interleaved runs ==\n", lines, reps)
	fmt.Printf("%-22s %8s %15s %12s %9s %9s\n", "reader", "seconds", "(min-max)", "lines/s", "peak MiB", "vs curl")
	for i, r := range readers {
		x := rows[i]
		fmt.Printf("%-22s %8.2f %15s %12.0f %9.1f %8.2fx\n", r.name, x.secs, fmt.Sprintf("(%.2f-%.2f)", x.lo, x.hi), x.rate, x.rss, x.rate/base)
	}
	fmt.Printf("\ntargets: runlog >= %.1fx curl's lines/s, peak RSS < %.0f MB\n", targetRatio, targetRSS/1e6)
	for i, r := range readers {
		if !r.runlog {
			continue
		}
		x := rows[i]
		fmt.Printf("  %-22s lines/s %.2fx: %-8s  peak RSS %.1f MB: %s\n", r.name, x.rate/base, figure.Verdict(x.rate/base >= targetRatio),
			x.rss*(1<<20)/1e6, figure.Verdict(x.rss*(1<<20) < targetRSS))
	}
	// The same figures as lines for bench/summary (tab-separated: name,
	// value, baseline, unit, what the baseline is, target).
	fmt.Println()
	for i, r := range readers {
		if !r.runlog {
			continue
		}
		x, name := rows[i], fmt.Sprintf("VictoriaLogs, %s-line step: %s", figure.Short(lines), r.name)
		fmt.Println(figure.Row(name+", lines/s", x.rate, base, "lines/s", "curl", fmt.Sprintf("ratio>=%g", targetRatio)))
		fmt.Println(figure.Row(name+", peak RSS", x.rss*(1<<20)/1e6, rows[0].rss*(1<<20)/1e6, "MB", "curl", fmt.Sprintf("value<%g", targetRSS/1e6)))
	}
}

// iterateStep is the runlog.All reader: it counts every entry of run's
// step and fails unless there are want.
func iterateStep(cfg map[string]string, run string, want int, cpuprofile string) error {
	ctx := context.Background()
	store, err := runlog.Open(ctx, "victorialogs", cfg)
	if err != nil {
		return err
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	n := 0
	for _, err := range runlog.All(ctx, store, runlog.Query{RunID: run, StepID: step}) {
		if err != nil {
			return err
		}
		n++
	}
	if n != want {
		return fmt.Errorf("runlog.All returned %d entries; want %d", n, want)
	}
	return nil
}

// printFreePorts prints n distinct loopback TCP ports that nothing listens
// on right now.
func printFreePorts(n int) error {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "vlfetch:", err)
		for _, f := range cleanup {
			f()
		}
		os.Exit(1)
	}
}
