// Command runlog reads pipeline run logs from a runlog store.
//
//	runlog logs RUN_ID [--step S] [--source SRC] [--level warn] [--grep TEXT] [--limit N] [-o text|jsonl] [--store NAME]
//	runlog log-store flavor list | describe FLAVOR
//	runlog log-store register NAME --flavor FLAVOR --key=value ...
//	runlog log-store list | describe NAME | update NAME --key=value | delete NAME | set-default NAME
//
// With no store registered it reads the embedded local store
// ($RUNLOG_DATA_DIR or the user's data directory). The CLI holds no logic of
// its own: it parses flags, calls the library, and prints.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	_ "github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

func main() {
	if err := newRoot().ExecuteContext(context.Background()); err != nil {
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "runlog",
		Short:         "Read and manage pipeline run logs",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newLogs(), newLogStore())
	return root
}

func newLogs() *cobra.Command {
	var (
		q      runlog.Query
		level  string
		output string
		store  string
	)
	cmd := &cobra.Command{
		Use:   "logs RUN_ID",
		Short: "Print the logs of a run",
		Example: `  runlog logs demo-20261124 --step train --level warn
  runlog logs demo-20261124 --grep "loss" -o jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q.RunID = args[0]
			if level != "" {
				l, err := runlog.ParseLevel(level)
				if err != nil {
					return err
				}
				q.MinLevel = l
			}
			f, err := stores.Load("")
			if err != nil {
				return err
			}
			s, err := f.Open(cmd.Context(), store)
			if err != nil {
				return err
			}
			return printAll(cmd.Context(), cmd.OutOrStdout(), s, q, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.StepID, "step", "", "only this step")
	f.StringVar(&q.Source, "source", "", "only this source (step, orchestrator, ...)")
	f.StringVar(&level, "level", "", "lowest level shown (debug, info, warn, error)")
	f.StringVar(&q.Contains, "grep", "", "only messages containing this text")
	f.IntVar(&q.Limit, "limit", 0, "entries per page (default 20000)")
	f.StringVarP(&output, "output", "o", "text", "output format: text or jsonl")
	f.StringVar(&store, "store", "", "registered log store to read (default: the default store, else the embedded local one)")
	return cmd
}

func printAll(ctx context.Context, w io.Writer, f runlog.Fetcher, q runlog.Query, output string) error {
	if output != "text" && output != "jsonl" {
		return fmt.Errorf("unknown output format %q; use text or jsonl", output)
	}
	enc := json.NewEncoder(w)
	for e, err := range runlog.All(ctx, f, q) {
		if err != nil {
			return err
		}
		if output == "jsonl" {
			err = enc.Encode(e)
		} else {
			step := e.StepID
			if step == "" {
				step = "-"
			}
			var attrs strings.Builder
			for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
				if !strings.HasPrefix(k, "code.") {
					fmt.Fprintf(&attrs, " %s=%q", k, e.Attributes[k])
				}
			}
			_, err = fmt.Fprintf(w, "%s %-5s [%s] %s%s\n", e.Time.Format("2006-01-02T15:04:05.000Z07:00"), e.Level, step, strings.TrimRight(e.Message, "\n"), attrs.String())
		}
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
	return nil
}
