// Package capture stores the output of programs in a runlog store: each
// line a program writes to stdout or stderr becomes a record of the
// activation it runs in, while the output still reaches the terminal. It is
// how pipelines written in other languages get their logs into runlog
// (`runlog exec`).
package capture

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// Result says how a captured program ended.
type Result struct {
	// ExitCode is the program's exit status; for a program killed by a
	// signal, 128 + the signal number, as shells report it.
	ExitCode int
	// Cause is "ok", "error" (non-zero exit) or "signal".
	Cause string
	// Signal names the signal that ended the program, if any.
	Signal string
	// Lines counts the records stored, stdout and stderr together.
	Lines int
}

// Attribute keys of captured records, defined in package resource with
// every other name runlog writes.
const (
	StreamKey     = resource.Stream     // "stdout" or "stderr"
	ExitCodeKey   = resource.ExitCode   // on the final record
	ExitCauseKey  = resource.ExitCause  // ok, error, signal
	ExitSignalKey = resource.ExitSignal // the signal's name, if one ended it
)

// Exec runs cmd inside an activation of store for scope. Each line of its
// stdout becomes an INFO record and each line of its stderr a WARN record
// (attribute runlog.stream), copied as well to stdout and stderr when they
// are not nil. SIGINT, SIGTERM, SIGHUP and SIGQUIT received meanwhile are
// forwarded to the program. A last record states the exit code and cause
// (ERROR when the program failed). cmd's Stdout and Stderr must be unset.
//
// The error is about runlog or about starting the program; a program that
// runs and fails is reported in Result, not as an error.
func Exec(ctx context.Context, store runlog.LogStore, scope runlog.Scope, cmd *exec.Cmd, stdout, stderr io.Writer) (Result, error) {
	actx, err := store.Activate(ctx, scope)
	if err != nil {
		return Result{}, err
	}
	h := runlog.Logger(actx).Handler()
	res, runErr := run(actx, h, cmd, stdout, stderr)
	level := slog.LevelInfo
	if res.Cause != "ok" {
		level = slog.LevelError
	}
	if runErr == nil {
		attrs := []any{ExitCodeKey, res.ExitCode, ExitCauseKey, res.Cause}
		if res.Signal != "" {
			attrs = append(attrs, ExitSignalKey, res.Signal)
		}
		emit(actx, h, level, "process exited: "+res.Cause, attrs...)
	}
	return res, errors.Join(runErr, store.Deactivate(runlog.WithCause(actx, res.Cause)))
}

// emit logs one record with no source location: the lines are the
// program's, not this package's.
func emit(ctx context.Context, h slog.Handler, level slog.Level, msg string, attrs ...any) {
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(attrs...)
	_ = h.Handle(ctx, r)
}

func run(ctx context.Context, h slog.Handler, cmd *exec.Cmd, stdout, stderr io.Writer) (Result, error) {
	outR, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, err
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		return Result{}, err
	}
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lines int
	)
	pump := func(r io.Reader, echo io.Writer, stream string, level slog.Level) {
		defer wg.Done()
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				if echo != nil {
					_, _ = io.WriteString(echo, line)
				}
				emit(ctx, h, level, strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), StreamKey, stream)
				mu.Lock()
				lines++
				mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go pump(outR, stdout, "stdout", slog.LevelInfo)
	go pump(errR, stderr, "stderr", slog.LevelWarn)
	wg.Wait() // read everything before Wait closes the pipes
	waitErr := cmd.Wait()
	signal.Stop(sigs)
	close(sigs)

	res := Result{Lines: lines, Cause: "ok"}
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &ee):
		res.ExitCode, res.Cause = ee.ExitCode(), "error"
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode, res.Cause, res.Signal = 128+int(ws.Signal()), "signal", ws.Signal().String()
		}
	default:
		return res, waitErr
	}
	return res, nil
}
