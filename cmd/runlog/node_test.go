package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/runlog/runlog/internal/itest"
)

// The scripts of testdata/victorialogs that run a step written in Node.js
// (tools/nodeproducer, the official OpenTelemetry JS SDK) get these
// commands and the [node] condition.
//
//	[!node] skip                           the producer is not installed (an error instead when servers are required)
//	nodestep LAYOUT RUN STEP COUNT [SERVICE]  run it against $OTLP_ENDPOINT; sets $NODE_FIRST and $NODE_LAST (RFC 3339, ns)
//	nodeentries FILE LAYOUT RUN STEP COUNT  FILE (jsonl of runlog logs) holds exactly that step's records, in order,
//	                                        with their levels, times (from $NODE_FIRST to $NODE_LAST) and attributes
//	inorder FILE STEP...                    FILE's entries are in time order, and its steps come in blocks in that order
var nodeCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"nodestep":    cmdNodeStep,
	"nodeentries": cmdNodeEntries,
	"inorder":     cmdInOrder,
}

var nodeProducer = sync.OnceValues(itest.FindNodeProducer)

// nodeCondition is [node]: the producer is installed. Where servers are
// required ($CI, $RUNLOG_REQUIRE_SERVERS=1), its absence is an error, as a
// missing server's is.
func nodeCondition() (bool, error) {
	_, err := nodeProducer()
	if err == nil {
		return true, nil
	}
	if os.Getenv("CI") == "true" || os.Getenv("RUNLOG_REQUIRE_SERVERS") == "1" {
		return false, err
	}
	return false, nil
}

func cmdNodeStep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 4 || len(args) > 5 {
		ts.Fatalf("usage: nodestep LAYOUT RUN STEP COUNT [SERVICE]")
	}
	p, err := nodeProducer()
	ts.Check(err)
	n, err := strconv.Atoi(args[3])
	ts.Check(err)
	s := itest.NodeStep{Layout: itest.NodeLayout(args[0]), RunID: args[1], StepID: args[2], Count: n}
	if len(args) == 5 {
		s.Service = args[4]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := p.Command(ctx, ts.Getenv("OTLP_ENDPOINT"), s)
	out, err := cmd.Output()
	if neg {
		if err == nil {
			ts.Fatalf("nodestep succeeded: %s", out)
		}
		return
	}
	if err != nil {
		ts.Fatalf("nodestep: %v\n%s%s", err, out, stderrOf(err))
	}
	var rep struct {
		Records int    `json:"records"`
		FirstNS string `json:"first_ns"`
		LastNS  string `json:"last_ns"`
	}
	ts.Check(json.Unmarshal(out, &rep))
	if rep.Records != n {
		ts.Fatalf("nodestep: the producer reports %d records; want %d", rep.Records, n)
	}
	for k, v := range map[string]string{"NODE_FIRST": rep.FirstNS, "NODE_LAST": rep.LastNS} {
		ns, err := strconv.ParseInt(v, 10, 64)
		ts.Check(err)
		ts.Setenv(k, time.Unix(0, ns).UTC().Format(time.RFC3339Nano))
	}
}

// stderrOf returns what a command that failed wrote to its stderr.
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// entryJSON is what these commands read of `runlog logs -o jsonl`.
type entryJSON struct {
	Message    string            `json:"message"`
	Name       string            `json:"name"`
	Level      string            `json:"level"`
	Timestamp  time.Time         `json:"timestamp"`
	RunID      string            `json:"run_id"`
	StepID     string            `json:"step_id"`
	Source     string            `json:"source"`
	Sequence   uint64            `json:"sequence"`
	Attributes map[string]string `json:"attributes"`
}

func readEntries(ts *testscript.TestScript, file string) []entryJSON {
	f, err := os.Open(ts.MkAbs(file))
	ts.Check(err)
	defer f.Close()
	var es []entryJSON
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e entryJSON
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			ts.Fatalf("%s: %v: %s", file, err, sc.Bytes())
		}
		es = append(es, e)
	}
	ts.Check(sc.Err())
	return es
}

