// Command summary runs every benchmark behind issue 17's figures and
// prints them as one table, each figure as a ratio to the baseline measured
// in the same run, with its target. `make bench` (bench/run.sh) builds the
// programs, starts VictoriaLogs and the collector, and runs it:
//
//	make bench                  # median of COUNT=5
//	QUICK=1 make bench          # small sizes, one run each: a fast try
//
// A figure comes from a source: a command that prints lines of the form
//
//	row <TAB> name <TAB> value <TAB> baseline <TAB> unit <TAB> what the baseline is <TAB> target
//
// (bench/execcost, bench/scale, bench/vlfetch print them), or a Go
// benchmark whose results are mapped to rows (goBench). Target is
// "ratio<=X", "ratio>=X", "value<X", "diff<X" (value - baseline) or "-".
// Adding a figure is one line in sources or in emitRows; a figure whose
// benchmark is not written yet is a placeholder that says so, never a
// number. Sources marked repeat run COUNT times and the table shows the
// median of each row's value, baseline and ratio; the others repeat inside
// (COUNT is passed on) or, being long, run once, as the table says.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog/bench/internal/figure"
)

// config is what a source's command is built from.
type config struct {
	quick                   bool
	count                   int
	bin                     string // directory of the built programs
	vl, otlp, vldata, vlcli string // the servers; vl empty: not started
	sizes                   string // bench/scale's sizes
	steps                   string // bench/scale's steps of the steps layout
	budget                  string // bench/scale's -budget
}

// source is one command printing rows, or a placeholder.
type source struct {
	name   string
	repeat bool   // run COUNT times; the median of each row is shown
	needVL bool   // needs VictoriaLogs and the collector
	todo   string // a placeholder: what will measure it
	rows   []string
	cmd    func(c config) []string
	// parse turns the command's output into rows; nil: its "row" lines.
	parse func(out []byte) []row
}

// sources are every figure of issue 17, in the order of its table.
var sources = []source{
	{name: "emit (go test -bench Emit ./bench/)", cmd: func(c config) []string {
		args := []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkEmit(Parallel)?$", "-benchmem", "-count", strconv.Itoa(c.count), "./bench/"}
		if c.quick {
			args = append(args, "-benchtime", "200ms")
		}
		return args
	}, parse: goBench(emitRows)},
	{name: "local read vs pdata decode (go test -bench ReadJSONL ./query/file/)", cmd: func(c config) []string {
		args := []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkReadJSONL$", "-benchmem", "-count", strconv.Itoa(c.count), "./query/file/"}
		if c.quick {
			args = append(args, "-benchtime", "1x")
		}
		return args
	}, parse: goBench(readRows)},
	{name: "local store: runlog logs, LogsURI, last page, on disk (bench/clilogs)", cmd: func(c config) []string {
		return []string{filepath.Join(c.bin, "clilogs"), "-lines", pick(c.quick, "100000", "1000000"), "-reps", pick(c.quick, "1", "3")}
	}},
	{name: "memory against --limit (bench/scale)", cmd: func(c config) []string {
		return []string{filepath.Join(c.bin, "scale"), "-runlog", filepath.Join(c.bin, "runlog"), "-peakrss", filepath.Join(c.bin, "peakrss"),
			"-stores", "local", "-layouts", "one", "-ops", "logs,logs-limit", "-sizes", pick(c.quick, "100000", "1000000")}
	}},
	{name: "1,000 concurrent steps (bench/steps)", cmd: func(c config) []string {
		return []string{filepath.Join(c.bin, "steps"), "-steps", "1000", "-lines", pick(c.quick, "200", "1000")}
	}},
	{name: "VictoriaLogs read vs curl (bench/vlfetch)", needVL: true, cmd: func(c config) []string {
		return []string{filepath.Join(c.bin, "vlfetch"), "-vl", c.vl, "-otlp", c.otlp, "-vlogscli", c.vlcli,
			"-runlog", filepath.Join(c.bin, "runlog"), "-peakrss", filepath.Join(c.bin, "peakrss"),
			"-lines", pick(c.quick, "100000", "1000000"), "-reps", strconv.Itoa(c.count), "-settle", pick(c.quick, "1s", "5s")}
	}},
	{name: "runlog exec overhead (bench/execcost)", cmd: func(c config) []string {
		return []string{filepath.Join(c.bin, "execcost"), "-runlog", filepath.Join(c.bin, "runlog"),
			"-reps-true", pick(c.quick, "7", "21"), "-reps-seq", strconv.Itoa(c.count)}
	}},
	{name: "10M-line run and on-disk size (bench/scale)", cmd: func(c config) []string {
		stores := "local"
		if c.vl != "" {
			stores = "local,victorialogs"
		}
		return []string{filepath.Join(c.bin, "scale"), "-runlog", filepath.Join(c.bin, "runlog"), "-peakrss", filepath.Join(c.bin, "peakrss"),
			"-stores", stores, "-vl", c.vl, "-otlp", c.otlp, "-vldata", c.vldata, "-sizes", c.sizes, "-steps", c.steps, "-budget", c.budget}
	}},
}

