//go:build linux

// Command scale writes runs of millions of lines and reads them back with
// every reader runlog has, to show whether time grows linearly with the
// lines and peak memory stays flat (issue 17: a 10,000,000-line run, each
// reader under 100 MB of peak RSS). bench/run.sh scale runs it, starting
// VictoriaLogs and the collector when victorialogs is among the stores:
//
//	SIZES="1000000 5000000 10000000" bench/run.sh scale
//
// For every store, layout and size it writes one run at the rate a real
// step writes it: `runlog exec --run R --step S -- seq 1 N`, one step of N
// lines ("one") or, with -layouts steps, -steps steps of N/-steps lines
// each, one exec after the other. On victorialogs (the CLI's victorialogs
// flavor, exporting to the collector) it then waits until VictoriaLogs
// counts every record. Then it reads the whole run back, once per reader:
//
//   - logs: `runlog logs R -o jsonl`;
//   - iterator: runlog.All over the run through the flavor's fetcher, in a
//     child process (this program re-executed with -iterate);
//   - check: `runlog check R`;
//   - download: GET /api/v1/runs/R/logs/download?format=jsonl from a
//     fresh `runlog serve` (its peak RSS is the server's VmHWM).
//
// Every reader's output goes through a pipe into this program, which
// counts the lines (so nothing is faster for writing to /dev/null, and
// every answer is checked: N lines plus one "process exited" record per
// step). Time is wall time; peak RSS is getrusage's of the child (through
// bench/vlfetch/peakrss, so that this program's own size does not leak
// into it). A reader still running after -budget is killed and reported
// with its rate and peak RSS so far. It prints one table, the rate of the
// largest size as a ratio to the smallest's (1.00x: linear), and the
// figures as "row" lines for bench/summary. It never fails on a target,
// only on a wrong answer (a runlog check that says "not complete" of a run
// whose records are all there is reported, not fatal).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/bench/internal/figure"
	_ "github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/query/victorialogs"
)

// targetRSS is the peak RSS every reader must stay under, at any size.
const targetRSS = 100e6

var (
	budget                time.Duration // a reader still running after it is stopped; 0: none
	runlogBin, peakrssBin string
	env                   []string
	dir                   string
)

func main() {
	sizes := flag.String("sizes", "1000000,5000000,10000000", "run sizes in lines, separated by commas or spaces")
	storesFlag := flag.String("stores", "local", "stores: local, victorialogs (needs -vl and -otlp)")
	layouts := flag.String("layouts", "one,steps", "layouts: one (a step of N lines), steps (-steps steps of N/-steps lines)")
	steps := flag.Int("steps", 100, "steps of the steps layout")
	ops := flag.String("ops", "logs,iterator,check,download", "readers: logs, iterator, check, download, logs-limit (runlog logs --limit 2N: memory against a flag)")
	vl := flag.String("vl", "", "VictoriaLogs base URL")
	vldata := flag.String("vldata", "", "VictoriaLogs' -storageDataPath, to measure its bytes per line")
	otlp := flag.String("otlp", "", "the collector's OTLP/HTTP base URL")
	flag.StringVar(&runlogBin, "runlog", "", "runlog CLI binary (required)")
	flag.StringVar(&peakrssBin, "peakrss", "", "peakrss binary (go build ./bench/vlfetch/peakrss; required)")
	flag.DurationVar(&budget, "budget", 0, "stop a reader still running after this long and report how far it got (0: wait)")
	flag.StringVar(&dir, "dir", "", "scratch directory (default: a temporary one, removed at exit)")
	iterate := flag.String("iterate", "", "internal: count the entries of run RUN with runlog.All through -flavor's fetcher, print the count")
	flavor := flag.String("flavor", "local", "internal, with -iterate: local or victorialogs")
	flag.Parse()

	if *iterate != "" {
		fail(iterateRun(*flavor, *iterate, *vl))
		return
	}
	if runlogBin == "" || peakrssBin == "" {
		fail(errors.New("-runlog and -peakrss are required"))
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "runlog-scale")
		fail(err)
		defer os.RemoveAll(d)
		dir = d
	}
	home := filepath.Join(dir, "home")
	env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"), "RUNLOG_DATA_DIR="+filepath.Join(dir, "data"))

	var ns []int
	for _, f := range fields(*sizes) {
		n, err := strconv.Atoi(f)
		fail(err)
		ns = append(ns, n)
	}
	stores := fields(*storesFlag)
	if slices.Contains(stores, "victorialogs") {
		if *vl == "" || *otlp == "" {
			fail(errors.New("the victorialogs store needs -vl and -otlp (bench/run.sh scale starts both)"))
		}
		fail(cli(nil, "log-store", "register", "vl", "--flavor", "victorialogs", "--url="+*vl, "--endpoint="+*otlp,
			"--spool_dir="+filepath.Join(dir, "spool")))
	}

	var results []result
	for _, store := range stores {
		for _, layout := range fields(*layouts) {
			nsteps := 1
			if layout == "steps" {
				nsteps = *steps
			} else if layout != "one" {
				fail(fmt.Errorf("layout %q: want one or steps", layout))
			}
			for _, n := range ns {
				if n%nsteps != 0 {
					fail(fmt.Errorf("size %d is not a multiple of %d steps", n, nsteps))
				}
				c := runCase{store: store, layout: layout, lines: n, steps: nsteps, vl: *vl, vldata: *vldata,
					run: fmt.Sprintf("scale-%s-%s-%d-%s", store, layout, n, strconv.FormatInt(time.Now().UnixNano(), 36))}
				rs := c.measure(fields(*ops))
				results = append(results, rs...)
				c.remove()
			}
		}
	}
	report(results, ns)
}

