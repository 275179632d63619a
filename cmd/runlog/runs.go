package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
)

// The run lifecycle commands: runs, delete, gc. Each opens only the
// store's reader and uses the runlog.RunLister and runlog.Deleter it
// implements; a store whose reader implements neither is refused.

// runJSON is one run in `runlog runs -o json`.
type runJSON struct {
	RunID   string `json:"run_id"`
	Last    string `json:"last"`  // RFC 3339, "" when the store cannot tell
	First   string `json:"first"` // RFC 3339, "" when the store cannot tell
	Steps   int64  `json:"steps"` // -1 when the store cannot tell
	Records int64  `json:"records"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func count(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// lister opens the store's reader as a runlog.RunLister.
func lister(cmd *cobra.Command, store string) (runlog.RunLister, error) {
	f, err := openFetcher(cmd, store)
	if err != nil {
		return nil, err
	}
	l, ok := f.(runlog.RunLister)
	if !ok {
		return nil, fmt.Errorf("%s cannot list its runs (its flavor's reader does not implement runlog.RunLister)", storeName(store))
	}
	return l, nil
}

// listRuns returns up to most runs (0: all) newest first, paging.
func listRuns(cmd *cobra.Command, l runlog.RunLister, q runlog.RunQuery, most int) ([]runlog.RunInfo, error) {
	var out []runlog.RunInfo
	for {
		q.Limit = runlog.MaxRunLimit
		if most > 0 {
			q.Limit = min(most-len(out), runlog.MaxRunLimit)
		}
		p, err := l.ListRuns(cmd.Context(), q)
		if err != nil {
			return out, err
		}
		out = append(out, p.Runs...)
		if !p.More || most > 0 && len(out) >= most || len(p.Runs) == 0 && p.Next == q.Cursor {
			return out, nil
		}
		q.Cursor = p.Next
	}
}

func newRuns() *cobra.Command {
	var (
		store, output string
		limit         int
	)
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs a store holds, newest first",
		Long: `List the runs the store holds, newest first by their last record, with
the times of their last and first records, their steps (the run level
counts as one) and their records; "-" where the store cannot tell cheaply
(the local store does not count records). Output: text (escaped) or json
(an array of objects with run_id, last, first, steps, records; -1 and ""
for what the store cannot tell).

Exit codes: 0 listed (also when the store holds no run); 1 error, such as
a store that cannot list its runs.`,
		Example: `  runlog runs
  runlog runs --store ci --limit 20 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("output %q: use text or json", output)
			}
			if limit < 0 {
				return fmt.Errorf("--limit %d: want 0 (all) or more", limit)
			}
			l, err := lister(cmd, store)
			if err != nil {
				return err
			}
			runs, err := listRuns(cmd, l, runlog.RunQuery{}, limit)
			if err != nil {
				return fmt.Errorf("runlog: runs: %w", err)
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				out := make([]runJSON, len(runs))
				for i, r := range runs {
					out[i] = runJSON{r.RunID, stamp(r.Last), stamp(r.First), r.Steps, r.Records}
				}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				_, err = w.Write(append(jsonSafe(b), '\n'))
				return err
			}
			tw := table(w)
			fmt.Fprintln(tw, "RUN\tLAST\tFIRST\tSTEPS\tRECORDS")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", runCell(r.RunID), or(stamp(r.Last), "-"), or(stamp(r.First), "-"), count(r.Steps), count(r.Records))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&store, "store", "", "log store to read: a registered one, or local, the embedded one (default: the default store, else local)")
	f.IntVar(&limit, "limit", runlog.DefaultRunLimit, "most runs listed, newest first (0: all)")
	f.StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// runCell is a run id in a table: as it is when that is unambiguous,
