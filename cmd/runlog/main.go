// Command runlog runs programs into a runlog store and reads pipeline run
// logs back from it.
//
//	runlog logs RUN_ID [--step S] [--source SRC] [--level warn] [--grep TEXT] [--since D | --from T --to T] [--limit N] [--follow] [-o text|json|jsonl] [--store NAME]
//	runlog check RUN_ID [--step S] [--source SRC] [-o text|json] [--store NAME]
//	runlog exec --run RUN [--step S] [--source SRC] [--attempt N] [--store NAME] -- COMMAND [ARGS...]
//	runlog flush [--store NAME]
//	runlog log-store flavor list | describe FLAVOR | register PROGRAM
//	runlog log-store register NAME --flavor FLAVOR --key=value ...
//	runlog log-store list | describe NAME | update NAME --key=value | delete NAME | set-default NAME
//	runlog completion bash|zsh|fish|powershell
//
// logs and check open only the store's reader (runlog.OpenFetcher): no
// spool, no exporter, no $RUNLOG_LEVEL. exec opens the whole store, flush
// too, and replays its spool through runlog.Flusher. A command that opens
// a store runs the program of that store's external flavor, if it has
// one, and no other; the log-store commands that only edit the file run
// none.
//
// With no store registered it uses the embedded local store
// ($RUNLOG_DATA_DIR or the user's data directory). The CLI holds no logic of
// its own: it parses flags, calls the library, and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	_ "github.com/runlog/runlog/flavors"
)

// Exit codes.
const (
	exitOK       = 0 // entries found (logs), or the command succeeded
	exitError    = 1 // any error
	exitNotFound = 4 // logs, check: the run (with its filters) has no entries
	// exitIncomplete = 5 (check: not all complete) is in reliability.go
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	var ee exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code // the program's own code, from exec
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "runlog") {
		msg = "runlog: " + msg
	}
	fmt.Fprintln(os.Stderr, msg)
	if errors.Is(err, errNoEntries) {
		return exitNotFound
	}
	return exitError
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "runlog",
		Short: "Read and manage pipeline run logs",
		Example: `  runlog exec --run demo --step hello -- sh -c 'echo out; echo err >&2; exit 3'
  runlog logs demo --step hello
  runlog log-store register ci --flavor victorialogs --url=http://127.0.0.1:9428 --endpoint=http://127.0.0.1:4318
  runlog completion bash > /etc/bash_completion.d/runlog`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())
	})
	root.AddCommand(newLogs(), newLogStore(), newExec(), newFlush(), newCheck())
	return root
}

// errNoEntries: logs found nothing for the run and filters.
var errNoEntries = errors.New("no log entries")

