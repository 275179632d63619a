package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/serve"
)

// pageCounter wraps a real store's Fetcher and notes the largest page it
// was asked for and how many fetches there were.
type pageCounter struct {
	runlog.Fetcher
	mu       sync.Mutex
	largest  int
	fetches  int
	returned int
}

func (c *pageCounter) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	p, err := c.Fetcher.Fetch(ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.largest = max(c.largest, q.EffectiveLimit())
	c.fetches++
	c.returned = max(c.returned, len(p.Entries))
	return p, err
}

func (c *pageCounter) reset() (largest, fetches, returned int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	largest, fetches, returned = c.largest, c.fetches, c.returned
	c.largest, c.fetches, c.returned = 0, 0, 0
	return
}

// TestPagesBounded: whatever limit or page size they are given, `runlog
// logs`, runlog.All, runlog.Check and serve's download ask the store for
// at most runlog.MaxPage entries at once, and still return every entry.
func TestPagesBounded(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler, NoSource: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(t.Context(), runlog.Scope{RunID: "big", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const n = runlog.MaxPage + runlog.MaxPage/2
	for i := range n {
		slog.InfoContext(ctx, "line", "i", i)
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &pageCounter{Fetcher: store}
	huge := runlog.Query{RunID: "big", Limit: 2_000_000}
	bounded := func(what string, got int) {
		t.Helper()
		largest, fetches, returned := f.reset()
		if got != n || largest > runlog.MaxPage || returned > runlog.MaxPage || fetches < 2 {
			t.Errorf("%s: %d entries in %d fetches, largest page asked %d, returned %d; want %d entries in pages of at most %d",
				what, got, fetches, largest, returned, n, runlog.MaxPage)
		}
	}

	p, _ := newPrinter(io.Discard, "jsonl")
	printed, err := printEntries(t.Context(), p, f, huge, tailOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bounded("runlog logs --limit 2000000", printed)

	all := 0
	for _, err := range runlog.All(t.Context(), f, huge) {
		if err != nil {
			t.Fatal(err)
		}
		all++
	}
	bounded("runlog.All", all)

	cs, err := runlog.Check(t.Context(), f, huge)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Check = %v, %v", cs, err)
	}
	bounded("runlog.Check", int(cs[0].Received))

	srv := httptest.NewServer(serve.New(f, serve.Options{PageSize: 1 << 30}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v1/runs/big/logs/download?format=jsonl")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	bounded("serve download, PageSize 1<<30", strings.Count(string(b), "\n"))
}
