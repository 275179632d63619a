package victorialogs_test

// Fault tests (issue: lose nothing): records logged through a real
// collector into a real VictoriaLogs while one of them, the logging process or
// the spool directory fails. Each test says, by Fetch (runlog.Check),
// exactly which records arrived, and prints what was sent, delivered,
// spooled and dropped.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/otelstore"
)

// TestMain runs the child processes of the fault tests when asked to.
func TestMain(m *testing.M) {
	if mode := os.Getenv("RUNLOG_FAULT_CHILD"); mode != "" {
		os.Exit(faultChild(mode))
	}
	os.Exit(m.Run())
}

// faultStore opens a victorialogs store writing to endpoint and reading from
// vlURL, spooling to spoolDir, with short intervals for tests.
func faultStore(t *testing.T, endpoint, vlURL, spoolDir string, extra ...string) *otelstore.Store {
	t.Helper()
	cfg := map[string]string{
		"endpoint": endpoint, "url": vlURL, "spool_dir": spoolDir,
		"export_interval": "100ms", "timeout": "5s", "query_timeout": "20s",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return open(t, cfg)
}

// logLines logs lines n0+1..n0+n, numbered in their message, calling at(i)
// before line i.
func logLines(ctx context.Context, n0, n int, at func(i int)) {
	for i := n0 + 1; i <= n0+n; i++ {
		if at != nil {
			at(i)
		}
		slog.InfoContext(ctx, "line "+strconv.Itoa(i), "i", i)
	}
}

// waitComplete runs runlog.Check on run until its only activation is
// complete (VictoriaLogs shows records a moment after the collector sends
// them; after a restart, later) or the timeout passes, and returns the
// last answer.
func waitComplete(t *testing.T, f runlog.Fetcher, run string, timeout time.Duration) runlog.Completeness {
	t.Helper()
	return waitCheck(t, f, runlog.Query{RunID: run}, timeout)
}

// waitCheck is waitComplete for the only activation q selects.
func waitCheck(t *testing.T, f runlog.Fetcher, q runlog.Query, timeout time.Duration) runlog.Completeness {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cs, err := runlog.Check(t.Context(), f, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 && cs[0].Status == runlog.StatusComplete || time.Now().After(deadline) {
			if len(cs) != 1 {
				t.Fatalf("Check(run %s step %s) found %d activations; want 1: %v", q.RunID, q.StepID, len(cs), cs)
			}
			return cs[0]
		}
		time.Sleep(time.Second)
	}
}

// wantAll fails unless c is the complete account of n records, each once.
func wantAll(t *testing.T, c runlog.Completeness, n uint64) {
	t.Helper()
	if c.Status != runlog.StatusComplete || c.Received != n || c.Duplicates != 0 || c.Missing != 0 || c.Cause != runlog.CauseOK {
		t.Fatalf("Check = %s (%d duplicates); want complete, %d records, each once", c, c.Duplicates, n)
	}
}

func runID(name string) string {
	return name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// faultStep starts VictoriaLogs and a collector (or only chooses its ports),
// opens a store on them with its own spool, and activates step "s" of a
// new run named after name.
func faultStep(t *testing.T, name string, startCollector bool) (*itest.VictoriaLogs, *itest.Collector, *otelstore.Store, context.Context, string) {
	t.Helper()
	vl := itest.StartVictoriaLogs(t)
	col := itest.NewCollector(t, vl.OTLPEndpoint())
	if startCollector {
		col.Start(t)
	}
	s := faultStore(t, col.OTLPEndpoint, vl.URL, t.TempDir())
	quiet(t)
	run := runID(name)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return vl, col, s, ctx, run
}

// TestFaultCollectorDownAtStart: the collector is not running when the
// step starts and is started mid-step. The records it refused wait in the
// spool and are replayed, in order, before the later ones.
func TestFaultCollectorDownAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	vl := itest.StartVictoriaLogs(t)
	col := itest.NewCollector(t, vl.OTLPEndpoint())
	spool := t.TempDir()
	s := faultStore(t, col.OTLPEndpoint, vl.URL, spool)
	quiet(t)
	run := runID("down-at-start")
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	logLines(ctx, 0, n, func(i int) {
		if i == 5000 {
			// Start it only once an export was refused and spooled: a
			// fast logger has 5,000 lines queued before the first export.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if files, _ := os.ReadDir(spool); len(files) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("nothing spooled in %s 30 s after the first 5,000 lines, with the collector down", spool)
				}
			}
			col.Start(t)
		}
	})
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate = %v; want every record delivered once the collector runs", err)
	}
	st := s.Stats()
	t.Logf("sent %d: %s", n, st)
	if st.Spooled == 0 || st.Replayed != st.Spooled || st.Dropped != 0 {
		t.Fatalf("stats %s; want records spooled while the collector was down, all replayed", st)
	}
	c := waitComplete(t, s, run, 2*time.Minute)
	wantAll(t, c, n)
	t.Logf("fetched: %s", c)
}

