package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

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
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
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
// all of them; $VL_URL and $OTLP_ENDPOINT name them. The scripts also have
// the Node.js step's commands (node_test.go).
func TestScriptsVictoriaLogs(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/victorialogs",
		Cmds: nodeCmds,
		Condition: func(cond string) (bool, error) {
			if cond == "node" {
				return nodeCondition()
			}
			return condition(cond)
		},
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
