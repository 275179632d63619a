package render

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

// FuzzAppendEntry: the hand-written encoder writes exactly what
// encoding/json writes for the same entry, but for the characters that
// could drive a terminal, which it writes as \u escapes (JSONSafe).
func FuzzAppendEntry(f *testing.F) {
	f.Add("msg <b>&\"\\\n\t\x01\u2028", "name", "run", "step", "k", "v\xff", int64(1764071461255172025), 9, 12, uint64(3))
	f.Add("", "", "r", "", "", "", int64(0), 0, 0, uint64(0))
	f.Add("\u009b31m \u202eevil\u2066", "\u0085", "r\u061c", "s\u200f", "k\u2029", "v\u0080", int64(0), 0, 0, uint64(0))
	f.Fuzz(func(t *testing.T, msg, name, run, step, k, v string, ns int64, level, lineno int, seq uint64) {
		e := runlog.LogEntry{Message: msg, Name: name, Level: runlog.Level(level), Time: time.Unix(0, ns).UTC(),
			Module: name, Filename: step, Lineno: lineno, ChunkIndex: level, TotalChunks: 1, ID: run + k,
			RunID: run, StepID: step, Source: k, Attempt: lineno, ActivationID: v, Sequence: seq, TraceID: k, SpanID: v}
		if k != "" {
			e.Attributes = map[string]string{k: v, v: msg}
		}
		want, werr := json.Marshal(&e)
		want = JSONSafe(want)
		got, gerr := AppendEntry(nil, &e)
		if (werr != nil) != (gerr != nil) || string(got) != string(want) {
			t.Fatalf("AppendEntry =\n%s (%v)\nencoding/json =\n%s (%v)", got, gerr, want, werr)
		}
	})
}