// TestFaultCollectorKilledMidBurst: the collector is killed (SIGKILL, no
// flush) and restarted during a burst. What it had accepted is in its
// persistent queue; what it refused meanwhile is in runlog's spool.
func TestFaultCollectorKilledMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	_, col, s, ctx, run := faultStep(t, "killed-mid-burst", true)
	const n = 100000
	logLines(ctx, 0, n, func(i int) {
		switch i {
		case 30000:
			col.Kill()
		case 60000:
			col.Start(t)
		}
	})
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate = %v; want every record delivered", err)
	}
	st := s.Stats()
	t.Logf("sent %d: %s", n, st)
	if st.Dropped != 0 {
		t.Fatalf("stats %s; want nothing dropped", st)
	}
	c := waitComplete(t, s, run, 3*time.Minute)
	wantAll(t, c, n)
	t.Logf("fetched: %s", c)
}

// TestFaultBackendDownBehindCollector: VictoriaLogs is stopped while a
// step logs. The collector accepts the records into its persistent queue
// and delivers them once VictoriaLogs is back; nothing is spooled on
// runlog's side.
func TestFaultBackendDownBehindCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	vl, _, s, ctx, run := faultStep(t, "backend-down", true)
	vl.Stop()
	const n = 20000
	logLines(ctx, 0, n, nil)
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate = %v; want the collector to accept everything", err)
	}
	st := s.Stats()
	t.Logf("sent %d with VictoriaLogs down: %s", n, st)
	time.Sleep(2 * time.Second) // the collector retries meanwhile
	vl.Start(t)
	c := waitComplete(t, s, run, 3*time.Minute)
	wantAll(t, c, n)
	t.Logf("fetched after VictoriaLogs came back: %s", c)
}

// TestFaultProcessKilled: a process logging with the collector down is
// killed with SIGKILL mid-step; a second process replays its spool. Every
// record the first process had spooled arrives, once; nothing after a
// point is missing in between; the step has no end marker.
func TestFaultProcessKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	vl := itest.StartVictoriaLogs(t)
	col := itest.NewCollector(t, vl.OTLPEndpoint()) // down while the first process logs
	spool := t.TempDir()
	run := runID("sigkill")

	child := faultCommand(t, "log-until-killed", col.OTLPEndpoint, vl.URL, spool, run)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	spooled := -1
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "spooled "); ok {
			spooled, _ = strconv.Atoi(n)
			break
		}
	}
	if spooled < 0 {
		_ = child.Process.Kill()
		t.Fatalf("the child did not report what it spooled: %v", child.Wait())
	}
	time.Sleep(300 * time.Millisecond) // it goes on logging
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	go io.Copy(io.Discard, out)

	col.Start(t)
	replay := faultCommand(t, "flush", col.OTLPEndpoint, vl.URL, spool, run)
	report, err := replay.CombinedOutput()
	if err != nil {
		t.Fatalf("flush: %v\n%s", err, report)
	}
	t.Logf("second process: %s", strings.TrimSpace(string(report)))

	s := faultStore(t, col.OTLPEndpoint, vl.URL, t.TempDir())
	var c runlog.Completeness
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		cs, err := runlog.Check(t.Context(), s, runlog.Query{RunID: run})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 {
			c = cs[0]
		}
		if c.Received >= uint64(spooled) || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("the killed process had spooled at least %d records; fetched: %s", spooled, c)
	if c.Received < uint64(spooled) || c.Missing != 0 || c.Duplicates != 0 || c.Ended || c.Status != runlog.StatusRunning {
		t.Fatalf("Check = %s; want records 1..N, N >= %d, each once, no end marker", c, spooled)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("spool not emptied by the replay: %v", ents)
	}
}