func newLogs() *cobra.Command {
	var (
		q               runlog.Query
		level, output   string
		store           string
		since, from, to string
		follow          bool
	)
	cmd := &cobra.Command{
		Use:   "logs RUN_ID",
		Short: "Print the logs of a run",
		Long: `Print the logs of a run, oldest first, from the default log store (or
--store). Output: text (aligned, coloured by level on a terminal unless
NO_COLOR is set), json (an array) or jsonl (one object per line), with the
fields message, name, level, timestamp, module, filename, lineno,
chunk_index, total_chunks, id, run_id, step_id, source, attempt, activation_id, sequence,
trace_id, span_id, attributes.

Exit codes: 0 entries printed; 1 error; 4 no entries for the run and filters.`,
		Example: `  runlog logs demo-20261124 --step train --level warn
  runlog logs demo-20261124 --since 1h --grep "loss" -o jsonl
  runlog logs demo-20261124 --step train --follow`,
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
			var err error
			if q.Start, q.End, err = timeRange(since, from, to); err != nil {
				return err
			}
			p, err := newPrinter(cmd.OutOrStdout(), output)
			if err != nil {
				return err
			}
			s, err := openFetcher(cmd, store)
			if err != nil {
				return err
			}
			var prog func(int)
			if !follow && output == "text" && colorful(cmd.ErrOrStderr()) && !colorful(cmd.OutOrStdout()) {
				// Long fetches to a file or pipe: say how far along on the terminal.
				prog = func(n int) { fmt.Fprintf(cmd.ErrOrStderr(), "\rfetched %d entries", n) }
				defer fmt.Fprint(cmd.ErrOrStderr(), "\r\x1b[K")
			}
			n, err := printEntries(cmd.Context(), p, s, q, follow, prog)
			if cerr := p.close(); err == nil {
				err = cerr
			}
			if err == nil && n == 0 && !follow {
				return fmt.Errorf("%w for run %q (with these filters)", errNoEntries, q.RunID)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.StepID, "step", "", "only this step")
	f.StringVar(&q.Source, "source", "", "only this source (step, orchestrator, hook:NAME, ...)")
	f.StringVar(&level, "level", "", "lowest level shown: trace, debug, info, warn, error, fatal")
	f.StringVar(&q.Contains, "grep", "", "only messages containing this text (plain text, case-sensitive)")
	f.StringVar(&since, "since", "", "only entries newer than this duration ago, such as 1h")
	f.StringVar(&from, "from", "", "only entries at or after this time (RFC 3339)")
	f.StringVar(&to, "to", "", "only entries before this time (RFC 3339)")
	f.IntVar(&q.Limit, "limit", 5000, "entries fetched per page (smaller pages, less memory)")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new entries until the step ends (its end marker; without --step, the run level's) or Ctrl-C")
	f.StringVarP(&output, "output", "o", "text", "output format: text, json or jsonl")
	f.StringVar(&store, "store", "", "registered log store to read (default: the default store, else the embedded local one)")
	return cmd
}

func timeRange(since, from, to string) (start, end time.Time, err error) {
	if since != "" && from != "" {
		return start, end, fmt.Errorf("use --since or --from, not both")
	}
	if since != "" {
		d, err := time.ParseDuration(since)
		if err != nil || d <= 0 {
			return start, end, fmt.Errorf("--since %q: want a positive duration such as 90m or 2h", since)
		}
		start = time.Now().Add(-d)
	}
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", from, &start}, {"--to", to, &end}} {
		if t.v == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.v); err != nil {
			return start, end, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-11-24T10:00:00Z", t.flag, t.v)
		}
	}
	return start, end, nil
}

// printEntries prints every entry q matches; with follow, it then polls
// with the last page's cursor, which returns only what was stored since,
// until the end marker of the followed step (or, without a step, of the
// run level) has been read, or ctx ends.
//
// progress, if not nil, is told the count after each page.
func printEntries(ctx context.Context, p printer, f runlog.Fetcher, q runlog.Query, follow bool, progress func(int)) (int, error) {
	// The next page is fetched while this one prints.
	type fetched struct {
		page runlog.Page
		err  error
	}
	fetch := func(q runlog.Query) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			page, err := f.Fetch(ctx, q)
			ch <- fetched{page, err}
		}()
		return ch
	}
	n, ended := 0, false
	pending := fetch(q)
	for {
		r := <-pending
		page, err := r.page, r.err
		if err != nil {
			if follow && ctx.Err() != nil {
				return n, nil
			}
			return n, err
		}
		q.Cursor = page.Next
		if page.More {
			pending = fetch(q)
		}
		for i := range page.Entries {
			if err := p.print(&page.Entries[i]); err != nil {
				return n, err
			}
			n++
		}
		if progress != nil {
			progress(n)
		}
		for _, e := range page.Ends {
			// A tail of a step ends at that step's end marker; of a whole
			// run, at the run level's.
			if e.StepID == q.StepID && (q.Source == "" || e.Source == q.Source) {
				ended = true
			}
		}
		if page.More {
			continue
		}
		if !follow || ended {
			return n, p.flush()
		}
		if err := p.flush(); err != nil {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, nil
		case <-time.After(500 * time.Millisecond):
		}
		pending = fetch(q)
	}
}
