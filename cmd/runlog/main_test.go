package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"runlog": main})
}

// TestScripts runs the CLI scripts in testdata/script: each is a shell-like
// script with its expected output, run in a fresh directory with its own
// config file and data directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