// TestFaultSpoolUnwritable: the collector is down and the spool directory
// cannot be written (the process runs as an unprivileged user, or is not
// root, and the directory is read-only). The records are lost — counted,
// and Deactivate's error says where and what to do; the records logged
// once the collector is back arrive, and Check names the gap exactly.
func TestFaultSpoolUnwritable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	vl := itest.StartVictoriaLogs(t)
	col := itest.NewCollector(t, vl.OTLPEndpoint())
	spool := filepath.Join(t.TempDir(), "spool")
	if err := os.Mkdir(spool, 0o555); err != nil {
		t.Fatal(err)
	}
	openUp(t, filepath.Dir(spool))
	run := runID("spool-read-only")
	child := faultCommand(t, "spool-unwritable", col.OTLPEndpoint, vl.URL, spool, run)
	if os.Getuid() == 0 { // root writes anywhere: run the child as nobody
		dropPrivileges(t, child)
	}
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	var report struct {
		Stats    otelstore.Stats
		Delivery *runlog.DeliveryError
		Error    string
	}
	for sc.Scan() {
		switch line := sc.Text(); {
		case line == "collector?":
			col.Start(t)
			fmt.Fprintln(stdin, "up")
		case strings.HasPrefix(line, "{"):
			if err := json.Unmarshal([]byte(line), &report); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	t.Logf("sent 2000; %s; Deactivate: %s", report.Stats, report.Error)
	if report.Delivery == nil || report.Delivery.Dropped != 1000 || report.Delivery.Spooled != 0 || report.Delivery.Delivered != 1001 {
		t.Fatalf("delivery %+v; want the first 1000 dropped, the next 1000 and the end marker delivered", report.Delivery)
	}
	for _, want := range []string{"1000 dropped", "cannot spool to " + spool, "permission denied", "make " + spool + " writable"} {
		if !strings.Contains(report.Error, want) {
			t.Errorf("Deactivate's error %q does not say %q", report.Error, want)
		}
	}
	s := faultStore(t, col.OTLPEndpoint, vl.URL, t.TempDir())
	c := waitIncomplete(t, s, run, 1000)
	t.Logf("fetched: %s", c)
	if !c.Ended || c.Received != 1000 || c.Missing != 1000 || len(c.Gaps) != 1 || c.Gaps[0] != (runlog.Gap{From: 1, To: 1000}) || c.Duplicates != 0 {
		t.Fatalf("Check = %s; want records 1001-2000 and the end marker, 1-1000 missing", c)
	}
}

// waitIncomplete runs Check until run's activation has n records and its
// end marker, or a minute passes.
func waitIncomplete(t *testing.T, f runlog.Fetcher, run string, n uint64) runlog.Completeness {
	t.Helper()
	var c runlog.Completeness
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		cs, err := runlog.Check(t.Context(), f, runlog.Query{RunID: run})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 {
			c = cs[0]
		}
		if c.Ended && c.Received >= n || time.Now().After(deadline) {
			return c
		}
	}
}

// TestFaultSpoolFull: the collector is down and the spool's bound
// (spool_max_bytes) is reached: the records that fit are kept and
// replayed, the rest are dropped and counted, the end marker is kept, and
// Check lists the missing records.
func TestFaultSpoolFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts VictoriaLogs and a collector")
	}
	vl := itest.StartVictoriaLogs(t)
	col := itest.NewCollector(t, vl.OTLPEndpoint())
	spool := t.TempDir()
	s := faultStore(t, col.OTLPEndpoint, vl.URL, spool, "spool_max_bytes", "262144", "batch_size", "100")
	quiet(t)
	run := runID("spool-full")
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	logLines(ctx, 0, n, nil)
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.As(err, &de) || de.Spooled == 0 || de.Dropped == 0 || de.Spooled+de.Dropped != n+1 {
		t.Fatalf("Deactivate = %v; want some of %d records spooled, the rest dropped", err, n+1)
	}
	for _, want := range []string{"spool full", "spool_max_bytes", spool} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Deactivate's error %q does not say %q", err, want)
		}
	}
	t.Logf("sent %d: delivered %d, spooled %d, dropped %d; %v", n, de.Delivered, de.Spooled, de.Dropped, err)
	col.Start(t)
	rep, err := faultStore(t, col.OTLPEndpoint, vl.URL, spool).Flush(t.Context())
	if err != nil || rep.Replayed != de.Spooled {
		t.Fatalf("Flush = %s, %v; want %d replayed", rep, err, de.Spooled)
	}
	kept := de.Spooled - 1 // and the end marker
	c := waitIncomplete(t, s, run, kept)
	t.Logf("fetched: %s", c)
	if !c.Ended || c.Received != kept || c.Missing != n-kept || len(c.Gaps) != 1 || c.Gaps[0] != (runlog.Gap{From: kept + 1, To: n}) {
		t.Fatalf("Check = %s; want records 1-%d, %d-%d missing", c, kept, kept+1, n)
	}
}

// faultCommand runs this test binary as a child in the given mode.
func faultCommand(t *testing.T, mode, endpoint, vlURL, spool, run string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUNLOG_FAULT_CHILD="+mode, "FAULT_ENDPOINT="+endpoint,
		"FAULT_VL="+vlURL, "FAULT_SPOOL="+spool, "FAULT_RUN="+run)
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return cmd
}

