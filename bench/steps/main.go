// Command steps measures one process running many steps at once on the
// local store: STEPS activations (1,000 by default) log LINES lines each,
// all at the same time, under the store's memory bound
// (otelstore.Options.MemoryMaxBytes). It samples the Go heap while they
// log and prints its peak (with garbage, and live after a GC) next to
// the bound and to the most bytes of
// records the store held (Stats.MemoryPeak), how many records waited
// (backpressure), then reads the run back with runlog.Check and says
// whether every step holds exactly its own records. It prints; it does
// not fail on figures, only on records lost or misattributed.
//
//	go run ./bench/steps [-steps 1000] [-lines 2000] [-bound 64]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/bench/internal/figure"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

func main() {
	steps := flag.Int("steps", 1000, "activations logging at once")
	lines := flag.Int("lines", 2000, "lines per step")
	boundMiB := flag.Int64("bound", 64, "the store's memory bound, MiB (otelstore.Options.MemoryMaxBytes)")
	heapProfile := flag.String("heapprofile", "", "write a heap profile near the peak to this file")
	flag.Parse()
	dir, err := os.MkdirTemp("", "runlog-steps")
	check(err)
	defer os.RemoveAll(dir)
	bound := *boundMiB << 20
	store, err := flavors.NewLocal(dir, false, otelstore.Options{Console: slog.DiscardHandler, NoSource: true, MemoryMaxBytes: bound})
	check(err)

	runtime.GC()
	base := heap()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the heap every 5 ms while the steps log
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var profiled time.Time
		for {
			if l := liveHeap(); l > peakLive.Load() {
				peakLive.Store(l)
			}
			if h := heap(); h > peak.Load() {
				peak.Store(h)
				if *heapProfile != "" && time.Since(profiled) > time.Second {
					profiled = time.Now()
					f, err := os.Create(*heapProfile)
					check(err)
					check(pprof.WriteHeapProfile(f))
					check(f.Close())
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Value
	ready := make(chan struct{})
	msg := strings.Repeat("x", 60)
	for i := range *steps {
		wg.Go(func() {
			step := fmt.Sprint("step-", i)
			ctx, err := store.Activate(context.Background(), runlog.Scope{RunID: "many", StepID: step})
			if err != nil {
				failed.Store(err)
				return
			}
			<-ready // all at once
			for j := range *lines {
				slog.InfoContext(ctx, msg, "step", step, "j", j)
			}
			if err := store.Deactivate(ctx); err != nil {
				failed.Store(err)
			}
		})
	}
	close(ready)
	wg.Wait()
	close(stop)
	<-sampled
	logged := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "steps:", err)
		os.Exit(1)
	}
	st := store.Stats()

	// Read back step by step: a Check of the whole run merges every
	// step's file at once, which the local store does slowly for 1,000.
	readStart := time.Now()
	bad, acts := 0, 0
	for i := range *steps {
		step := fmt.Sprint("step-", i)
		cs, err := runlog.Check(context.Background(), store, runlog.Query{RunID: "many", StepID: step})
		check(err)
		acts += len(cs)
		if len(cs) != 1 || cs[0].StepID != step || cs[0].Status != runlog.StatusComplete || cs[0].Received != uint64(*lines) {
			bad++
		}
	}
	read := time.Since(readStart)

	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	total := *steps * *lines
	fmt.Printf("== %d steps logging %d lines each at once, local store, memory bound %d MiB ==\n", *steps, *lines, *boundMiB)
	fmt.Printf("logged %d records in %.1f s (%.0f records/s), %d waited for memory or queue room\n",
		total, logged.Seconds(), float64(total)/logged.Seconds(), st.Waited)
	fmt.Printf("records held at most  %8.1f MiB  (%.2fx the bound)\n", mib(uint64(st.MemoryPeak)), float64(st.MemoryPeak)/float64(bound))
	fmt.Printf("peak Go heap          %8.1f MiB  (%.2fx the bound; %.1f MiB before the steps started; garbage not yet collected included)\n", mib(peak.Load()), float64(peak.Load())/float64(bound), mib(base))
	fmt.Printf("peak live heap        %8.1f MiB  (%.2fx the bound; what the last GC found reachable)\n", mib(peakLive.Load()), float64(peakLive.Load())/float64(bound))
	fmt.Printf("read back step by step in %.1f s: %d activations; %d steps not exactly one activation with its own %d records, complete\n", read.Seconds(), acts, bad, *lines)
	// Rows for make bench's table (bench/summary).
	name := fmt.Sprintf("%d concurrent steps: ", *steps)
	fmt.Println(figure.Row(name+"peak live heap vs the memory bound", mib(peakLive.Load()), mib(uint64(bound)), "MiB", "bound", "-"))
	fmt.Println(figure.Row(name+"records held at most vs the bound", mib(uint64(st.MemoryPeak)), mib(uint64(bound)), "MiB", "bound", "ratio<=1"))
	fmt.Println(figure.Row(name+"steps read back wrong", float64(bad), 0, "steps", "none", "value<1"))
	if bad > 0 {
		os.Exit(1)
	}
}

// heap returns the bytes of live and not yet swept heap objects.
func heap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// liveHeap returns the heap the last GC found reachable.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "steps:", err)
		os.Exit(1)
	}
}
