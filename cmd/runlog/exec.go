package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/capture"
)

// exitCode carries an exit code out of a command without a message.
type exitCode struct{ code int }

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newExec() *cobra.Command {
	var (
		sc    runlog.Scope
		store string
	)
	cmd := &cobra.Command{
		Use:   "exec --run RUN [--step STEP] [--source SRC] -- COMMAND [ARGS...]",
		Short: "Run a program and store each line of its output",
		Long: `Run a program and store each line it writes as a record of the step:
stdout at INFO, stderr at WARN (attribute runlog.stream). The output still
reaches the terminal, signals are forwarded to the program, and runlog exits
with the program's exit code. A last record states the exit code and cause
(ok, error, signal).`,
		Example: `  runlog exec --run demo --step hello -- sh -c 'echo out; echo err >&2; exit 3'
  runlog exec --run nightly-42 --step train --source step -- python train.py`,
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
			s, err := f.Open(cmd.Context(), store)
			if err != nil {
				return err
			}
			c := exec.CommandContext(cmd.Context(), args[0], args[1:]...)
			c.Stdin = os.Stdin
			res, err := capture.Exec(cmd.Context(), s, sc, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
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
	return cmd
}