func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// runCase is one run written and read back.
type runCase struct {
	store, layout string
	lines, steps  int
	run           string
	vl, vldata    string
}

// want is the number of entries of the run: the lines, and the
// "process exited" record of each step.
func (c runCase) want() int { return c.lines + c.steps }

func (c runCase) storeName() string {
	if c.store == "victorialogs" {
		return "vl"
	}
	return "local"
}

// result is one measured operation.
type result struct {
	store, layout, op string
	size, steps       int // the run's lines, as asked, and its steps
	lines             int // entries handled
	secs, rssMiB      float64
	stopped           bool // after -budget, having read got entries (-1: unknown)
	got               int
	wrong             bool    // runlog check said "not complete" of a run that is
	bytesPerLine      float64 // write only: on disk
	baseBytesPerLine  float64 // write only: VictoriaLogs' on disk, when measured
}

func (c runCase) measure(ops []string) []result {
	fmt.Printf("%s %s %d lines (%d step(s)):\n", c.store, c.layout, c.lines, c.steps)
	w := c.write()
	fmt.Printf("  %-9s %8.2f s %12.0f lines/s %8.1f MiB\n", "write", w.secs, float64(w.lines)/w.secs, w.rssMiB)
	out := []result{w}
	for _, op := range ops {
		r := result{store: c.store, layout: c.layout, op: op, size: c.lines, steps: c.steps, lines: c.want()}
		var m measured
		switch op {
		case "logs":
			m = c.child(runlogBin, "logs", c.run, "-o", "jsonl", "--store", c.storeName())
		case "logs-limit":
			m = c.child(runlogBin, "logs", c.run, "-o", "jsonl", "--limit", strconv.Itoa(2*c.want()), "--store", c.storeName())
		case "iterator":
			self, err := os.Executable()
			fail(err)
			m = c.child(self, "-iterate", c.run, "-flavor", c.store, "-vl", c.vl)
			m.lines, _ = strconv.Atoi(strings.TrimSpace(m.firstLine))
			if m.stopped {
				m.lines = -1
			}
		case "check":
			// Exit 0: every step complete; 5: not all. A wrong verdict is a
			// finding to report, not a reason to stop measuring.
			m = c.child(runlogBin, "check", c.run, "--store", c.storeName())
			m.lines = c.want()
			if m.stopped {
				m.lines = -1
			}
			if m.code != 0 {
				var bad []string
				for l := range strings.SplitSeq(m.all, "\n") {
					if l != "" && !strings.Contains(l, ": complete, ") {
						bad = append(bad, l)
					}
				}
				fmt.Printf("  check     WRONG: exit status %d although every record is there; %d line(s) not complete:\n", m.code, len(bad))
				for _, l := range bad[:min(len(bad), 10)] {
					fmt.Printf("            %s\n", l)
				}
				r.wrong = true
			}
		case "download":
			m = c.download()
		default:
			fail(fmt.Errorf("reader %q: want logs, logs-limit, iterator, check or download", op))
		}
		r.secs, r.rssMiB, r.stopped, r.got = m.secs, m.rssMiB, m.stopped, m.lines
		if r.stopped {
			fmt.Printf("  %-9s stopped after %v, %s of %d entries read, %8.1f MiB so far\n", op, budget, gotText(r.got), r.lines, r.rssMiB)
			if r.got > 0 {
				r.lines = r.got // the rate so far
			}
			out = append(out, r)
			continue
		}
		if m.lines != c.want() {
			fail(fmt.Errorf("%s of run %s returned %d entries; want %d", op, c.run, m.lines, c.want()))
		}
		fmt.Printf("  %-9s %8.2f s %12.0f lines/s %8.1f MiB\n", op, r.secs, float64(r.lines)/r.secs, r.rssMiB)
		out = append(out, r)
	}
	return out
}

