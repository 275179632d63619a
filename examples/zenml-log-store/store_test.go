package zenmllogstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/serve"
)

// TestPythonFetch: the Python store's fetch returns every entry of a
// step, in order, exact, across pages when the server caps a page.
func TestPythonFetch(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Python example cannot be run")
	}
	store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := store.Activate(context.Background(), runlog.Scope{RunID: "run/1 é", StepID: "train"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	for i := range n {
		slog.InfoContext(ctx, fmt.Sprintf("line %d <ü>\t\"", i), slog.Int("i", i))
	}
	if err := store.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.New(store, serve.Options{MaxLimit: 100})) // pages of 100 at most
	defer srv.Close()

	for _, c := range []struct {
		limit, want int
	}{{20000, n}, {30, 30}} {
		cmd := exec.CommandContext(t.Context(), py, "runlog_log_store.py", srv.URL, "run/1 é", "train", fmt.Sprint(c.limit))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != c.want {
			t.Fatalf("limit %d: %d entries; want %d", c.limit, len(lines), c.want)
		}
		for i, l := range lines {
			var e struct {
				Message   string            `json:"message"`
				Level     string            `json:"level"`
				Timestamp time.Time         `json:"timestamp"`
				RunID     string            `json:"run_id"`
				StepID    string            `json:"step_id"`
				Attrs     map[string]string `json:"attributes"`
			}
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("line %d <ü>\t\"", i); e.Message != want || e.Level != "INFO" || e.RunID != "run/1 é" ||
				e.StepID != "train" || e.Timestamp.IsZero() || e.Attrs["i"] != fmt.Sprint(i) {
				t.Fatalf("entry %d: %s", i, l)
			}
		}
	}
}
