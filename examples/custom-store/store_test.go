package main

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/storetest"
)

func newStore(t *testing.T, b *Backend) *Store {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	s, err := New(Config{URL: srv.URL, Token: b.Token, MinLevel: slog.LevelDebug, Console: slog.DiscardHandler,
		FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// snippet:conformance
// TestConformance: the store passes runlog's whole conformance suite.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{Store: newStore(t, &Backend{Token: "t"}), Timeout: 5 * time.Second})
}

// end snippet

// TestRetries: the backend refuses the first ingest calls; the store
// retries with backoff and loses nothing.
func TestRetries(t *testing.T) {
	b := &Backend{Token: "t", FailNext: 3}
	s := newStore(t, b)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "retry"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		runlog.Logger(ctx).Info("line", "i", i)
	}
	if err := s.Deactivate(ctx); err != nil {
		t.Fatalf("Deactivate after transient failures = %v", err)
	}
	p, err := s.Fetch(t.Context(), runlog.Query{RunID: "retry"})
	if err != nil || len(p.Entries) != 10 {
		t.Fatalf("Fetch = %d entries, %v; want 10", len(p.Entries), err)
	}
}

// TestBadToken: a wrong token fails fast with ErrUnauthorized, counted.
func TestBadToken(t *testing.T) {
	srv := httptest.NewServer(&Backend{Token: "right"})
	defer srv.Close()
	s, err := New(Config{URL: srv.URL, Token: "wrong", Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "lost")
	if err := s.Deactivate(ctx); !errors.Is(err, runlog.ErrUnauthorized) {
		t.Errorf("Deactivate = %v; want ErrUnauthorized", err)
	}
	if _, err := s.Fetch(t.Context(), runlog.Query{RunID: "r"}); !errors.Is(err, runlog.ErrUnauthorized) {
		t.Errorf("Fetch = %v; want ErrUnauthorized", err)
	}
}

// TestFlavorConfig: the flavor validates its configuration.
func TestFlavorConfig(t *testing.T) {
	for _, cfg := range []map[string]string{
		{"token": "t"},                                   // url missing
		{"url": "not a url", "token": "t"},               // bad url
		{"url": "http://x", "token": "t", "colour": "1"}, // unknown key
		{"url": "http://x", "token": "t", "batch_size": "0"},
		{"url": "http://x", "token": "${UNSET_TOKEN_VARIABLE}"},
	} {
		if _, err := runlog.Open(t.Context(), "http_backend", cfg); !errors.Is(err, runlog.ErrInvalid) {
			t.Errorf("Open(%v) = %v; want ErrInvalid", cfg, err)
		}
	}
}
