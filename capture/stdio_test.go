package capture_test

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

// TestStdio captures what fmt.Println and a child process write to the
// process's own stdout and stderr into the step.
func TestStdio(t *testing.T) {
	s, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "fd", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := capture.StartStdio(runlog.Logger(ctx).Handler())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("from fmt.Println")
	// File descriptor 2 itself: under `go test -json` the testing package
	// points the os.Stderr variable at stdout.
	_, _ = syscall.Write(2, []byte("from os.Stderr\n"))
	child := exec.Command("sh", "-c", "echo from a child")
	child.Stdout = os.Stdout
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("after Stop: not captured")
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for e, err := range runlog.All(t.Context(), s, runlog.Query{RunID: "fd"}) {
		if err != nil {
			t.Fatal(err)
		}
		got[e.Message] = e.Attributes[capture.StreamKey]
	}
	want := map[string]string{"from fmt.Println": "stdout", "from os.Stderr": "stderr", "from a child": "stdout"}
	if len(got) != len(want) {
		t.Fatalf("captured %v; want %v", got, want)
	}
	for m, stream := range want {
		if got[m] != stream {
			t.Errorf("%q: stream %q; want %q (all: %v)", m, got[m], stream, got)
		}
	}
}
