package otelstore_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/otelstore"
)

// TestNoEmptySource: a record without a source location (a captured
// line) is stored without code.* attributes; one logged from Go code
// keeps its file, line and function.
func TestNoEmptySource(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t, dir, otelstore.Options{Console: slog.DiscardHandler})
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "src"})
	if err != nil {
		t.Fatal(err)
	}
	h := runlog.Logger(ctx).Handler().WithAttrs([]slog.Attr{slog.String("k", "v")})
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "captured", 0)); err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "from code")
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	es := readAll(t, dir, "src")
	if len(es) != 2 || es[0].Filename != "" || es[1].Filename == "" || es[0].Attributes["k"] != "v" {
		t.Fatalf("entries %+v; want the captured one without a source, with k=v, and the other with one", es)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "runs", "*.jsonl"))
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if b, err = framing.Decompress(nil, b); err != nil { // the local format: zstd frames
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"code.file.path"`)); n != 1 {
		t.Errorf("code.file.path stored %d times; want once, for the record from code", n)
	}
}
