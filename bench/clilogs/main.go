//go:build unix

// Command clilogs measures the local store at scale: it captures a
// program printing N lines with `runlog exec`, then, each in a child
// process (wall time and peak RSS from getrusage), measures
//
//   - the floor: a plain pdata decode (plog.JSONUnmarshaler) of the same
//     files, zstd frames decompressed first, counting records;
//   - `runlog logs RUN -o jsonl` to /dev/null, on the store as written
//     (zstd frames) and on a copy in the old plain-lines format, and with
//     --limit 2000000, whose peak RSS must stay that of the default page;
//   - the same files read as a foreign OTLP JSON file through LogsURI
//     (concatenated into one file, as the collector's file exporter
//     writes), plain and zstd, with runlog.All;
//   - the last page (100 entries, Direction backward) of the step, as the
//     viewer's jump to the end does;
//
// and prints bytes per line on disk, the ratios to the floor, and whether
// the targets of issue 17 are met (reading within 1.5x of the pdata
// decode, under 100 bytes a short line, peak RSS under 100 MB). It never
// fails on a target.
//
//	go run ./bench/clilogs [-lines 1000000] [-reps 3]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/bench/internal/figure"
	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/query/file"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines in the run")
	reps := flag.Int("reps", 3, "runs of each reader; the median is printed")
	floor := flag.Bool("floor", false, "child: decode the files given with pdata")
	foreign := flag.String("foreign", "", "child: read this LogsURI with runlog.All")
	last := flag.String("last", "", "child: read the last page of run big under this data directory")
	cpuprofile := flag.String("cpuprofile", "", "child modes: write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	switch {
	case *floor:
		decodeFloor(flag.Args())
		return
	case *foreign != "":
		readForeign(*foreign)
		return
	case *last != "":
		readLast(*last)
		return
	}

	dir, err := os.MkdirTemp("", "runlog-clilogs")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "runlog")
	check(exec.Command("go", "build", "-o", bin, "./cmd/runlog").Run())
	self, err := os.Executable()
	check(err)
	data, plain := filepath.Join(dir, "data"), filepath.Join(dir, "plain")
	env := func(root string) []string {
		return append(os.Environ(), "RUNLOG_DATA_DIR="+root, "RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"))
	}

	start := time.Now()
	capture := exec.Command(bin, "exec", "--run", "big", "--step", "s", "--", "seq", "1", strconv.Itoa(*lines))
	capture.Env = env(data)
	check(capture.Run())
	fmt.Printf("captured %d lines with runlog exec in %.1f s\n", *lines, time.Since(start).Seconds())

	files, _ := filepath.Glob(filepath.Join(data, "runs", "*", "*", "*.jsonl"))
	zsize := int64(0)
	for _, f := range files {
		fi, err := os.Stat(f)
		check(err)
		zsize += fi.Size()
	}
	// The old format: the same files decompressed, under the same layout;
	// and the foreign files: all of it in one file, as a collector writes.
	var plainFiles []string
	psize := int64(0)
	foreignPlain, foreignZstd := filepath.Join(dir, "collector.json"), filepath.Join(dir, "collector.json.zst")
	fp, err := os.Create(foreignPlain)
	check(err)
	fz, err := os.Create(foreignZstd)
	check(err)
	for _, f := range files {
		rel, _ := filepath.Rel(data, f)
		out := filepath.Join(plain, rel)
		check(os.MkdirAll(filepath.Dir(out), 0o750))
		psize += decompressTo(f, out, fp)
		plainFiles = append(plainFiles, out)
		in, err := os.Open(f)
		check(err)
		_, err = io.Copy(fz, in)
		check(err)
		in.Close()
	}
	check(fp.Close())
	check(fz.Close())
	n := float64(*lines)
	fmt.Printf("\n== on disk: %d lines of seq ==\n", *lines)
	fmt.Printf("zstd frames (the local format)  %10d bytes  %6.1f B/line\n", zsize, float64(zsize)/n)
	fmt.Printf("plain OTLP JSON lines (old)     %10d bytes  %6.1f B/line\n", psize, float64(psize)/n)

	type row struct {
		name       string
		secs, rss  float64
		base       string
		targetRSS  bool
		targetTime float64
	}
	run := func(name, base string, targetTime float64, targetRSS bool, mk func() *exec.Cmd) row {
		var ts, rs []float64
		for range *reps {
			s, r := measure(mk())
			ts, rs = append(ts, s), append(rs, r)
		}
		return row{name: name, secs: figure.Median(ts), rss: slices.Max(rs), base: base, targetTime: targetTime, targetRSS: targetRSS}
	}
	cmd := func(e []string, name string, args ...string) func() *exec.Cmd {
		return func() *exec.Cmd { c := exec.Command(name, args...); c.Env = e; return c }
	}
	rows := []row{
		run("pdata decode, zstd", "", 0, false, cmd(nil, self, append([]string{"-floor"}, files...)...)),
		run("runlog logs -o jsonl, zstd", "pdata decode, zstd", 1.5, true, cmd(env(data), bin, "logs", "big", "-o", "jsonl")),
		// Memory must not follow the flags: --limit asks for bigger pages,
		// which the CLI caps (runlog.MaxPage).
		run("--limit 2000000, zstd", "runlog logs -o jsonl, zstd", 0, true, cmd(env(data), bin, "logs", "big", "-o", "jsonl", "--limit", "2000000")),
		run("pdata decode, plain", "", 0, false, cmd(nil, self, append([]string{"-floor"}, plainFiles...)...)),
		run("runlog logs -o jsonl, plain", "pdata decode, plain", 1.5, true, cmd(env(plain), bin, "logs", "big", "-o", "jsonl")),
		run("LogsURI, plain file", "pdata decode, plain", 0, true, cmd(nil, self, "-foreign", foreignPlain)),
		run("LogsURI, zstd file", "pdata decode, zstd", 0, true, cmd(nil, self, "-foreign", foreignZstd)),
		run("last page (backward)", "", 0, true, cmd(nil, self, "-last", data)),
	}
	secs := map[string]float64{}
	fmt.Printf("\n== reading a %d-line step (median of %d, children to /dev/null) ==\n", *lines, *reps)
	fmt.Printf("%-28s %8s %12s %9s  %s\n", "reader", "cpu s", "lines/cpu s", "peak MiB", "ratio")
	for _, r := range rows {
		secs[r.name] = r.secs
		ratio, verdict := "", ""
		if r.base != "" {
			x := r.secs / secs[r.base]
			ratio = fmt.Sprintf("%.2fx %s", x, r.base)
			if r.targetTime > 0 {
				verdict = fmt.Sprintf(" (target <= %.1fx: %s)", r.targetTime, figure.Verdict(x <= r.targetTime))
			}
		}
		if r.targetRSS {
			verdict += fmt.Sprintf(" (peak < 100 MB: %s)", figure.Verdict(r.rss*1.048576 < 100))
		}
		fmt.Printf("%-28s %8.2f %12.0f %9.1f  %s%s\n", r.name, r.secs, n/r.secs, r.rss, ratio, verdict)
	}
	// Rows for make bench's table (bench/summary): CPU seconds against the
	// pdata floor, peak RSS against the 100 MB target.
	for _, r := range rows {
		if r.base != "" && r.targetTime > 0 {
			fmt.Println(figure.Row("local "+r.name+": CPU s vs pdata decode", r.secs, secs[r.base], "s", "pdata", fmt.Sprintf("ratio<=%g", r.targetTime)))
		}
		if r.targetRSS {
			fmt.Println(figure.Row("local "+r.name+": peak RSS", r.rss*1.048576, 100, "MB", "100 MB", "value<100"))
		}
	}
	fmt.Println(figure.Row("local store on disk: bytes/line of seq", float64(zsize)/n, 100, "B/line", "100 B", "value<100"))
	fmt.Printf("\nzstd read / plain read (runlog logs): %.2fx; on disk %.1f B/line (target < 100: %s)\n",
		secs["runlog logs -o jsonl, zstd"]/secs["runlog logs -o jsonl, plain"], float64(zsize)/n, figure.Verdict(float64(zsize)/n < 100))
}

