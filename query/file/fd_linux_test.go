//go:build linux

package file

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/runlog/runlog"
)

// TestManyActivations: a run of 1,100 activations is read whole by a
// process allowed 200 open files: a fetch holds at most maxOpen at once.
// The read runs in a child process, whose limit is lowered before it.
func TestManyActivations(t *testing.T) {
	const n = 1100
	if root := os.Getenv("RUNLOG_TEST_MANY_ROOT"); root != "" {
		lim := syscall.Rlimit{Cur: 200, Max: 200}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{0, 500} {
			es, ds := fetchAll(t, New(root), runlog.Query{RunID: "r", Limit: limit})
			if len(es) != 2*n || len(ds) != 0 {
				t.Fatalf("limit %d: %d entries, damage %v; want %d, none", limit, len(es), ds, 2*n)
			}
		}
		return
	}
	root := t.TempDir()
	for i := range n {
		act{run: "r", step: fmt.Sprint("s", i%10), id: fmt.Sprint("a", i)}.write(t, root, 1, 2, 1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestManyActivations$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RUNLOG_TEST_MANY_ROOT="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
