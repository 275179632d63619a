package capture_test

import (
	"bytes"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
)

func TestExec(t *testing.T) {
	s, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	long := strings.Repeat("x", 200000) // longer than any line buffer
	cmd := exec.Command("sh", "-c", `printf 'a\nb\n'; head -c 200000 /dev/zero | tr '\0' x; echo; printf 'no newline' >&2; exit 5`)
	res, err := capture.Exec(t.Context(), s, runlog.Scope{RunID: "r", StepID: "s"}, cmd, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 5 || res.Cause != "error" || res.Lines != 4 {
		t.Fatalf("result %+v; want exit 5, error, 4 lines", res)
	}
	if out.String() != "a\nb\n"+long+"\n" || errOut.String() != "no newline" {
		t.Fatalf("passed through %q / %q", out.String()[:10], errOut.String())
	}
	var got []string
	for e, err := range runlog.All(t.Context(), s, runlog.Query{RunID: "r", StepID: "s"}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Attributes[capture.StreamKey] == "stderr" && e.Level != runlog.LevelWarn {
			t.Errorf("stderr line at %v; want WARN", e.Level)
		}
		got = append(got, e.Message)
	}
	joined := strings.Join(got, "|")
	for _, want := range []string{"a|b", "no newline", "process exited: error"} {
		if !strings.Contains(joined, want) {
			t.Errorf("stored %q; missing %q", joined[:min(len(joined), 200)], want)
		}
	}
	var whole strings.Builder
	for _, m := range got {
		if strings.HasPrefix(m, "xxx") {
			whole.WriteString(m)
		}
	}
	if whole.String() != long {
		t.Errorf("the 200,000-byte line came back as %d bytes", whole.Len())
	}
}
