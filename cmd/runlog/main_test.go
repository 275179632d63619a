package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/itest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"runlog": main})
}

// TestScripts runs the CLI scripts in testdata/script: each is a shell-like
// script with its expected output, run in a fresh directory with its own
// config file and data directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:       "testdata/script",
		Condition: condition,
		Cmds:      map[string]func(*testscript.TestScript, bool, []string){"storetext": storeText},
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

// storeText prints the text of every file under the directory given,
// zstd frames decompressed (the local store's records), so that a script
// can check what is on disk: `storetext $RUNLOG_DATA_DIR` then `! stdout
// SECRET`.
func storeText(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: storetext DIR")
	}
	var out []byte
	err := filepath.WalkDir(ts.MkAbs(args[0]), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if framing.Sniff(b) == framing.Zstd {
			if b, err = framing.Decompress(nil, b); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		out = append(out, b...)
		return nil
	})
	ts.Check(err)
	ts.Stdout().Write(out)
}

// condition adds [root]: the tests run as root, who can chown.
func condition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// TestScriptsVictoriaLogs runs the scripts in testdata/victorialogs
// against a real VictoriaLogs and a collector feeding it, started once for
// all of them; $VL_URL and $OTLP_ENDPOINT name them.
func TestScriptsVictoriaLogs(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	testscript.Run(t, testscript.Params{
		Dir: "testdata/victorialogs",
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("RUNLOG_SPOOL_DIR", env.WorkDir+"/spool")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("VL_URL", vl.URL)
			env.Setenv("OTLP_ENDPOINT", col.OTLPEndpoint)
			return nil
		},
	})
}
