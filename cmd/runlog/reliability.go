package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

// exitIncomplete: check found records missing, or a step still running.
const exitIncomplete = 5

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
			fmt.Fprintln(cmd.OutOrStdout(), rep)
			return err
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "registered store (default: the default store)")
	return cmd
}

func newCheck() *cobra.Command {
	var (
		q      runlog.Query
		store  string
		output string
	)
	cmd := &cobra.Command{
		Use:   "check RUN_ID",
		Short: "Say whether a run's logs are complete",
		Long: `Read a run's logs (or one step's) and say, for every activation, whether
they are complete (end marker read, no record missing), still being
written (no end marker yet), or incomplete: how many records are missing,
which sequence numbers, and how many the overflow policy dropped.

Exit codes: 0 all complete; 1 error; 4 no entries; 5 not all complete.`,
		Example: `  runlog check demo-20261124
  runlog check demo-20261124 --step train -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q.RunID = args[0]
			if output != "text" && output != "json" {
				return fmt.Errorf("output %q: use text or json", output)
			}
			s, err := openFetcher(cmd, store)
			if err != nil {
				return err
			}
			cs, err := runlog.Check(cmd.Context(), s, q)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return errNoEntries
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(cs); err != nil {
					return err
				}
			} else {
				for _, c := range cs {
					fmt.Fprintln(cmd.OutOrStdout(), c)
				}
			}
			for _, c := range cs {
				if c.Status != runlog.StatusComplete {
					return exitCode{exitIncomplete}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&q.StepID, "step", "", "only this step")
	cmd.Flags().StringVar(&q.Source, "source", "", "only this source")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().StringVar(&store, "store", "", "registered store (default: the default store)")
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
	if e, err := f.Get(name); err == nil {
		if err := flavors.RegisterExternal(cmd.Context(), f, e.Flavor); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// storeName names a --store value in messages.
func storeName(name string) string {
	if name == "" {
		return "the default store"
	}
	return "store " + strconv.Quote(name)
}