// nodeLevel is the level the producer gives record i: DEBUG, INFO, WARN,
// ERROR in turn from record 0.
func nodeLevel(i int) string { return [...]string{"DEBUG", "INFO", "WARN", "ERROR"}[i%4] }

func cmdNodeEntries(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: nodeentries FILE LAYOUT RUN STEP COUNT")
	}
	file, layout, run, step := args[0], args[1], args[2], args[3]
	n, err := strconv.Atoi(args[4])
	ts.Check(err)
	first, err1 := time.Parse(time.RFC3339Nano, ts.Getenv("NODE_FIRST"))
	last, err2 := time.Parse(time.RFC3339Nano, ts.Getenv("NODE_LAST"))
	if err1 != nil || err2 != nil {
		ts.Fatalf("nodeentries: no $NODE_FIRST and $NODE_LAST: run nodestep first")
	}
	es := readEntries(ts, file)
	if len(es) != n {
		ts.Fatalf("%s: %d entries; want exactly the %d of the Node step", file, len(es), n)
	}
	var prev time.Time
	for k, e := range es {
		i := k + 1
		var bad []string
		if want := fmt.Sprintf("node record %d of %d", i, n); e.Message != want {
			bad = append(bad, fmt.Sprintf("message %q, want %q", e.Message, want))
		}
		if e.Level != nodeLevel(i) {
			bad = append(bad, fmt.Sprintf("level %s, want %s", e.Level, nodeLevel(i)))
		}
		if e.RunID != run || e.StepID != step {
			bad = append(bad, fmt.Sprintf("run %q step %q, want %q %q", e.RunID, e.StepID, run, step))
		}
		if e.Sequence != 0 {
			bad = append(bad, fmt.Sprintf("sequence %d, want none (not written by runlog)", e.Sequence))
		}
		switch {
		case i == 1 && !e.Timestamp.Equal(first):
			bad = append(bad, fmt.Sprintf("time %s, want the producer's first, %s", e.Timestamp.Format(time.RFC3339Nano), first.Format(time.RFC3339Nano)))
		case i == n && !e.Timestamp.Equal(last):
			bad = append(bad, fmt.Sprintf("time %s, want the producer's last, %s", e.Timestamp.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano)))
		case !e.Timestamp.After(prev):
			bad = append(bad, fmt.Sprintf("time %s not after the previous entry's", e.Timestamp.Format(time.RFC3339Nano)))
		}
		prev = e.Timestamp
		for k, want := range map[string]string{"node.index": strconv.Itoa(i), "node.even": strconv.FormatBool(i%2 == 0), "node.layout": layout} {
			if got, ok := e.Attributes[k]; !ok || got != want {
				bad = append(bad, fmt.Sprintf("attribute %s=%q, want %q", k, got, want))
			}
		}
		if len(bad) > 0 {
			ts.Fatalf("%s: entry %d: %s", file, i, strings.Join(bad, "; "))
		}
	}
}

func cmdInOrder(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: inorder FILE STEP...")
	}
	es := readEntries(ts, args[0])
	var steps []string // each step once, as its block starts
	for k, e := range es {
		if k > 0 && e.Timestamp.Before(es[k-1].Timestamp) {
			ts.Fatalf("%s: entry %d (%s %q at %s) is before the entry above it (%s)", args[0], k+1, e.StepID, e.Message, e.Timestamp.Format(time.RFC3339Nano), es[k-1].Timestamp.Format(time.RFC3339Nano))
		}
		if len(steps) == 0 || steps[len(steps)-1] != e.StepID {
			steps = append(steps, e.StepID)
		}
	}
	if got, want := strings.Join(steps, " "), strings.Join(args[1:], " "); got != want {
		ts.Fatalf("%s: the steps come in the blocks %q; want %q", args[0], got, want)
	}
}
