//go:build linux

// Command serve measures the HTTP API of `runlog serve` on a large step of
// the local store, next to `runlog logs -o jsonl` on the same store in the
// same run: the step as a download (jsonl) and page by page (limit 1,000),
// lines/s and the server's peak RSS; then the server's peak RSS while 20
// clients follow running steps. It prints ratios and never fails on them.
//
//	go run ./bench/serve [-lines 1000000] [-followers 20]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/runlog/runlog/bench/internal/figure"
)

var (
	bin string
	env []string
)

func main() {
	lines := flag.Int("lines", 1000000, "lines in the step")
	followers := flag.Int("followers", 20, "clients following running steps")
	flag.Parse()
	dir, err := os.MkdirTemp("", "runlog-bench-serve")
	check(err)
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "runlog")
	check(exec.Command("go", "build", "-o", bin, "./cmd/runlog").Run())
	env = append(os.Environ(), "RUNLOG_DATA_DIR="+filepath.Join(dir, "data"), "RUNLOG_CONFIG="+filepath.Join(dir, "stores.json"))

	start := time.Now()
	capture := exec.Command(bin, "exec", "--run", "big", "--step", "s", "--", "seq", "1", strconv.Itoa(*lines))
	capture.Env = env
	check(capture.Run())
	fmt.Printf("captured %d lines with runlog exec in %.1f s\n", *lines, time.Since(start).Seconds())
	n := *lines + 1 // the exec line that starts the step

	// The CLI, the baseline.
	cli := exec.Command(bin, "logs", "big", "--step", "s", "-o", "jsonl")
	cliSecs, cliRSS := measure(cli)

	// Download, through a fresh server.
	srv := startServer(dir)
	t0 := time.Now()
	got := countLines(get(srv.url + "/api/v1/runs/big/logs/download?format=jsonl&step=s"))
	dlSecs := time.Since(t0).Seconds()
	dlRSS := srv.stop()
	if got != n {
		fmt.Printf("warning: the download had %d lines; want %d\n", got, n)
	}

	// Page by page, through a fresh server.
	srv = startServer(dir)
	t0 = time.Now()
	got, pages := 0, 0
	after := ""
	for {
		var p struct {
			Items []json.RawMessage `json:"items"`
			After string            `json:"after"`
			More  bool              `json:"more"`
		}
		body := get(srv.url + "/api/v1/runs/big/logs?step=s&limit=1000&after=" + url.QueryEscape(after))
		check(json.NewDecoder(body).Decode(&p))
		body.Close()
		got += len(p.Items)
		pages++
		after = p.After
		if !p.More {
			break
		}
	}
	pgSecs := time.Since(t0).Seconds()
	pgRSS := srv.stop()
	if got != n {
		fmt.Printf("warning: paging returned %d entries; want %d\n", got, n)
	}

	fmt.Printf("\n== a %d-line step of the local store ==\n", n)
	fmt.Printf("%-34s %8s %12s %10s %8s\n", "reader", "seconds", "lines/s", "peak MiB", "ratio")
	row := func(name string, secs, rss float64) {
		fmt.Printf("%-34s %8.2f %12.0f %10.1f %7.2fx\n", name, secs, float64(n)/secs, rss, cliSecs/secs)
	}
	row("runlog logs -o jsonl (baseline)", cliSecs, cliRSS)
	row("GET .../logs/download?format=jsonl", dlSecs, dlRSS)
	row(fmt.Sprintf("GET .../logs?limit=1000 (%d pages)", pages), pgSecs, pgRSS)
	fmt.Printf("download: %.2fx the CLI's lines/s (target >= 0.8x): %s\n", cliSecs/dlSecs, figure.Verdict(cliSecs/dlSecs >= 0.8))

	// Followers of running steps.
	srv = startServer(dir)
	steps := 5
	var writers []*exec.Cmd
	for i := range steps {
		w := exec.Command(bin, "exec", "--run", "live", "--step", fmt.Sprint("s", i), "--",
			"sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1)); sleep 0.02; done")
		w.Env = env
		check(w.Start())
		writers = append(writers, w)
	}
	var wg sync.WaitGroup
	counts := make([]int, *followers)
	ended := make([]bool, *followers)
	for i := range *followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := get(fmt.Sprintf("%s/api/v1/runs/live/logs/stream?step=s%d", srv.url, i%steps))
			defer body.Close()
			sc := bufio.NewScanner(body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				switch l := sc.Text(); {
				case strings.HasPrefix(l, "data: {\"message\""):
					counts[i]++
				case l == "event: end":
					ended[i] = true
				}
			}
		}()
	}
	var peak float64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(100 * time.Millisecond)
	timeout := time.After(2 * time.Minute)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-timeout:
			fmt.Println("warning: followers did not end within 2 minutes")
			break wait
		case <-tick.C:
			peak = max(peak, rssMiB(srv.cmd.Process.Pid, "VmRSS"))
		}
	}
	for _, w := range writers {
		w.Wait()
	}
	hwm := srv.stop()
	total, allEnded := 0, true
	for i := range counts {
		total += counts[i]
		allEnded = allEnded && ended[i]
	}
	fmt.Printf("\n== %d followers of %d running steps (400 lines each, 50 lines/s) ==\n", *followers, steps)
	fmt.Printf("events received %d (want %d), every follower got its end event: %v\n", total, *followers*401, allEnded)
	fmt.Printf("server peak RSS %.1f MiB sampled, %.1f MiB high-water mark (target < 100 MB): %s\n", peak, hwm, figure.Verdict(hwm < 100))
}

type server struct {
	cmd *exec.Cmd
	url string
}

func startServer(dir string) *server {
	addrFile := filepath.Join(dir, "addr")
	os.Remove(addrFile)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--addr-file", addrFile)
	cmd.Env, cmd.Stderr = env, os.Stderr
	check(cmd.Start())
	for range 200 {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			return &server{cmd, "http://" + strings.TrimSpace(string(b))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	panic("runlog serve did not start")
}

// stop ends the server and returns its peak RSS in MiB.
func (s *server) stop() float64 {
	rss := rssMiB(s.cmd.Process.Pid, "VmHWM")
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
	if ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = max(rss, float64(ru.Maxrss)/1024)
	}
	return rss
}

func rssMiB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

func get(u string) io.ReadCloser {
	resp, err := http.Get(u)
	check(err)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		panic(fmt.Sprintf("GET %s: %s %s", u, resp.Status, b))
	}
	return resp.Body
}

func countLines(r io.ReadCloser) int {
	defer r.Close()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			return n
		}
	}
}

func measure(cmd *exec.Cmd) (secs, rssMiB float64) {
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
		panic(err)
	}
}