// dropPrivileges makes cmd run as nobody, from a copy of the test binary
// nobody can execute.
func dropPrivileges(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	openUp(t, dir)
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd.Path = filepath.Join(dir, "child.test")
	if err := os.WriteFile(cmd.Path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.Args[0] = cmd.Path
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, "HOME="+dir, "XDG_CACHE_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// openUp lets others traverse dir and its parents up to the temporary
// directory (test directories are private).
func openUp(t *testing.T, dir string) {
	t.Helper()
	for d := dir; strings.HasPrefix(d, os.TempDir()+string(filepath.Separator)); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o055); err != nil {
			t.Fatal(err)
		}
	}
}

// faultChild is the child process of the fault tests; it returns the
// process's exit code.
func faultChild(mode string) int {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "fault child:", err)
		return 2
	}
	f, err := runlog.LookupFlavor("victorialogs")
	if err != nil {
		return fail(err)
	}
	c, err := f.Validate(map[string]string{
		"endpoint": os.Getenv("FAULT_ENDPOINT"), "url": os.Getenv("FAULT_VL"),
		"spool_dir": os.Getenv("FAULT_SPOOL"), "export_interval": "100ms", "timeout": "5s",
	})
	if err != nil {
		return fail(err)
	}
	st, err := f.Open(ctx, c)
	if err != nil {
		return fail(err)
	}
	s := st.(*otelstore.Store)
	scope := runlog.Scope{RunID: os.Getenv("FAULT_RUN"), StepID: "s"}
	switch mode {
	case "log-until-killed":
		actx, err := s.Activate(ctx, scope)
		if err != nil {
			return fail(err)
		}
		logLines(actx, 0, 3000, nil)
		if _, err := s.Flush(actx); err == nil {
			return fail(errors.New("Flush with the collector down succeeded"))
		}
		fmt.Println("spooled 3000")
		for i := 3001; ; i++ { // until killed
			logLines(actx, i-1, 1, nil)
			time.Sleep(100 * time.Microsecond)
		}
	case "flush":
		rep, err := s.Flush(ctx)
		fmt.Println(rep)
		if err != nil {
			return fail(err)
		}
		return 0
	case "spool-unwritable":
		actx, err := s.Activate(ctx, scope)
		if err != nil {
			return fail(err)
		}
		logLines(actx, 0, 1000, nil)
		_, _ = s.Flush(actx) // fails: nothing could be kept
		fmt.Println("collector?")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fail(err)
		}
		logLines(actx, 1000, 1000, nil)
		err = s.Deactivate(actx)
		var rep struct {
			Stats    otelstore.Stats
			Delivery *runlog.DeliveryError
			Error    string
		}
		rep.Stats = s.Stats()
		if err != nil {
			rep.Error = err.Error()
		}
		if errors.As(err, &rep.Delivery) {
			rep.Delivery.Err = nil // not JSON
		}
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
		return 0
	}
	return fail(fmt.Errorf("unknown mode %q", mode))
}

// TestBurstMillion: 1,000,000 records logged as fast as 16 concurrent
// steps can (62,500 each) reach VictoriaLogs through the collector, every one,
// once, with memory bounded by the queues (logging waits when they are
// full).
func TestBurstMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,000,000 records through real servers")
	}
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	s := faultStore(t, col.OTLPEndpoint, vl.URL, t.TempDir(), "export_interval", "1s")
	quiet(t)
	run := runID("burst")
	const steps, per = 16, 62500
	start := time.Now()
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() { // sample the heap while logging
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, steps)
	for i := range steps {
		wg.Go(func() {
			ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: run, StepID: fmt.Sprintf("step-%02d", i)})
			if err != nil {
				errs <- err
				return
			}
			logLines(ctx, 0, per, nil)
			errs <- s.Deactivate(ctx)
		})
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("logged %d records in %v (peak heap in use %d MiB): %s", steps*per, time.Since(start).Round(time.Millisecond), peak.Load()>>20, s.Stats())
	if st := s.Stats(); st.Dropped != 0 || st.Logged != steps*per {
		t.Fatalf("stats %s", st)
	}

	// Every one reached VictoriaLogs: every step read back in full,
	// record by record, through Fetch.
	start = time.Now()
	for i := range steps {
		wantAll(t, waitCheck(t, s, runlog.Query{RunID: run, StepID: fmt.Sprintf("step-%02d", i)}, 3*time.Minute), per)
	}
	t.Logf("read back and checked %d records of %d steps in %v", steps*per, steps, time.Since(start).Round(time.Millisecond))
}