// emitRows are the figures of BenchmarkEmit (bench/emit_test.go).
var emitRows = []benchRow{
	{"emit, slog.Info with 3 attributes: ns/op vs raw otelslog + BatchProcessor", "Emit/runlog", "Emit/otelslog-raw", "ns/op", "ratio<=0.8"},
	{"emit: allocs/op vs raw otelslog + BatchProcessor", "Emit/runlog", "Emit/otelslog-raw", "allocs/op", "ratio<=1"},
	{"emit: ns/op vs slog.JSONHandler to io.Discard (the floor)", "Emit/runlog", "Emit/slog-json-discard", "ns/op", "-"},
	{"emit to files, lossless: ns/op vs raw otelslog to files (drops)", "Emit/runlog-file", "Emit/otelslog-raw-file", "ns/op", "-"},
	{"emit, 16 goroutines into one step: ns/op vs raw otelslog + BatchProcessor", "EmitParallel/runlog", "EmitParallel/otelslog-raw", "ns/op", "ratio<=0.8"},
	{"emit, 16 goroutines into 16 steps: ns/op vs 16 raw providers", "EmitParallel/runlog-16-steps", "EmitParallel/otelslog-raw-16-providers", "ns/op", "ratio<=0.8"},
}

// readRows are the figures of BenchmarkReadJSONL (query/file).
var readRows = []benchRow{
	{"local read: runlog.All + jsonl of a zstd step vs a pdata decode of its files", "ReadJSONL/runlog", "ReadJSONL/pdata", "ns/op", "ratio<=1.5"},
}

// benchRow maps a Go benchmark's metric to a row: the benchmark's value
// against its baseline benchmark's.
type benchRow struct{ name, bench, base, unit, target string }

// goBench parses `go test -bench` output into the rows of rs, one per
// -count run.
func goBench(rs []benchRow) func([]byte) []row {
	return func(out []byte) []row {
		vals := map[string][]float64{} // "bench unit"
		for l := range strings.SplitSeq(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
				continue
			}
			name := strings.TrimPrefix(f[0], "Benchmark")
			if i := strings.LastIndexByte(name, '-'); i > 0 {
				name = name[:i] // the GOMAXPROCS suffix
			}
			for i := 2; i+1 < len(f); i += 2 {
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					vals[name+" "+f[i+1]] = append(vals[name+" "+f[i+1]], v)
				}
			}
		}
		var rows []row
		for _, r := range rs {
			v, b := vals[r.bench+" "+r.unit], vals[r.base+" "+r.unit]
			for i := range min(len(v), len(b)) {
				rows = append(rows, row{name: r.name, value: v[i], baseline: b[i], unit: r.unit, base: r.base[strings.IndexByte(r.base, '/')+1:], target: r.target})
			}
		}
		return rows
	}
}

// row is one measured figure.
type row struct {
	name            string
	value, baseline float64
	unit, base      string
	target          string
}

