package main

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFollow: --follow prints what a running step logs while it runs,
// every line once, in order.
func TestFollow(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler, ExportInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(t.Context(), runlog.Scope{RunID: "live", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	p, _ := newPrinter(&out, "text")
	fctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := printEntries(fctx, p, store, runlog.Query{RunID: "live", StepID: "s", Limit: 7}, tailOptions{follow: true}, nil)
		done <- err
	}()
	const n = 60
	for i := range n {
		slog.InfoContext(ctx, "line "+strconv.Itoa(i))
		if i%10 == 9 {
			time.Sleep(120 * time.Millisecond) // let a batch land and the tail poll
		}
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	// The tail stops by itself at the step's end marker.
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("the tail did not stop at the step's end marker; printed:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n {
		t.Fatalf("followed %d lines; want %d:\n%s", len(lines), n, out.String())
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, " line "+strconv.Itoa(i)) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
}

// TestFollowRunOfSteps: a tail of a whole run made only of step
// activations (no run-level end marker) stops once every activation seen
// has ended and none started for the quiet period, and not while one
// still runs.
func TestFollowRunOfSteps(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler, ExportInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, err := store.Activate(t.Context(), runlog.Scope{RunID: "steps", StepID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(a, "from a")
	if err := store.Deactivate(a); err != nil {
		t.Fatal(err)
	}
	b, err := store.Activate(t.Context(), runlog.Scope{RunID: "steps", StepID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(b, "from b")
	time.Sleep(300 * time.Millisecond) // a batch lands: b is seen running

	var out syncBuffer
	p, _ := newPrinter(&out, "text")
	fctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := printEntries(fctx, p, store, runlog.Query{RunID: "steps"}, tailOptions{follow: true, quiet: 300 * time.Millisecond}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the tail stopped (%v) while step b still runs; printed:\n%s", err, out.String())
	case <-time.After(2 * time.Second):
	}
	slog.InfoContext(b, "b again")
	if err := store.Deactivate(b); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the tail did not stop once every step ended; printed:\n%s", out.String())
	}
	for _, want := range []string{"from a", "from b", "b again"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tail did not print %q:\n%s", want, out.String())
		}
	}
}
