package victorialogs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/internal/itest"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
	"github.com/runlog/runlog/query/victorialogs"
	"github.com/runlog/runlog/storetest"
)

// open opens a victorialogs-flavor store with the given configuration.
func open(t *testing.T, cfg map[string]string) *otelstore.Store {
	t.Helper()
	f, err := runlog.LookupFlavor("victorialogs")
	if err != nil {
		t.Fatal(err)
	}
	if cfg["spool_dir"] == "" {
		cfg["spool_dir"] = t.TempDir() // not the user's cache
	}
	c, err := f.Validate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := flavors.OpenVictoriaLogs(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// servers starts VictoriaLogs and a collector exporting to it, and
// returns a store writing to the collector and reading from VictoriaLogs.
func servers(t *testing.T) (*itest.VictoriaLogs, *itest.Collector, *otelstore.Store) {
	t.Helper()
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	return vl, col, open(t, map[string]string{
		"endpoint": col.OTLPEndpoint, "url": vl.URL, "level": "debug", "query_timeout": "20s",
	})
}

// quiet discards the console output of activations for the test.
func quiet(t *testing.T) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
}

// logOnce activates scope on s, logs msg, and deactivates.
func logOnce(t *testing.T, s runlog.LogStore, scope runlog.Scope, msg string) {
	t.Helper()
	ctx, err := s.Activate(t.Context(), scope)
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, msg)
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("%s: %v", scope, err)
	}
}

