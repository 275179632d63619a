package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

// check's own exit codes.
const (
	// exitIncomplete: records missing, a step still running, or damage.
	exitIncomplete = 5
	// exitUnaccounted: every step runlog wrote is complete, but some were
	// written by another program (no sequence numbers), so their
	// completeness cannot be told. A CI gate that accepts foreign steps
	// treats 6 as success; one that must vouch for every step does not.
	exitUnaccounted = 6
)

func newFlush() *cobra.Command {
	var store string
	cmd := &cobra.Command{
		Use:   "flush",
		Short: "Replay the records waiting in a store's spool",
		Long: `Replay the records that could not be delivered when they were logged
(backend down, process killed) from the store's spool directory to its
backend, in order, and remove what was replayed. Records of activations
still running in other processes are left to them. See docs/reliability.md.`,
		Example: `  runlog flush
  runlog flush --store ci`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openStore(cmd, store)
			if err != nil {
				return err
			}
			fl, ok := s.(runlog.Flusher)
			if !ok {
				return fmt.Errorf("%s keeps no records to flush", storeName(store))
			}
			rep, err := fl.Flush(cmd.Context())
			if err == nil && rep.Dir == "" {
				return fmt.Errorf("%s has no spool to flush", storeName(store))
			}
			fmt.Fprintln(cmd.OutOrStdout(), escapeText(fmt.Sprint(rep)))
			return err
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "registered store (default: the default store)")
	return cmd
}

// checkJSON is one activation in `runlog check -o json`: the snake_case
// names every JSON output of runlog uses.
type checkJSON struct {
	RunID        string       `json:"run_id"`
	StepID       string       `json:"step_id"`
	Source       string       `json:"source"`
	ActivationID string       `json:"activation_id"`
	Status       string       `json:"status"`
	Received     uint64       `json:"received"`
	Duplicates   uint64       `json:"duplicates"`
	Expected     uint64       `json:"expected"`
	Missing      uint64       `json:"missing"`
	Gaps         []gapJSON    `json:"gaps"`
	Ended        bool         `json:"ended"`
	Dropped      uint64       `json:"dropped"`
	Rejected     uint64       `json:"rejected"`
	Redacted     uint64       `json:"redacted"`
	Cause        string       `json:"cause"`
	Result       string       `json:"result"` // cicd.pipeline.task.run.result: success, failure, ...
	Damaged      []damageJSON `json:"damaged"`
}

type damageJSON struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"` // -1: the whole file
	Error  string `json:"error"`
}

type gapJSON struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

func toCheckJSON(cs []runlog.Completeness) []checkJSON {
	out := make([]checkJSON, len(cs))
	for i, c := range cs {
		gaps := make([]gapJSON, len(c.Gaps))
		for j, g := range c.Gaps {
			gaps[j] = gapJSON{g.From, g.To}
		}
		damaged := make([]damageJSON, len(c.Damaged))
		for j, d := range c.Damaged {
			damaged[j] = damageJSON{d.File, d.Offset, d.Err}
		}
		out[i] = checkJSON{RunID: c.RunID, StepID: c.StepID, Source: c.Source, ActivationID: c.Activation,
			Status: string(c.Status), Received: c.Received, Duplicates: c.Duplicates, Expected: c.Expected,
			Missing: c.Missing, Gaps: gaps, Ended: c.Ended, Dropped: c.Dropped, Rejected: c.Rejected,
			Redacted: c.Redacted, Cause: c.Cause, Result: c.Result, Damaged: damaged}
	}
	return out
}

