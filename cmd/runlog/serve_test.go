package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/serve"
)

// TestServeMatchesLogs: the API's download is byte for byte what `runlog
// logs` prints, as text and as jsonl, hostile content included.
func TestServeMatchesLogs(t *testing.T) {
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(context.Background(), runlog.Scope{RunID: "r", StepID: "s\x1b[2J\u202e"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"plain", "\x1b]0;t\x07 <b>&</b> \u2028\u0085 \xff", "two\r\nlines\n", ""} {
		slog.WarnContext(ctx, m, slog.String("a b", "c\"d\\e\n"), slog.Int("n", 1), slog.String("code.x", "hidden"))
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.New(store, serve.Options{Location: time.Local}))
	defer srv.Close()
	for _, format := range []string{"text", "jsonl"} {
		var want bytes.Buffer
		p, _ := newPrinter(&want, format)
		if _, err := printEntries(t.Context(), p, store, runlog.Query{RunID: "r"}, tailOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		p.close()
		resp, err := srv.Client().Get(srv.URL + "/api/v1/runs/r/logs/download?format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: the download differs from runlog logs:\n got %q\nwant %q", format, got, want.Bytes())
		}
	}
}