func parseRows(out []byte) []row {
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 7 || f[0] != "row" {
			continue
		}
		v, err1 := strconv.ParseFloat(f[2], 64)
		b, err2 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		rows = append(rows, row{name: f[1], value: v, baseline: b, unit: f[4], base: f[5], target: f[6]})
	}
	return rows
}

func pick(quick bool, q, full string) string {
	if quick {
		return q
	}
	return full
}

func main() {
	var c config
	flag.BoolVar(&c.quick, "quick", false, "small sizes and one run each: a fast try")
	flag.IntVar(&c.count, "count", 5, "runs of each repeated figure (the median is shown)")
	flag.StringVar(&c.bin, "bin", "", "directory holding the built runlog, peakrss, scale, vlfetch and execcost (required)")
	flag.StringVar(&c.vl, "vl", "", "VictoriaLogs base URL (empty: its figures are skipped)")
	flag.StringVar(&c.otlp, "otlp", "", "the collector's OTLP/HTTP base URL")
	flag.StringVar(&c.vldata, "vldata", "", "VictoriaLogs' -storageDataPath")
	flag.StringVar(&c.vlcli, "vlogscli", "", "vlogscli binary")
	flag.StringVar(&c.sizes, "sizes", "1000000,10000000", "bench/scale's run sizes for the 10M-line figures")
	flag.StringVar(&c.steps, "steps", "100", "bench/scale's steps of the steps layout (QUICK: 10)")
	flag.StringVar(&c.budget, "budget", "3m", "bench/scale's -budget: a reader still running after it is stopped and reported so far")
	only := flag.String("only", "", "run only the sources whose name contains this text")
	skip := flag.String("skip", "", "skip the sources whose name contains this text")
	logFile := flag.String("log", "", "append every source's full output to this file (default: discarded)")
	flag.Parse()
	if c.bin == "" {
		fmt.Fprintln(os.Stderr, "summary: -bin is required (bench/run.sh builds the programs)")
		os.Exit(2)
	}
	if c.quick {
		c.count = 1
		if c.sizes == "1000000,10000000" {
			c.sizes = "20000,100000"
		}
		if c.steps == "100" {
			c.steps = "10" // on victorialogs each step waits about 2 s until its records can be read
		}
	}
	var log *os.File
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "summary:", err)
			os.Exit(1)
		}
		defer f.Close()
		log = f
	}

	type result struct {
		src  source
		rows []row
		runs int
		err  string
	}
	var results []result
	started := time.Now()
	for _, s := range sources {
		if *only != "" && !strings.Contains(s.name, *only) || *skip != "" && strings.Contains(s.name, *skip) {
			continue
		}
		res := result{src: s}
		switch {
		case s.todo != "":
		case s.needVL && c.vl == "":
			res.err = "skipped: VictoriaLogs and the collector were not started (bench/run.sh starts them)"
		default:
			runs := 1
			if s.repeat {
				runs = c.count
			}
			for i := range runs {
				argv := s.cmd(c)
				fmt.Fprintf(os.Stderr, "summary: %s (%d/%d): %s\n", s.name, i+1, runs, strings.Join(argv, " "))
				t0 := time.Now()
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if log != nil {
					fmt.Fprintf(log, "== %s (%d/%d): %s\n%s\n", s.name, i+1, runs, strings.Join(argv, " "), out)
				}
				if err != nil {
					tail := out[max(0, len(out)-2000):]
					res.err = fmt.Sprintf("failed: %v", err)
					fmt.Fprintf(os.Stderr, "summary: %s failed: %v; its output ended:\n%s\n", s.name, err, tail)
					break
				}
				parse := parseRows
				if s.parse != nil {
					parse = s.parse
				}
				rs := parse(out)
				if len(rs) == 0 {
					res.err = "failed: printed no rows"
				}
				res.rows = append(res.rows, rs...)
				res.runs++
				fmt.Fprintf(os.Stderr, "summary: %s took %.0f s\n", s.name, time.Since(t0).Seconds())
			}
		}
		results = append(results, res)
	}

	host, _ := os.Hostname()
	goVersion, _ := exec.Command("go", "env", "GOVERSION").Output()
	fmt.Printf("\n== runlog: every figure of issue 17 against its baseline in the same run ==\n")
	fmt.Printf("%s, %d cores, %s, %s; COUNT=%d%s; took %.0f s\n", host, runtime.NumCPU(), strings.TrimSpace(string(goVersion)),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), c.count, pick(c.quick, ", QUICK (small sizes: not the issue's figures)", ""), time.Since(started).Seconds())
	w := len("figure")
	for _, r := range results {
		for _, m := range r.rows {
			w = max(w, len(m.name))
		}
		for _, name := range r.src.rows {
			w = max(w, len(name))
		}
	}
	fmt.Printf("%-*s %14s %14s %-14s %9s %-11s %s\n", w, "figure", "runlog", "baseline", "(baseline is)", "ratio", "target", "")
	for _, r := range results {
		if r.src.todo != "" {
			for _, name := range r.src.rows {
				fmt.Printf("%-*s %14s %14s %-14s %9s %-11s %s\n", w, name, "-", "-", "", "-", "", r.src.todo)
			}
			continue
		}
		if r.err != "" && len(r.rows) == 0 {
			fmt.Printf("%-*s %s\n", w, r.src.name, r.err)
			continue
		}
		for _, m := range medians(r.rows) {
			fmt.Printf("%-*s %14s %14s %-14s %8.2fx %-11s %s\n", w, m.name, num(m.value, m.unit), num(m.baseline, m.unit), trunc(m.base, 14), m.ratio, m.target, m.verdict())
		}
		if r.err != "" {
			fmt.Printf("%-*s %s\n", w, r.src.name, r.err)
		}
	}
	fmt.Println("\nratio = runlog / baseline; lines/s rows are rates (higher is better), the others costs (lower is better).")
	fmt.Println("Repeated figures are medians of COUNT runs; bench/scale's 10M-line figures are one run (minutes each); see docs/performance.md.")
}

