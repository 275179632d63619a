package otelstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// waitFor polls cond, failing the test if it does not hold within 10 s
// (a hang, not a speed: the conditions are reached in microseconds).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
	}
}

// TestBudgetFair: an activation below its fair share that waits for
// memory gets what is freed before one above its share, however the two
// race for it.
func TestBudgetFair(t *testing.T) {
	for range 50 {
		b := newBudget(100)
		hot, quiet := b.join(func() {}), b.join(func() {}) // fair share: 50 each
		if ok, _ := hot.acquire(90, false); !ok {
			t.Fatal("the first 90 bytes of 100 did not fit")
		}
		quietDone, hotDone := make(chan struct{}), make(chan struct{})
		go func() { quiet.acquire(20, false); close(quietDone) }()
		waitFor(t, "the quiet activation waits", func() bool { return b.waiting.Load() == 1 })
		go func() { hot.acquire(20, false); close(hotDone) }()
		waitFor(t, "the hot activation waits too", func() bool { return b.waiting.Load() == 2 })
		hot.release(20) // 30 free: room for one of them
		select {
		case <-quietDone:
		case <-hotDone:
			t.Fatal("the activation above its share took the freed memory from one below it")
		case <-time.After(10 * time.Second):
			t.Fatal("neither waiter got the freed memory")
		}
		// take adds before it checks, so a waiter's failed try shows in
		// used for a moment: wait for it to settle, then the hot one must
		// still be waiting.
		waitFor(t, "used 90 with the hot one waiting", func() bool { return b.used.Load() == 90 && b.waiting.Load() == 1 })
		select {
		case <-hotDone:
			t.Fatal("the activation above its share got memory past the bound")
		default:
		}
		quiet.release(20)
		<-hotDone
		if p := b.peak.Load(); p > 100 {
			t.Fatalf("peak %d over the bound 100", p)
		}
	}
}

// stepCounter counts exported records per step, from their resource,
// slowly, so that logging outruns it and waits for memory.
type stepCounter struct {
	mu   sync.Mutex
	n    map[string]int
	ends map[string]int
}

func (c *stepCounter) Export(_ context.Context, rs []sdklog.Record) error {
	time.Sleep(time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range rs {
		step, _ := rs[i].Resource().Set().Value(resource.StepID)
		end := false
		rs[i].WalkAttributes(func(kv attribute.KeyValue) bool { end = end || resource.IsEnd(kv); return true })
		if end {
			c.ends[step.AsString()]++
		} else {
			c.n[step.AsString()]++
		}
	}
	return nil
}
func (c *stepCounter) Shutdown(context.Context) error   { return nil }
func (c *stepCounter) ForceFlush(context.Context) error { return nil }

// TestManyActivationsOneBound: 200 activations log at once into a store
// whose memory bound holds a fraction of what they log: every record
// reaches its own step, none is lost, the records held in memory never
// exceed the bound, and logging waited (backpressure) rather than grew.
func TestManyActivationsOneBound(t *testing.T) {
	const steps, per, bound = 200, 300, 256 << 10
	exp := &stepCounter{n: map[string]int{}, ends: map[string]int{}}
	s, err := New(Options{Console: slog.DiscardHandler, NoSpool: true, NoSource: true, MemoryMaxBytes: bound,
		ExportInterval: 10 * time.Millisecond, BatchSize: 64,
		Exporter: func(context.Context, *runlog.Activation) (sdklog.Exporter, error) { return exp, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range steps {
		wg.Go(func() {
			step := fmt.Sprint("step-", i)
			ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: "many", StepID: step})
			if err != nil {
				failed.Store(err)
				return
			}
			for j := range per {
				slog.InfoContext(ctx, "a line of some length, to weigh on the bound", "step", step, "j", j)
			}
			if err := s.Deactivate(ctx); err != nil {
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	for i := range steps {
		step := fmt.Sprint("step-", i)
		if exp.n[step] != per || exp.ends[step] != 1 {
			t.Errorf("%s: %d records and %d end markers exported; want %d and 1", step, exp.n[step], exp.ends[step], per)
		}
	}
	st := s.Stats()
	if st.MemoryPeak > bound || st.MemoryPeak == 0 {
		t.Errorf("peak memory held %d bytes; want at most the bound %d", st.MemoryPeak, bound)
	}
	if st.Waited == 0 {
		t.Errorf("no record waited; want logging held back by the bound of %d bytes (%s)", bound, st)
	}
	if st.Memory != 0 || st.Logged != steps*per || st.Delivered != steps*(per+1) {
		t.Errorf("after every Deactivate: %d bytes held, %s; want 0, %d logged, all delivered", st.Memory, st, steps*per)
	}
	t.Logf("%s; peak %d bytes of %d", st, st.MemoryPeak, bound)
}
