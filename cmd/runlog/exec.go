package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
	"github.com/runlog/runlog/stores"
)

// redactOptions are exec's --redact flags.
type redactOptions struct {
	values, env []string
	pattern     string
}

// redactFlags turns exec's --redact flags into the flavor keys that say
// the same (redact, redact_env, redact_pattern), added to what the
// store's configuration (base) already lists; --redact-pattern replaces
// the store's pattern (combine them with |).
func redactFlags(r redactOptions, base map[string]string) map[string]string {
	m := map[string]string{}
	join := func(key string, add []string) {
		if len(add) == 0 {
			return
		}
		if b := base[key]; b != "" {
			add = append([]string{b}, add...)
		}
		m[key] = strings.Join(add, ",")
	}
	join("redact", r.values)
	join("redact_env", r.env)
	if r.pattern != "" {
		m["redact_pattern"] = r.pattern
	}
	return m
}

// storeConfig returns the configuration of the store exec opens (name,
// else the default), empty for the embedded local store.
func storeConfig(f *stores.File, name string) map[string]string {
	if name == "" {
		name = f.Default
	}
	if e, err := f.Get(name); err == nil {
		return e.Config
	}
	return nil
}

// exitCode carries an exit code out of a command without a message.
type exitCode struct{ code int }

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newExec() *cobra.Command {
	var (
		sc     runlog.Scope
		store  string
		tty    bool
		grace  time.Duration
		redact redactOptions
	)
	cmd := &cobra.Command{
		Use:   "exec --run RUN [--step STEP] [--source SRC] [--tty] [--grace D] -- COMMAND [ARGS...]",
		Short: "Run a program and store each line of its output",
		Long: `Run a program and store each line it writes as a record of the step:
stdout at INFO, stderr at WARN (attribute runlog.stream). The output still
reaches the terminal as it is written, and a closed stdout (| head) stops
neither the program nor the capture. SIGINT, SIGTERM, SIGHUP and SIGQUIT
are forwarded to the program; if it has not exited --grace after the second
one, it is killed. A last record states the exit code and cause (ok, error,
signal).

Exit codes: the program's (128 + N when signal N ended it), whatever
happened to delivery (records not delivered are reported on stderr and by
runlog check); 127 the program was not found, 126 it could not be
executed (both recorded in the step); 1 runlog failed before it could run
the program.`,
		Example: `  runlog exec --run demo --step hello -- sh -c 'echo out; echo err >&2; exit 3'
  runlog exec --run nightly-42 --step train --source step -- python train.py
  runlog exec --run demo --step build --tty -- make`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sc.RunID == "" {
				return fmt.Errorf("--run is required")
			}
			f, err := loadFor(cmd, store)
			if err != nil {
				return err
			}
			// The program's output is echoed by capture; the store must not
			// print each line a second time.
			slog.SetDefault(slog.New(slog.DiscardHandler))
			s, err := f.OpenWith(cmd.Context(), store, redactFlags(redact, storeConfig(f, store)))
			if err != nil {
				return err
			}
			// Not CommandContext: Ctrl-C cancels the command's context, and
			// the program must get the SIGINT, not a SIGKILL.
			c := exec.Command(args[0], args[1:]...)
			c.Stdin = os.Stdin
			opts := capture.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), TTY: tty, Grace: grace}
			if grace == 0 {
				opts.Grace = time.Nanosecond // at once; capture's zero is its default
			}
			res, err := capture.ExecWith(cmd.Context(), s, sc, c, opts)
			if res.Cause == "" {
				return &runError{"exec", sc.RunID, err} // runlog failed before the program ran
			}
			var se *capture.StartError
			if errors.As(err, &se) {
				fmt.Fprintln(cmd.ErrOrStderr(), "runlog: "+errorText(se))
			}
			var de *runlog.DeliveryError
			if errors.As(err, &de) || se == nil && err != nil {
				// The program's outcome stands; its records are not lost.
				cliHints(err)
				fmt.Fprintf(cmd.ErrOrStderr(), "runlog: exec: run %s: the program's records are not all delivered yet (the exit code is still the program's): %s; run `runlog flush` to deliver what is spooled, then `runlog check %s`\n",
					quoteText(sc.RunID), errorText(err), quoteText(sc.RunID))
			}
			if res.ExitCode != 0 {
				return exitCode{res.ExitCode}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sc.RunID, "run", "", "run id (required)")
	f.StringVar(&sc.StepID, "step", "", "step id (empty: run level)")
	f.StringVar(&sc.Source, "source", "", "source (default step)")
	f.IntVar(&sc.Attempt, "attempt", 0, "attempt number")
	f.StringVar(&store, "store", "", "registered log store (default: the default store, else the embedded local one)")
	f.BoolVar(&tty, "tty", false, "run the program on a pseudo-terminal (Linux): it colours its output, and stdout and stderr are one stream in the order written (records at INFO, runlog.stream=tty)")
	f.StringArrayVar(&redact.values, "redact", nil, "a secret value replaced by **** in the stored records (repeatable; the store's own secret settings always are)")
	f.StringArrayVar(&redact.env, "redact-env", nil, "an environment variable whose value is replaced likewise (repeatable), such as GITHUB_TOKEN")
	f.StringVar(&redact.pattern, "redact-pattern", "", "a regular expression (RE2) whose matches are replaced likewise, such as 'ghp_[A-Za-z0-9]{36}'")
	f.DurationVar(&grace, "grace", capture.DefaultGrace, "time the program has to exit after the second signal before it is killed (0: at once, negative: never)")
	return cmd
}