// write stores the run with runlog exec, the way a CI step would.
func (c runCase) write() result {
	before := c.vlBytes()
	r := result{store: c.store, layout: c.layout, op: "write", size: c.lines, steps: c.steps, lines: c.want()}
	per := c.lines / c.steps
	for i := range c.steps {
		m := c.child(runlogBin, "exec", "--store", c.storeName(), "--run", c.run, "--step", fmt.Sprintf("s%03d", i),
			"--", "seq", "1", strconv.Itoa(per))
		r.secs += m.secs
		r.rssMiB = max(r.rssMiB, m.rssMiB)
	}
	if c.store == "victorialogs" {
		start := time.Now()
		fail(c.waitCount())
		fmt.Printf("  (VictoriaLogs counted every record %.1f s after the last exec; not in write's time)\n", time.Since(start).Seconds())
		if c.vldata != "" {
			_, _ = http.Get(c.vl + "/internal/force_flush")
			time.Sleep(2 * time.Second)
			r.bytesPerLine = float64(c.vlBytes()-before) / float64(c.want())
		}
		return r
	}
	r.bytesPerLine = float64(dirBytes(c.runDir())) / float64(c.want())
	return r
}

// runDir is the local store's directory of the run.
func (c runCase) runDir() string {
	return filepath.Join(dir, "data", "runs", layout.Key(c.run))
}

func (c runCase) vlBytes() int64 {
	if c.store != "victorialogs" || c.vldata == "" {
		return 0
	}
	return dirBytes(c.vldata)
}

// remove deletes a local run once measured: ten million lines take
// gigabytes.
func (c runCase) remove() {
	if c.store == "local" {
		os.RemoveAll(c.runDir())
	}
}

func dirBytes(root string) int64 {
	var n int64
	filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// waitCount polls VictoriaLogs until the run holds every entry.
func (c runCase) waitCount() error {
	q := victorialogs.LogsQL(runlog.Query{RunID: c.run}) + " | stats count() N"
	deadline := time.Now().Add(10 * time.Minute)
	for {
		resp, err := http.PostForm(c.vl+"/select/logsql/query", url.Values{"query": {q}})
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var row struct{ N string }
		if err := json.Unmarshal(b, &row); err != nil {
			return fmt.Errorf("count: %s: %v: %s", resp.Status, err, b)
		}
		n, _ := strconv.Atoi(row.N)
		switch {
		case n == c.want():
			return nil
		case n > c.want():
			return fmt.Errorf("VictoriaLogs counts %d entries in run %s; want %d", n, c.run, c.want())
		case time.Now().After(deadline):
			return fmt.Errorf("VictoriaLogs counts %d of %d entries after 10 minutes", n, c.want())
		}
		time.Sleep(time.Second)
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func gotText(n int) string {
	if n < 0 {
		return "an unknown number"
	}
	return strconv.Itoa(n)
}

// measured is what a child process did.
type measured struct {
	stopped      bool   // after -budget
	code         int    // exit status, when allowed (runlog check's 5)
	lines        int    // lines it wrote to stdout
	firstLine    string // its first line
	all          string // its first 256 KiB
	secs, rssMiB float64
}

// child runs bin under peakrss, counting its output lines through a pipe.
func (c runCase) child(bin string, args ...string) measured {
	cmd := exec.Command(peakrssBin, append([]string{bin}, args...)...)
	cmd.Env, cmd.Stderr = env, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that a stop reaches the reader too
	out, err := cmd.StdoutPipe()
	fail(err)
	pr, pw, err := os.Pipe()
	fail(err)
	defer pr.Close()
	cmd.ExtraFiles = []*os.File{pw}
	err = cmd.Start()
	pw.Close()
	fail(err)
	var (
		m  measured
		mu sync.Mutex // m's stop fields, set by the timer
	)
	if budget > 0 {
		start := time.Now()
		t := time.AfterFunc(budget, func() {
			mu.Lock()
			defer mu.Unlock()
			// peakrss cannot report a reader that is killed: its peak so
			// far is read first.
			if kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(kids))); err == nil {
					m.rssMiB = vmHWM(pid)
				}
			}
			m.stopped, m.secs = true, time.Since(start).Seconds()
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		})
		defer t.Stop()
	}
	var head bytes.Buffer
	buf := make([]byte, 256<<10)
	for {
		k, err := out.Read(buf)
		m.lines += bytes.Count(buf[:k], []byte{'\n'})
		if head.Len() < 256<<10 {
			head.Write(buf[:min(k, 256<<10-head.Len())])
		}
		if err != nil {
			break
		}
	}
	report, err := io.ReadAll(pr)
	fail(err)
	werr := cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	if m.stopped {
		m.all = head.String()
		return m
	}
	fail(werr)
	var code int
	var kib float64
	if _, err := fmt.Sscan(string(report), &code, &m.secs, &kib); err != nil {
		fail(fmt.Errorf("%s %v: peakrss reported %q: %v", bin, args, report, err))
	}
	m.code = code
	if code != 0 && !(code == 5 && len(args) > 0 && args[0] == "check") {
		fail(fmt.Errorf("%s %s: exit status %d: %s", filepath.Base(bin), strings.Join(args, " "), code, trunc(head.String(), 2000)))
	}
	m.all = head.String()
	m.firstLine, _, _ = strings.Cut(m.all, "\n")
	m.rssMiB = kib / 1024 // ru_maxrss is in KiB on Linux
	return m
}