// waitFetch fetches q until it returns at least n entries (VictoriaLogs
// makes records visible a moment after the collector delivers them) or the
// timeout passes, and returns the last answer.
func waitFetch(t *testing.T, f runlog.Fetcher, q runlog.Query, n int, timeout time.Duration) []runlog.LogEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []runlog.LogEntry
		for e, err := range runlog.All(t.Context(), f, q) {
			if err != nil {
				t.Fatalf("Fetch(run %q step %q): %v", q.RunID, q.StepID, err)
			}
			got = append(got, e)
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestConformanceThroughCollector runs the whole storetest suite with
// records going through a real collector into a real VictoriaLogs.
func TestConformanceThroughCollector(t *testing.T) {
	_, _, s := servers(t)
	storetest.Run(t, storetest.Harness{Store: s, Timeout: 60 * time.Second})
}

// TestConformanceDirect runs the storetest suite with records written
// straight to VictoriaLogs' OTLP endpoint, for users without a collector.
func TestConformanceDirect(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	s := open(t, map[string]string{"url": vl.URL, "level": "debug"})
	storetest.Run(t, storetest.Harness{Store: s, Timeout: 60 * time.Second})
}

// TestParallelRuns writes three runs at once through the collector: one
// with a 50,000-line step, one with 32 concurrent steps, one small; then
// every step's Fetch must return exactly its own lines, in order, once,
// with every field right.
func TestParallelRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60,000 records through real servers")
	}
	_, col, s := servers(t)
	quiet(t)

	base := "par-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	type step struct {
		run, step string
		lines     int
	}
	var steps []step
	steps = append(steps, step{base + "-big", "load", 50000})
	for i := range 32 {
		steps = append(steps, step{base + "-wide", fmt.Sprintf("shard-%02d", i), 250})
	}
	steps = append(steps, step{base + "-small", "only", 10})

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(steps))
	for _, st := range steps {
		wg.Go(func() {
			ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: st.run, StepID: st.step, Attempt: 1})
			if err != nil {
				errs <- err
				return
			}
			for i := range st.lines {
				level := slog.LevelInfo
				if i%10 == 0 {
					level = slog.LevelDebug
				}
				slog.Log(ctx, level, "line "+strconv.Itoa(i), "step", st.step, "i", i)
			}
			errs <- s.Deactivate(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d steps in %v", len(steps), time.Since(start))

	for _, st := range steps {
		got := waitFetch(t, s, runlog.Query{RunID: st.run, StepID: st.step}, st.lines, 90*time.Second)
		if len(got) != st.lines {
			t.Fatalf("%s/%s: fetched %d entries; want %d\ncollector output:\n%s", st.run, st.step, len(got), st.lines, col.Output())
		}
		for i, e := range got {
			wantLevel := runlog.LevelInfo
			if i%10 == 0 {
				wantLevel = runlog.LevelDebug
			}
			if e.Message != "line "+strconv.Itoa(i) || e.RunID != st.run || e.StepID != st.step || e.Attributes["step"] != st.step ||
				e.Sequence != uint64(i+1) || e.Level != wantLevel || e.Attempt != 1 || e.Source != "step" ||
				e.Filename == "" || e.Lineno == 0 || e.ID == "" || e.TotalChunks != 1 || e.Name != "runlog" {
				t.Fatalf("%s/%s entry %d: %+v", st.run, st.step, i, e)
			}
		}
	}

	// The last page reports the step's end marker, with its count.
	p, err := s.Fetch(t.Context(), runlog.Query{RunID: base + "-small", StepID: "only"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 10 || p.More || len(p.Ends) != 1 || p.Ends[0].Count != 10 || p.Ends[0].StepID != "only" {
		t.Fatalf("small run: %d entries, more %v, ends %+v; want 10 entries and the end of 10 records", len(p.Entries), p.More, p.Ends)
	}

	// The collector's second pipeline wrote the same records to files,
	// which the local reader reads back.
	var n int
	for _, err := range runlog.All(t.Context(), file.New(t.TempDir(), file.WithLogsURIDirs(col.FileDir)), runlog.Query{RunID: base + "-small", LogsURI: col.FileDir}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 10 {
		t.Errorf("the collector's file exporter has %d records of the small run; want 10", n)
	}
}

// TestLogsQLInjection uses ids, sources and grep text made of LogsQL
// syntax: each must match exactly its own lines.
func TestLogsQLInjection(t *testing.T) {
	_, _, s := servers(t)
	quiet(t)
	base := "inj-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ids := []string{
		base + `"} or {service.name=~".+"`,
		base + "` | delete _msg",
		base + `\" | limit 1 #`,
		base + ` * OR *`,
		base + `:="x" _msg:*`,
		base + "\nline\r\ttab",
		base + "\n{\"a\":1}",
		base + " ünïcødé 日本 🙂",
		base + "*",
		base,
	}
	for i, id := range ids {
		ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: id, StepID: id + ` | stats count()`, Source: id + `:src`})
		if err != nil {
			t.Fatal(err)
		}
		slog.InfoContext(ctx, fmt.Sprintf(`msg %d *"x"* | !="y" \n %s`, i, id))
		slog.InfoContext(ctx, "other")
		if err := s.Deactivate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		q := runlog.Query{RunID: id, StepID: id + ` | stats count()`, Source: id + `:src`}
		got := waitFetch(t, s, q, 2, 30*time.Second)
		if len(got) != 2 || got[0].RunID != id || got[0].StepID != q.StepID || got[0].Source != q.Source {
			t.Fatalf("run %q: %d entries: %+v; want its own 2", id, len(got), got)
		}
		q.Contains = fmt.Sprintf(`msg %d *"x"* | !="y" \n %s`, i, id)
		p, err := s.Fetch(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 1 || p.Entries[0].Message != q.Contains {
			t.Fatalf("grep of LogsQL syntax in run %q: %d entries; want 1", id, len(p.Entries))
		}
		// The whole run, without a step, holds the two lines too.
		if got := waitFetch(t, s, runlog.Query{RunID: id}, 2, 10*time.Second); len(got) != 2 {
			t.Fatalf("run %q without step: %d entries; want 2", id, len(got))
		}
	}
}

// TestVictoriaLogsDown stops VictoriaLogs: Fetch must return a typed error
// naming the URL within the configured timeout, and work again once it is
// back.
func TestVictoriaLogsDown(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	c, err := victorialogs.New(victorialogs.Config{URL: vl.URL, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(t.Context(), runlog.Query{RunID: "r"}); err != nil {
		t.Fatalf("Fetch with VictoriaLogs up: %v", err)
	}
	vl.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err = c.Fetch(ctx, runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), vl.URL) || !strings.Contains(err.Error(), "check that VictoriaLogs runs") {
		t.Fatalf("Fetch with VictoriaLogs stopped = %v; want ErrUnavailable naming %s and what to do", err, vl.URL)
	}
	if ctx.Err() != nil {
		t.Fatal("Fetch did not give up before the test's own deadline")
	}
	vl.Start(t)
	if _, err := c.Fetch(t.Context(), runlog.Query{RunID: "r"}); err != nil {
		t.Fatalf("Fetch after VictoriaLogs restarted: %v", err)
	}
}

// TestExportPrecedence: an unset endpoint key falls back to the standard
// OTEL_EXPORTER_OTLP_ENDPOINT variable, and a set key wins over it.
func TestExportPrecedence(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	quiet(t)
	run := "prec-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.OTLPEndpoint)
	logOnce(t, open(t, map[string]string{"url": vl.URL}), runlog.Scope{RunID: run, StepID: "env"}, "via env")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:"+strconv.Itoa(itest.FreePort(t)))
	logOnce(t, open(t, map[string]string{"url": vl.URL, "endpoint": col.OTLPEndpoint}),
		runlog.Scope{RunID: run, StepID: "option"}, "via option")

	c, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFetch(t, c, runlog.Query{RunID: run}, 2, 30*time.Second)
	if len(got) != 2 || got[0].Message != "via env" || got[1].Message != "via option" {
		t.Fatalf("VictoriaLogs has %d records: %+v; want the one sent through the variable and the one through the key", len(got), got)
	}
}

// TestTenant writes to three tenants: two straight to VictoriaLogs (the
// flavor sends account_id and project_id as headers), one through a
// collector configured for its tenant. Each tenant reads its own records
// only, and the default tenant none of them.
func TestTenant(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint(), "VICTORIALOGS_ACCOUNT_ID=7", "VICTORIALOGS_PROJECT_ID=8")
	quiet(t)
	run := "tenant-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, tenant := range []string{"1", "2"} {
		s := open(t, map[string]string{"url": vl.URL, "account_id": tenant, "project_id": tenant})
		logOnce(t, s, runlog.Scope{RunID: run}, "from "+tenant)
	}
	logOnce(t, open(t, map[string]string{"url": vl.URL, "endpoint": col.OTLPEndpoint, "account_id": "7", "project_id": "8"}),
		runlog.Scope{RunID: run}, "from 7 through the collector")
	for _, tc := range []struct {
		account, project uint32
		want             string
	}{{1, 1, "from 1"}, {2, 2, "from 2"}, {7, 8, "from 7 through the collector"}} {
		c, err := victorialogs.New(victorialogs.Config{URL: vl.URL, AccountID: tc.account, ProjectID: tc.project})
		if err != nil {
			t.Fatal(err)
		}
		if got := waitFetch(t, c, runlog.Query{RunID: run}, 1, 30*time.Second); len(got) != 1 || got[0].Message != tc.want {
			t.Fatalf("tenant %d:%d reads %+v; want its own record only", tc.account, tc.project, got)
		}
	}
	def, err := victorialogs.New(victorialogs.Config{URL: vl.URL})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := def.Fetch(t.Context(), runlog.Query{RunID: run}); err != nil || len(p.Entries) != 0 {
		t.Fatalf("the default tenant reads %d entries (%v); want none", len(p.Entries), err)
	}
}

// TestReadYourWrites: once Deactivate returns, one Fetch — no waiting,
// no retry — returns every record of the activation and its end marker,
// through the collector and written straight to VictoriaLogs (with
// visible_timeout=0s this fails: VictoriaLogs shows records a moment after
// it received them).
func TestReadYourWrites(t *testing.T) {
	quiet(t)
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	for _, tc := range []struct {
		name string
		cfg  map[string]string
	}{
		{"collector", map[string]string{"endpoint": col.OTLPEndpoint, "url": vl.URL}},
		{"direct", map[string]string{"url": vl.URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tc.cfg)
			for round := range 3 {
				scope := runlog.Scope{RunID: "ryw-" + tc.name, StepID: "s" + strconv.Itoa(round)}
				ctx, err := s.Activate(t.Context(), scope)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 500 {
					slog.InfoContext(ctx, "line", "i", i)
				}
				if err := s.Deactivate(ctx); err != nil {
					t.Fatal(err)
				}
				var n int
				var ends []runlog.End
				q := runlog.Query{RunID: scope.RunID, StepID: scope.StepID}
				for {
					p, err := s.Fetch(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					n += len(p.Entries)
					ends = append(ends, p.Ends...)
					if !p.More {
						break
					}
					q.Cursor = p.Next
				}
				if n != 500 || len(ends) != 1 {
					t.Fatalf("%s: right after Deactivate, Fetch returned %d of 500 entries and %d end markers; want all and 1", scope, n, len(ends))
				}
			}
		})
	}
}