// else quoted (empty, spaces, quotes, anything escaped).
func runCell(id string) string {
	if id == "" || !isSafe(id) || strings.ContainsAny(id, " \"\\") {
		return quoteText(id)
	}
	return id
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// deleter opens the store's reader as a runlog.Deleter.
func deleter(cmd *cobra.Command, store string) (runlog.Fetcher, runlog.Deleter, error) {
	f, err := openFetcher(cmd, store)
	if err != nil {
		return nil, nil, err
	}
	d, ok := f.(runlog.Deleter)
	if !ok {
		return nil, nil, fmt.Errorf("%s cannot delete runs (its flavor's reader does not implement runlog.Deleter)", storeName(store))
	}
	return f, d, nil
}

// errNotConfirmed: deletion was not confirmed.
var errNotConfirmed = errors.New("not confirmed")

// confirm asks question on the terminal unless yes; without a terminal
// (stdin or stderr), it refuses: deletion is final.
func confirm(cmd *cobra.Command, yes bool, question string) error {
	if yes {
		return nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !isTerminal(in) || !isTerminal(os.Stderr) {
		return fmt.Errorf("%w: not on a terminal, so cannot ask; deletion is final: add --yes to delete without asking", errNotConfirmed)
	}
	fmt.Fprint(cmd.ErrOrStderr(), question+" [y/N] ")
	answer, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("%w: nothing deleted", errNotConfirmed)
	}
	return nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newDeleteRun() *cobra.Command {
	var (
		store string
		yes   bool
	)
	cmd := &cobra.Command{
		Use:   "delete RUN_ID",
		Short: "Delete every record of a run",
		Long: `Delete every record of a run, all steps and sources, from the store.
Deletion is final. On a terminal it asks first; elsewhere it refuses unless
--yes is given. The local store removes the run's directory at once;
VictoriaLogs and Loki delete in the background (the records stay visible
until the task ends; see docs/victorialogs.md and docs/otel-and-loki.md).
A run the store holds nothing of is not an error.

Exit codes: 0 deleted, queued, or nothing there; 1 error, including a
deletion not confirmed, a store that cannot delete, or a backend whose
deletion is turned off (the message says how to turn it on).`,
		Example: `  runlog delete demo-20261124
  runlog delete demo-20261124 --store ci --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run := args[0]
			_, d, err := deleter(cmd, store)
			if err != nil {
				return err
			}
			if err := confirm(cmd, yes, fmt.Sprintf("Delete every record of run %s from %s?", quoteText(run), storeName(store))); err != nil {
				return &runError{"delete", run, err}
			}
			rep, err := d.DeleteRun(cmd.Context(), run)
			if err != nil {
				return &runError{"delete", run, err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), reportLine(rep))
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "log store: a registered one, or local, the embedded one (default: the default store, else local)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// reportLine says what DeleteRun did, escaped.
func reportLine(rep runlog.DeleteReport) string {
	what := "deleted"
	switch {
	case rep.Queued:
		what = "deletion queued"
		if rep.Task != "" {
			what += " (task " + escapeText(rep.Task) + ")"
		}
	case rep.Deleted == 0:
		what = "nothing to delete"
	}
	line := "run " + quoteText(rep.RunID) + ": " + what
	if rep.Detail != "" {
		line += ": " + escapeText(rep.Detail)
	}
	return line
}

// parseAge reads a duration such as 30d, 12h, 1d12h or 90m.
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("--older-than %q: want a positive duration such as 30d, 36h or 1d12h", s)
	var d time.Duration
	rest := s
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.Atoi(rest[:i])
		if err != nil || days < 0 || days > 100000 {
			return 0, bad
		}
		d, rest = time.Duration(days)*24*time.Hour, rest[i+1:]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, bad
		}
		d += r
	}
	if d <= 0 {
		return 0, bad
	}
	return d, nil
}

func newGC() *cobra.Command {
	var (
		store, olderThan string
		dryRun, yes      bool
	)
	cmd := &cobra.Command{
		Use:   "gc --older-than AGE",
		Short: "Delete the runs whose last record is older than an age",
		Long: `Delete every run whose last record is older than --older-than (such as
30d, 36h, 1d12h), listed as ` + "`runlog runs`" + ` lists them. --dry-run lists what
would be deleted and deletes nothing. On a terminal it asks once before
deleting; elsewhere it refuses unless --yes is given. Runs are listed
first, then deleted one by one; a failure stops it there.

There is no retention setting in runlog's store configuration: the
backends keep their own (VictoriaLogs -retentionPeriod, Loki
retention_period), which drop old data far more cheaply than deleting
runs; for the local store, run gc from cron.

Exit codes: 0 done (also when nothing was old enough); 1 error, including
a deletion not confirmed.`,
		Example: `  runlog gc --older-than 30d --dry-run
  runlog gc --older-than 30d --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan == "" {
				return fmt.Errorf("--older-than is required, such as --older-than 30d")
			}
			age, err := parseAge(olderThan)
			if err != nil {
				return err
			}
			l, err := lister(cmd, store)
			if err != nil {
				return err
			}
			var d runlog.Deleter
			if !dryRun {
				if _, d, err = deleter(cmd, store); err != nil {
					return err
				}
			}
			before := time.Now().Add(-age)
			runs, err := listRuns(cmd, l, runlog.RunQuery{Before: before}, 0)
			if err != nil {
				return fmt.Errorf("runlog: gc: %w", err)
			}
			w := cmd.OutOrStdout()
			if len(runs) == 0 {
				fmt.Fprintf(w, "no run with its last record before %s\n", stamp(before))
				return nil
			}
			if dryRun {
				for _, r := range runs {
					fmt.Fprintf(w, "would delete run %s (last record %s)\n", quoteText(r.RunID), or(stamp(r.Last), "unknown"))
				}
				fmt.Fprintf(w, "%d runs would be deleted (dry run: nothing deleted)\n", len(runs))
				return nil
			}
			if err := confirm(cmd, yes, fmt.Sprintf("Delete %d runs with their last record before %s from %s?", len(runs), stamp(before), storeName(store))); err != nil {
				return fmt.Errorf("runlog: gc: %w", err)
			}
			for i, r := range runs {
				rep, err := d.DeleteRun(cmd.Context(), r.RunID)
				if err != nil {
					return fmt.Errorf("runlog: gc: %d of %d runs deleted, then: %w", i, len(runs), &runError{"delete", r.RunID, err})
				}
				fmt.Fprintln(w, reportLine(rep))
			}
			fmt.Fprintf(w, "%d runs deleted\n", len(runs))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&olderThan, "older-than", "", "delete runs whose last record is older than this, such as 30d or 36h (required)")
	f.StringVar(&store, "store", "", "log store: a registered one, or local, the embedded one (default: the default store, else local)")
	f.BoolVar(&dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	f.BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