// download reads the run from a fresh runlog serve.
func (c runCase) download() (m measured) {
	addrFile := filepath.Join(dir, "addr")
	os.Remove(addrFile)
	cmd := exec.Command(runlogBin, "serve", "--store", c.storeName(), "--addr", "127.0.0.1:0", "--addr-file", addrFile)
	cmd.Env, cmd.Stderr = env, os.Stderr
	fail(cmd.Start())
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var addr string
	for range 400 {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			addr = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if addr == "" {
		fail(errors.New("runlog serve did not write its address within 10 s"))
	}
	start := time.Now()
	var stopped atomic.Bool
	if budget > 0 {
		t := time.AfterFunc(budget, func() {
			m.rssMiB = vmHWM(cmd.Process.Pid)
			stopped.Store(true)
			cmd.Process.Kill()
		})
		defer t.Stop()
	}
	resp, err := http.Get("http://" + addr + "/api/v1/runs/" + url.PathEscape(c.run) + "/logs/download?format=jsonl")
	fail(err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		fail(fmt.Errorf("download: %s: %s", resp.Status, b))
	}
	buf := make([]byte, 256<<10)
	for {
		k, err := resp.Body.Read(buf)
		m.lines += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			break
		}
	}
	m.secs = time.Since(start).Seconds()
	if m.stopped = stopped.Load(); !m.stopped {
		m.rssMiB = vmHWM(cmd.Process.Pid)
	}
	return m
}

