package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
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
			ots, ok := s.(*otelstore.Store)
			if !ok || ots.SpoolDir() == "" {
				return fmt.Errorf("store %q has no spool to flush", store)
			}
			rep, err := ots.Flush(cmd.Context())
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
			s, err := openStore(cmd, store)
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

// openStore opens a registered store, the default one when name is empty.
func openStore(cmd *cobra.Command, name string) (runlog.LogStore, error) {
	f, err := stores.Load("")
	if err != nil {
		return nil, err
	}
	return f.Open(cmd.Context(), name)
}
