// Command runlog runs programs into a runlog store and reads pipeline run
// logs back from it.
//
//	runlog logs RUN_ID [--step S] [--source SRC] [--level warn] [--grep TEXT] [--since D | --from T --to T] [--limit N] [--follow [--follow-quiet D]] [--wait D] [-o text|json|jsonl] [--store NAME]
//	runlog check RUN_ID [--step S] [--source SRC] [--wait D] [-o text|json] [--store NAME]
//	runlog exec --run RUN [--step S] [--source SRC] [--attempt N] [--store NAME] [--tty] [--grace D] -- COMMAND [ARGS...]
//	runlog flush [--store NAME]
//	runlog log-store flavor list | describe FLAVOR | register PROGRAM | delete FLAVOR [--force]
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
// ($RUNLOG_DATA_DIR or the user's data directory), which --store local
// names always. Text from stores is printed escaped (safe.go). The CLI holds no logic of
// its own: it parses flags, calls the library, and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	_ "github.com/runlog/runlog/flavors"
)

// Exit codes (docs/cli.md lists them per command).
const (
	exitOK      = 0 // entries found (logs), or the command succeeded
	exitError   = 1 // any error
	exitNoMatch = 3 // logs, check: the run exists, but nothing matched the filters (yet)
	exitNoRun   = 4 // logs, check: the store has nothing for the run at all
	// exitIncomplete = 5 and exitUnaccounted = 6 (check) are in reliability.go
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
	cliHints(err)
	lines := errorLines(err)
	if !strings.HasPrefix(lines[0], "runlog") {
		lines[0] = "runlog: " + lines[0]
	}
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, l)
	}
	switch {
	case errors.Is(err, errNoRun):
		return exitNoRun
	case errors.Is(err, errNoMatch):
		return exitNoMatch
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
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if cmd.Name() != "serve" {
				tuneGC()
			}
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return errors.Join(err, fmt.Errorf("see '%s --help'", c.CommandPath()))
	})
	root.AddCommand(newLogs(), newLogStore(), newExec(), newFlush(), newCheck())
	root.AddCommand(newRuns(), newDeleteRun(), newGC(), newServe())
	return root
}

// gcPercent and memoryLimit are the garbage collector's settings for the
// commands that run once and end (logs, check, exec, ...): their live heap
// is one page (runlog.MaxPage entries) or one queue, a few tens of MiB, so
// collecting 4x less often saves a fifth of the CPU of reading a large run
// (bench/clilogs), while the limit keeps peak RSS under 100 MB whatever
// the run's size. serve keeps Go's defaults: a server's live heap grows
// with its clients, and a limit below it would make the collector run
// without pause.
const (
	gcPercent   = 400
	memoryLimit = 64 << 20
)

// tuneGC applies gcPercent and memoryLimit, unless the user set GOGC or
// GOMEMLIMIT, which win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

var (
	// errNoRun: the store has nothing for the run: no entry, no end marker.
	errNoRun = errors.New("no log entries")
	// errNoMatch: the run has entries or end markers, but none matched.
	errNoMatch = errors.New("no log entries")
)

// waitHint says what to do when a run is not (yet) there.
const waitHint = "records of a run that just ended may take a few seconds to be indexed by a collector-fed store; retry with --wait 10s"

// runError is an error about one run in one command; it reads
// `runlog: CMD: run "RUN": cause`.
type runError struct {
	cmd, run string
	err      error
}

func (e *runError) Error() string {
	return fmt.Sprintf("runlog: %s: run %s: %s", e.cmd, quoteText(e.run), strings.TrimPrefix(e.err.Error(), "runlog: "))
}

func (e *runError) Unwrap() error { return e.err }

// nothingFound returns the error of cmd (logs, check) for a run with
// nothing to show: errNoRun when the store has nothing at all for it,
// errNoMatch when it has, but nothing matched.
func nothingFound(ctx context.Context, cmd string, f runlog.Fetcher, run string) error {
	p, err := f.Fetch(ctx, runlog.Query{RunID: run, Limit: 1})
	if err != nil {
		return &runError{cmd, run, err}
	}
	if len(p.Entries) > 0 || len(p.Ends) > 0 {
		return fmt.Errorf("runlog: %s: %w for run %s match these filters (the run has entries; widen the filters, or retry with --wait 10s if they are still being written)", cmd, errNoMatch, quoteText(run))
	}
	return fmt.Errorf("runlog: %s: %w for run %s: the store has nothing for this run (%s)", cmd, errNoRun, quoteText(run), waitHint)
}

// waitFor calls try until it reports found, or wait has passed since the
// first call, polling every half second. It returns try's last results.
func waitFor(ctx context.Context, wait time.Duration, try func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		found, err := try()
		if found || err != nil || !time.Now().Before(deadline) {
			return found, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(min(500*time.Millisecond, time.Until(deadline))):
		}
	}
}