func newCheck() *cobra.Command {
	var (
		q      runlog.Query
		store  string
		output string
		wait   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "check RUN_ID",
		Short: "Say whether a run's logs are complete",
		Long: `Read a run's logs (or one step's) and say, for every activation, whether
they are complete (end marker read, no record missing), still being
written (no end marker yet), or incomplete: how many records are missing,
which sequence numbers, and how many the overflow policy dropped.

Exit codes: 0 all complete; 1 error; 4 no entries: the store has nothing for the run;
3 the run exists but no activation matched --step/--source; 5 not all complete
(incomplete, running or damaged); 6 every step runlog wrote is complete, but
some steps are not accounted: records of another program, without runlog's
sequence numbers, whose completeness cannot be told.`,
		Example: `  runlog check demo-20261124
  runlog check demo-20261124 --step train -o json
  runlog check demo-20261124 --wait 10s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q.RunID = args[0]
			if output != "text" && output != "json" {
				return fmt.Errorf("output %q: use text or json", output)
			}
			if wait < 0 {
				return fmt.Errorf("--wait %s: want a duration of 0 or more, such as 10s", wait)
			}
			s, err := openFetcher(cmd, store)
			if err != nil {
				return err
			}
			var cs []runlog.Completeness
			_, err = waitFor(cmd.Context(), wait, func() (bool, error) {
				var err error
				cs, err = runlog.Check(cmd.Context(), s, q)
				return len(cs) > 0, err
			})
			if err != nil {
				return &runError{"check", q.RunID, err}
			}
			if len(cs) == 0 {
				return nothingFound(cmd.Context(), "check", s, q.RunID)
			}
			if output == "json" {
				b, err := json.MarshalIndent(toCheckJSON(cs), "", "  ")
				if err != nil {
					return err
				}
				if _, err := cmd.OutOrStdout().Write(append(jsonSafe(b), '\n')); err != nil {
					return err
				}
			} else {
				for _, c := range cs {
					fmt.Fprintln(cmd.OutOrStdout(), escapeText(c.String()))
				}
			}
			code := exitOK
			for _, c := range cs {
				switch c.Status {
				case runlog.StatusComplete:
				case runlog.StatusNotAccounted:
					code = max(code, exitUnaccounted)
				default:
					return exitCode{exitIncomplete}
				}
			}
			if code != exitOK {
				return exitCode{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&q.StepID, "step", "", "only this step")
	cmd.Flags().StringVar(&q.Source, "source", "", "only this source")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the run's first records to appear, such as 10s")
	cmd.Flags().StringVar(&store, "store", "", "log store to read: a registered one, or local, the embedded one (default: the default store, else local)")
	return cmd
}

// openStore opens a registered store, the default one when name is
// empty, to write and read.
func openStore(cmd *cobra.Command, name string) (runlog.LogStore, error) {
	f, err := loadFor(cmd, name)
	if err != nil {
		return nil, err
	}
	return f.Open(cmd.Context(), name)
}

// openFetcher opens the read side alone of a registered store, the default
// one when name is empty: nothing of the write side is set up.
func openFetcher(cmd *cobra.Command, name string) (runlog.Fetcher, error) {
	f, err := loadFor(cmd, name)
	if err != nil {
		return nil, err
	}
	return f.OpenFetcher(cmd.Context(), name)
}

// loadFor loads the stores file and registers the external flavor of the
// store named name (the default store when empty), if it has one: the only
// program a command that opens one store runs.
func loadFor(cmd *cobra.Command, name string) (*stores.File, error) {
	f, err := stores.Load("")
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = f.Default
	}
	if e, err := f.Get(name); err == nil && name != stores.Local {
		if err := registerExternal(cmd, f, e.Flavor); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// registerExternal registers the external flavor of that name, if the
// stores file records one, after checking that the file may name programs
// to run (stores.File.CheckTrusted).
func registerExternal(cmd *cobra.Command, f *stores.File, flavor string) error {
	if _, ok := f.Flavors[flavor]; !ok {
		return nil
	}
	if err := f.CheckTrusted(); err != nil {
		return err
	}
	return flavors.RegisterExternal(cmd.Context(), f, flavor)
}

// storeName names a --store value in messages.
func storeName(name string) string {
	if name == "" {
		return "the default store"
	}
	return "store " + strconv.Quote(name)
}