// vmHWM is a live process's peak RSS in MiB.
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0 // gone
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// cli runs the runlog CLI with the benchmark's environment.
func cli(stdout io.Writer, args ...string) error {
	cmd := exec.Command(runlogBin, args...)
	cmd.Env, cmd.Stdout = env, stdout
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("runlog %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// iterateRun is the iterator reader: it counts every entry of run.
func iterateRun(flavor, run, vl string) error {
	ctx := context.Background()
	cfg := map[string]string{}
	switch flavor {
	case "local":
		cfg["dir"] = os.Getenv("RUNLOG_DATA_DIR")
	case "victorialogs":
		cfg["url"] = vl
	}
	f, err := runlog.OpenFetcher(ctx, flavor, cfg)
	if err != nil {
		return err
	}
	n := 0
	for _, err := range runlog.All(ctx, f, runlog.Query{RunID: run}) {
		if err != nil {
			return err
		}
		n++
	}
	fmt.Println(n)
	return nil
}

func report(results []result, sizes []int) {
	lo, hi := slices.Min(sizes), slices.Max(sizes)
	fmt.Printf("\n== %s-line runs written and read back: wall time, lines/s, peak RSS ==\n", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(sizes)), " / "), "[]"))
	fmt.Printf("%-13s %-6s %-10s %10s %9s %12s %9s %8s\n", "store", "layout", "op", "lines", "seconds", "lines/s", "peak MiB", "B/line")
	for _, r := range results {
		bpl := ""
		if r.bytesPerLine > 0 {
			bpl = fmt.Sprintf("%.0f", r.bytesPerLine)
		}
		rate := fmt.Sprintf("%.0f", float64(r.lines)/r.secs)
		if r.stopped {
			rate = "stopped"
			if r.got > 0 {
				rate = fmt.Sprintf("%.0f*", float64(r.got)/r.secs)
			}
		}
		fmt.Printf("%-13s %-6s %-10s %10d %9.2f %12s %9.1f %8s\n", r.store, r.layout, r.op, r.lines, r.secs, rate, r.rssMiB, bpl)
	}
	var rows []string
	// Memory against a flag: --limit 2N next to the default page size.
	for _, r := range results {
		if r.op != "logs-limit" {
			continue
		}
		for _, b := range results {
			if b.op == "logs" && b.store == r.store && b.layout == r.layout && b.size == r.size {
				rows = append(rows, figure.Row(fmt.Sprintf("%s-line run, %s, %s: runlog logs --limit %s, peak RSS", figure.Short(r.size), r.store, layoutName(r.layout, r.steps), figure.Short(2*r.lines)),
					r.rssMiB*(1<<20)/1e6, b.rssMiB*(1<<20)/1e6, "MB", "default --limit", "value<100"))
			}
		}
	}
	defer func() {
		fmt.Println()
		for _, l := range rows {
			fmt.Println(l)
		}
	}()
	if budget > 0 {
		fmt.Printf("(stopped: the reader was still running after -budget %v and was killed; * the rate of what it had read by then)\n", budget)
	}
	if lo == hi {
		return
	}
	fmt.Printf("\n== linearity: lines/s at %d as a ratio to lines/s at %d (1.00x: time linear in lines); peak RSS at %d (target < %.0f MB) ==\n", hi, lo, hi, targetRSS/1e6)
	find := func(store, layout, op string, n int) (result, bool) {
		for _, r := range results {
			if r.store == store && r.layout == layout && r.op == op && r.size == n {
				return r, true
			}
		}
		return result{}, false
	}
	for _, r := range results {
		if r.size != hi {
			continue
		}
		small, ok := find(r.store, r.layout, r.op, lo)
		if !ok {
			continue
		}
		rate, rate0 := float64(r.lines)/r.secs, float64(small.lines)/small.secs
		if r.stopped && r.got < 0 || small.stopped && small.got < 0 {
			rate = 0 // unknown
		}
		fmt.Printf("%-13s %-6s %-10s %6.2fx   peak %7.1f MiB (%.1f at %d): %s\n", r.store, r.layout, r.op, rate/rate0, r.rssMiB, small.rssMiB, lo,
			figure.Verdict(r.op == "write" || r.rssMiB*(1<<20) < targetRSS))
		name := fmt.Sprintf("%s-line run, %s, %s: %s", figure.Short(hi), r.store, layoutName(r.layout, r.steps), opName[r.op])
		if r.stopped || small.stopped {
			name += fmt.Sprintf(" (stopped after %v)", budget)
		}
		if r.wrong || small.wrong {
			name += " (WRONG verdict: not complete)"
		}
		if rate > 0 {
			rows = append(rows, figure.Row(name+", lines/s", rate, rate0, "lines/s", "at "+figure.Short(lo), "ratio>=0.8"))
		}
		if r.op != "write" {
			rows = append(rows, figure.Row(name+", peak RSS", r.rssMiB*(1<<20)/1e6, small.rssMiB*(1<<20)/1e6, "MB", "at "+figure.Short(lo), "value<100"))
		}
	}
	for _, r := range results {
		if r.op == "write" && r.store == "local" && r.layout == "one" && r.size == hi {
			var vlb float64
			for _, v := range results {
				if v.op == "write" && v.store == "victorialogs" && v.layout == "one" && v.size == r.size {
					vlb = v.bytesPerLine
				}
			}
			if vlb > 0 {
				rows = append(rows, figure.Row("on disk bytes/line, local vs VictoriaLogs ("+figure.Short(hi)+" lines of seq)", r.bytesPerLine, vlb, "B", "VictoriaLogs", "value<100"))
			}
		}
	}
}

// opName names the operations in rows.
var opName = map[string]string{"write": "runlog exec -- seq", "logs": "runlog logs -o jsonl", "logs-limit": "runlog logs --limit 2N",
	"iterator": "runlog.All", "check": "runlog check", "download": "serve download"}

func layoutName(layout string, steps int) string {
	if steps == 1 {
		return "1 step"
	}
	return strconv.Itoa(steps) + " steps"
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}