func newLogs() *cobra.Command {
	var (
		q               runlog.Query
		level, output   string
		store           string
		since, from, to string
		follow          bool
		wait, quiet     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "logs RUN_ID",
		Short: "Print the logs of a run",
		Long: `Print the logs of a run, oldest first, from the default log store (or
--store). Output: text (aligned, coloured by level on a terminal unless
NO_COLOR is set; text from the store is escaped so that it cannot drive the
terminal, and a message of several lines continues on indented lines
marked "│"), json (an array) or jsonl (one object per line), with the
fields message, name, level, timestamp, module, filename, lineno,
chunk_index, total_chunks, id, run_id, step_id, source, attempt, activation_id, sequence,
trace_id, span_id, attributes.

--follow stops at the end marker of the step (--step), or of the run level;
for a run made only of step activations, once every activation seen has
ended and no new one appeared for --follow-quiet.

Exit codes: 0 entries printed; 1 error; 4 no entries: the store has nothing for the run;
3 the run exists but no entry matched the filters.`,
		Example: `  runlog logs demo-20261124 --step train --level warn
  runlog logs demo-20261124 --since 1h --grep "loss" -o jsonl
  runlog logs demo-20261124 --step train --follow
  runlog logs demo-20261124 --wait 10s`,
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
			if wait < 0 || quiet < 0 {
				return fmt.Errorf("--wait and --follow-quiet want a duration of 0 or more, such as 10s")
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
			var n int
			tail := tailOptions{follow: follow, quiet: quiet, damaged: func(d runlog.Damage) {
				fmt.Fprintln(cmd.ErrOrStderr(), "runlog: warning: "+escapeText(d.String())+" (the entries around it are shown; `runlog check` reports the step as damaged)")
			}}
			_, err = waitFor(cmd.Context(), wait, func() (bool, error) {
				var err error
				n, err = printEntries(cmd.Context(), p, s, q, tail, prog)
				return n > 0, err
			})
			if cerr := p.close(); err == nil {
				err = cerr
			}
			if err != nil {
				return &runError{"logs", q.RunID, err}
			}
			if n == 0 && !follow {
				return nothingFound(cmd.Context(), "logs", s, q.RunID)
			}
			return nil
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
	f.IntVar(&q.Limit, "limit", 5000, fmt.Sprintf("entries fetched per page, at most %d (smaller pages, less memory; every matching entry is printed whatever the page size)", runlog.MaxPage))
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new entries until the step ends (its end marker; without --step, the run level's, or every activation's) or Ctrl-C")
	f.DurationVar(&quiet, "follow-quiet", 5*time.Second, "with --follow and no run-level activation: stop once every activation seen has ended and none started for this long (0: only at the run level's end or Ctrl-C)")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for the first matching entry to appear, such as 10s")
	f.StringVarP(&output, "output", "o", "text", "output format: text, json or jsonl")
	f.StringVar(&store, "store", "", "log store to read: a registered one, or local, the embedded one (default: the default store, else local)")
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

// tailOptions say how printEntries follows a run.
type tailOptions struct {
	follow bool
	// quiet: without a step, and with no run-level end marker, the tail
	// stops once every activation seen has ended and no entry came for
	// this long. Zero: it does not.
	quiet time.Duration
	// damaged, if set, is told once about each damaged part of the store
	// the reads passed (a torn or garbage line, an unreadable file).
	damaged func(runlog.Damage)
}

// printEntries prints every entry q matches; with follow, it then polls
// with the last page's cursor, which returns only what was stored since,
// until the end marker of the followed step (or, without a step, of the
// run level) has been read, or, without a step, every activation seen
// has ended and nothing new came for tail.quiet; or ctx ends.
//
// Pages are of q.Limit entries, at most runlog.MaxPage: memory holds two
// pages (one printing, one read ahead), whatever limit is given.
//
// progress, if not nil, is told the count after each page.
func printEntries(ctx context.Context, p printer, f runlog.Fetcher, q runlog.Query, tail tailOptions, progress func(int)) (int, error) {
	q.Limit = q.PageLimit()
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
	running := map[string]bool{} // activations seen: still running?
	warned := map[string]bool{}  // damage reported, by file and offset
	lastNew := time.Now()
	pending := fetch(q)
	for {
		r := <-pending
		page, err := r.page, r.err
		if err != nil {
			if tail.follow && ctx.Err() != nil {
				return n, nil
			}
			return n, err
		}
		q.Cursor = page.Next
		if page.More {
			pending = fetch(q)
		}
		for i := range page.Entries {
			e := &page.Entries[i]
			if err := p.print(e); err != nil {
				return n, err
			}
			n++
			lastNew = time.Now()
			if _, seen := running[e.ActivationID]; !seen && e.ActivationID != "" {
				running[e.ActivationID] = true
			}
		}
		if progress != nil {
			progress(n)
		}
		for _, d := range page.Damaged {
			if k := d.File + "\x00" + strconv.FormatInt(d.Offset, 10); tail.damaged != nil && !warned[k] {
				warned[k] = true
				tail.damaged(d)
			}
		}
		for _, e := range page.Ends {
			// A tail of a step ends at that step's end marker; of a whole
			// run, at the run level's.
			if e.StepID == q.StepID && (q.Source == "" || e.Source == q.Source) {
				ended = true
			}
			if e.ActivationID != "" {
				if _, seen := running[e.ActivationID]; !seen {
					lastNew = time.Now()
				}
				running[e.ActivationID] = false
			}
		}
		if page.More {
			continue
		}
		if !tail.follow || ended {
			return n, p.flush()
		}
		if err := p.flush(); err != nil {
			return n, err
		}
		if q.StepID == "" && tail.quiet > 0 && len(running) > 0 && time.Since(lastNew) >= tail.quiet &&
			!slices.Contains(slices.Collect(maps.Values(running)), true) {
			return n, nil // every activation seen has ended, and none came since
		}
		select {
		case <-ctx.Done():
			return n, nil
		case <-time.After(500 * time.Millisecond):
		}
		pending = fetch(q)
	}
}