// decompressTo writes the lines of the record file in (zstd frames) to
// out, and appends them to all; it returns their size.
func decompressTo(in, out string, all io.Writer) int64 {
	f, err := os.Open(in)
	check(err)
	defer f.Close()
	zr, err := framing.NewReader(bufio.NewReader(f))
	check(err)
	defer zr.Close()
	o, err := os.Create(out)
	check(err)
	n, err := io.Copy(io.MultiWriter(o, all), zr)
	check(err)
	check(o.Close())
	return n
}

// decodeFloor decodes every line of files with pdata, as a program that
// only needs the records would: the floor of any reader of these files.
func decodeFloor(files []string) {
	var (
		u       plog.JSONUnmarshaler
		records int
		text    []byte
	)
	decode := func(b []byte) {
		for len(b) > 0 {
			line := b
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				line, b = b[:i], b[i+1:]
			} else {
				b = nil
			}
			logs, err := u.UnmarshalLogs(line)
			check(err)
			records += logs.LogRecordCount()
		}
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		check(err)
		if framing.Sniff(b) != framing.Zstd {
			decode(b)
			continue
		}
		for off := int64(0); off < int64(len(b)); {
			n, err := framing.FrameSize(bytes.NewReader(b), off, int64(len(b)), int64(len(b)))
			check(err)
			text, err = framing.Decompress(text[:0], b[off:off+n])
			check(err)
			decode(text)
			off += n
		}
	}
	fmt.Println(records)
}

// readForeign reads the file uri as a query's LogsURI, page by page.
func readForeign(uri string) {
	r := file.New(filepath.Dir(uri))
	n := 0
	for _, err := range runlog.All(context.Background(), r, runlog.Query{RunID: "big", LogsURI: uri}) {
		check(err)
		n++
	}
	fmt.Println(n)
}

// readLast reads the last page of run big backward, as `runlog serve`'s
// viewer does when it jumps to the end.
func readLast(root string) {
	p, err := file.New(root).Fetch(context.Background(), runlog.Query{RunID: "big", Limit: 100, Direction: runlog.Backward})
	check(err)
	if len(p.Entries) != 100 {
		check(fmt.Errorf("last page has %d entries", len(p.Entries)))
	}
	fmt.Println(strings.TrimSpace(p.Entries[0].Message))
}

func measure(cmd *exec.Cmd) (secs, rssMiB float64) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	check(err)
	defer devnull.Close()
	cmd.Stdout, cmd.Stderr = devnull, os.Stderr
	check(cmd.Run())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	// CPU time (user + system), not wall time: the machine is shared, and
	// a reader's cost is what it computes.
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), float64(ru.Maxrss) / 1024
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "clilogs:", err)
		os.Exit(1)
	}
}