// summed is one row's median over the runs.
type summed struct {
	row
	ratio float64
}

func (m summed) verdict() string {
	op, lim, ok := parseTarget(m.target)
	if !ok {
		return ""
	}
	var x float64
	switch op.kind {
	case "ratio":
		x = m.ratio
	case "value":
		x = m.value
	case "diff":
		x = m.value - m.baseline
	}
	met := map[string]bool{"<=": x <= lim, ">=": x >= lim, "<": x < lim, ">": x > lim}[op.cmp]
	if met {
		return "met"
	}
	return "NOT met"
}

type targetOp struct{ kind, cmp string }

// parseTarget reads "ratio<=0.8", "value<100", "diff<20".
func parseTarget(t string) (targetOp, float64, bool) {
	for _, kind := range []string{"ratio", "value", "diff"} {
		rest, ok := strings.CutPrefix(t, kind)
		if !ok {
			continue
		}
		for _, cmp := range []string{"<=", ">=", "<", ">"} {
			if num, ok := strings.CutPrefix(rest, cmp); ok {
				v, err := strconv.ParseFloat(num, 64)
				return targetOp{kind, cmp}, v, err == nil
			}
		}
	}
	return targetOp{}, 0, false
}

// medians folds the runs of each row into its medians, in first-seen
// order.
func medians(rows []row) []summed {
	var order []string
	by := map[string][]row{}
	for _, r := range rows {
		if _, ok := by[r.name]; !ok {
			order = append(order, r.name)
		}
		by[r.name] = append(by[r.name], r)
	}
	var out []summed
	for _, name := range order {
		rs := by[name]
		var v, b, q []float64
		for _, r := range rs {
			v, b = append(v, r.value), append(b, r.baseline)
			if r.baseline != 0 {
				q = append(q, r.value/r.baseline)
			}
		}
		m := summed{row: rs[0]}
		m.value, m.baseline = figure.Median(v), figure.Median(b)
		if len(q) > 0 {
			m.ratio = figure.Median(q)
		}
		out = append(out, m)
	}
	return out
}

// num writes a value with its unit, compactly.
func num(v float64, unit string) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M " + unit
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k " + unit
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64) + " " + unit
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + " " + unit
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
