// Command testprogress runs `go test -json` with the given arguments and
// prints what a person following `make test` wants to see: each package
// when it starts, with how long it took last time; a line every 30 s
// naming the packages still running and for how long; each package's
// result line as go test prints it ("ok  pkg  12.3s", "FAIL pkg"); and the
// whole output of every test that failed. It exits with go test's status.
//
//	go run ./tools/testprogress -race -count=1 ./...
//
// Durations are remembered in $RUNLOG_CACHE (else the user cache
// directory)/runlog/test-times.json; before a first run, "usually" comes
// from typical.json beside this file, measured with `make test` on a
// 2-core machine.
package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed typical.json
var typicalJSON []byte

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	times := loadTimes()
	cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testprogress:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testprogress:", err)
		return 1
	}
	p := &progress{out: out, usual: times, running: map[string]time.Time{}, tests: map[string][]string{}, elapsed: map[string]float64{}}
	stop := make(chan struct{})
	go p.heartbeat(stop, 30*time.Second)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			p.print(sc.Text() + "\n") // not JSON: pass it on
			continue
		}
		p.handle(e)
	}
	close(stop)
	err = cmd.Wait()
	saveTimes(times, p.elapsed)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testprogress:", err)
		return 1
	}
	return 0
}

type progress struct {
	out     io.Writer
	usual   map[string]float64
	mu      sync.Mutex
	running map[string]time.Time // package -> start
	tests   map[string][]string  // package/test -> output, until it passes
	elapsed map[string]float64   // package -> seconds, this run
}

func (p *progress) print(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.out, s)
}

func (p *progress) handle(e event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output" || e.Action == "build-fail":
		p.print(e.Output)
	case e.Action == "start":
		p.mu.Lock()
		p.running[e.Package] = time.Now()
		p.mu.Unlock()
		if u, ok := p.usual[e.Package]; ok && u >= 5 {
			p.print(fmt.Sprintf("       %s: running (usually %s)\n", e.Package, seconds(u)))
		}
	case e.Test == "" && e.Action == "output":
		// The package's own lines: its result line, a panic, a timeout;
		// not the PASS that go test prints only with -json or -v.
		if e.Output != "PASS\n" {
			p.print(e.Output)
		}
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		p.mu.Lock()
		delete(p.running, e.Package)
		if e.Action != "skip" {
			p.elapsed[e.Package] = e.Elapsed
		}
		p.mu.Unlock()
	case e.Action == "output":
		p.mu.Lock()
		p.tests[key] = append(p.tests[key], e.Output)
		p.mu.Unlock()
	case e.Action == "fail":
		p.mu.Lock()
		lines := p.tests[key]
		delete(p.tests, key)
		p.mu.Unlock()
		p.print(strings.Join(lines, ""))
	case e.Action == "pass" || e.Action == "skip":
		p.mu.Lock()
		delete(p.tests, key)
		p.mu.Unlock()
	}
}

// heartbeat says, every period, which packages are still running.
func (p *progress) heartbeat(stop <-chan struct{}, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		var parts []string
		for pkg, start := range p.running {
			s := fmt.Sprintf("%s %s", short(pkg), seconds(time.Since(start).Seconds()))
			if u, ok := p.usual[pkg]; ok {
				s += " of usually " + seconds(u)
			}
			parts = append(parts, s)
		}
		p.mu.Unlock()
		if len(parts) > 0 {
			sort.Strings(parts)
			p.print("       still running: " + strings.Join(parts, "; ") + "\n")
		}
	}
}

func short(pkg string) string { return strings.TrimPrefix(pkg, "github.com/runlog/runlog/") }

func seconds(s float64) string {
	if s < 90 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.1f min", s/60)
}

func timesPath() string {
	dir := os.Getenv("RUNLOG_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(c, "runlog")
	}
	return filepath.Join(dir, "test-times.json")
}

// loadTimes returns the last run's durations, over the typical ones.
func loadTimes() map[string]float64 {
	m := map[string]float64{}
	_ = json.Unmarshal(typicalJSON, &m)
	if p := timesPath(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			var last map[string]float64
			if json.Unmarshal(b, &last) == nil {
				for k, v := range last {
					m[k] = v
				}
			}
		}
	}
	return m
}

// saveTimes keeps this run's durations for the next, best effort.
func saveTimes(old, now map[string]float64) {
	p := timesPath()
	if p == "" || len(now) == 0 {
		return
	}
	m := map[string]float64{}
	for k, v := range old {
		m[k] = v
	}
	for k, v := range now {
		m[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ") // keys sorted
	if err != nil {
		return
	}
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	_ = os.WriteFile(p, append(b, '\n'), 0o644)
}
