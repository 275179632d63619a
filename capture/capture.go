// Package capture stores the output of programs in a runlog store: each
// line a program writes to stdout or stderr becomes a record of the
// activation it runs in, while the output still reaches the terminal. It is
// how pipelines written in other languages get their logs into runlog
// (`runlog exec`).
//
// Exec is meant to be transparent: the program gets the signals its
// runner gets, its output is echoed byte for byte as it arrives, its exit
// status is the result whatever happened to delivery, and a reader that
// goes away (`runlog exec ... | head`) stops neither the program nor the
// capture.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// Result says how a captured program ended.
type Result struct {
	// ExitCode is the program's exit status; for a program killed by a
	// signal, 128 + the signal number, as shells report it; 127 for a
	// program that was not found and 126 for one that could not be
	// executed.
	ExitCode int
	// Cause is "ok", "error" (non-zero exit, or not started) or "signal";
	// empty when runlog failed before it could start the program.
	Cause string
	// Signal names the signal that ended the program, if any.
	Signal string
	// Lines counts the lines stored, stdout and stderr together; a long
	// line stored in pieces counts once.
	Lines int
}

// Attribute keys of captured records, defined in package resource with
// every other name runlog writes.
const (
	StreamKey     = resource.Stream     // "stdout", "stderr", or "tty" with Options.TTY
	ExitCodeKey   = resource.ExitCode   // on the final record
	ExitCauseKey  = resource.ExitCause  // ok, error, signal
	ExitSignalKey = resource.ExitSignal // the signal's name, if one ended it
)

// DefaultGrace is how long a program has to exit after a second signal
// before it is killed, when Options.Grace is zero.
const DefaultGrace = 10 * time.Second

// Options configure ExecWith. The zero value is Exec's behaviour with
// nothing echoed.
type Options struct {
	// Stdout and Stderr receive the program's output byte for byte as it
	// is read, when not nil. A write error (a closed pipe) stops the
	// echo to that writer, never the capture.
	Stdout, Stderr io.Writer
	// TTY runs the program on a pseudo-terminal (Linux only): it sees a
	// terminal on stdout and stderr, so it colours its output and line-
	// buffers it, and both reach runlog as one stream in the order it
	// wrote them (records at INFO, runlog.stream "tty"). Stdin stays
	// cmd's. The program runs in a session of its own, so signals reach
	// it only through runlog, once each.
	TTY bool
	// Grace is how long the program has, after the second signal runlog
	// received, before it is killed (SIGKILL); zero means DefaultGrace,
	// negative never.
	Grace time.Duration
	// MaxLineBytes bounds the bytes of one line held in memory; a longer
	// line is stored in pieces of at most this size as it arrives, each
	// but the last with the attribute runlog.line.continues=true. Zero
	// means DefaultMaxLineBytes.
	MaxLineBytes int
	// Signals, if not nil, replaces the process's own signals: each value
	// received is handled as if the process had received it. Nil means
	// SIGINT, SIGTERM, SIGHUP and SIGQUIT, caught while the program runs.
	Signals <-chan os.Signal
}

// Exec runs cmd inside an activation of store for scope, as ExecWith does,
// echoing the program's output to stdout and stderr when they are not nil.
func Exec(ctx context.Context, store runlog.LogStore, scope runlog.Scope, cmd *exec.Cmd, stdout, stderr io.Writer) (Result, error) {
	return ExecWith(ctx, store, scope, cmd, Options{Stdout: stdout, Stderr: stderr})
}

// ExecWith runs cmd inside an activation of store for scope. Each line of
// its stdout becomes an INFO record and each line of its stderr a WARN
// record (attribute runlog.stream), dated when runlog read the bytes that
// ended the line; the output is echoed to opts.Stdout and opts.Stderr as
// it arrives. SIGINT, SIGTERM, SIGHUP and SIGQUIT received meanwhile are
// forwarded to the program; after the second, it has opts.Grace to exit
// before it is killed. A last record states the exit code and cause (ERROR
// when the program failed), and the activation ends with that cause.
// cmd's Stdout, Stderr and, with opts.TTY, SysProcAttr must be unset. A
// cancelled ctx does not stop the program: signals do.
//
// A program that cannot be started is recorded the same way, with exit
// code 127 (not found) or 126 (not executable), and the error is a
// *StartError. Otherwise the error is about runlog: Activate's, or
// Deactivate's (records not delivered yet), joined; Result.Cause is empty
// only when the program's outcome is unknown.
func ExecWith(ctx context.Context, store runlog.LogStore, scope runlog.Scope, cmd *exec.Cmd, opts Options) (Result, error) {
	actx, err := store.Activate(ctx, scope)
	if err != nil {
		return Result{}, err
	}
	// The program is stopped by signals, not by ctx; its records are kept
	// even when a signal has cancelled ctx.
	actx = context.WithoutCancel(actx)
	h := runlog.Logger(actx).Handler()
	res, runErr := run(actx, h, cmd, opts)
	var se *StartError
	switch {
	case runErr == nil:
		level := slog.LevelInfo
		if res.Cause != runlog.CauseOK {
			level = slog.LevelError
		}
		attrs := []any{ExitCodeKey, res.ExitCode, ExitCauseKey, res.Cause}
		if res.Signal != "" {
			attrs = append(attrs, ExitSignalKey, res.Signal)
		}
		emit(actx, h, level, time.Now(), "process exited: "+res.Cause, attrs...)
	case errors.As(runErr, &se):
		emit(actx, h, slog.LevelError, time.Now(), "process not started: "+se.Error(),
			ExitCodeKey, res.ExitCode, ExitCauseKey, res.Cause)
	default:
		emit(actx, h, slog.LevelError, time.Now(), "runlog could not run the program: "+runErr.Error(),
			ExitCauseKey, runlog.CauseError)
	}
	cause := res.Cause
	if cause == "" {
		cause = runlog.CauseError
	}
	return res, errors.Join(runErr, store.Deactivate(runlog.WithCause(actx, cause)))
}

// emit logs one record with no source location: the lines are the
// program's, not this package's.
func emit(ctx context.Context, h slog.Handler, level slog.Level, t time.Time, msg string, attrs ...any) {
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.Add(attrs...)
	_ = h.Handle(ctx, r)
}

// stream is one output of the program as runlog reads it.
type stream struct {
	name  string
	level slog.Level
	r     *os.File
	echo  io.Writer
}

// chunk is what one read returned, dated when it returned.
type chunk struct {
	stream int
	data   []byte
	at     time.Time
	eof    bool
}

func run(ctx context.Context, h slog.Handler, cmd *exec.Cmd, opts Options) (Result, error) {
	grace := opts.Grace
	if grace == 0 {
		grace = DefaultGrace
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	// A reader of our output that goes away must not kill us before the
	// records are stored: writes to it fail instead, and are dropped.
	defer catchSIGPIPE()()

	var (
		streams []stream
		child   []*os.File // the program's ends, closed here once it has them
	)
	closeAll := func() {
		for _, f := range child {
			f.Close()
		}
		for _, s := range streams {
			s.r.Close()
		}
	}
	if opts.TTY {
		master, slave, err := openPTY(opts.Stdout)
		if err != nil {
			return Result{}, fmt.Errorf("--tty: %w", err)
		}
		cmd.Stdout, cmd.Stderr = slave, slave
		onTerminal(cmd)
		streams = []stream{{"tty", slog.LevelInfo, master, opts.Stdout}}
		child = []*os.File{slave}
	} else {
		for _, s := range []struct {
			name  string
			level slog.Level
			dst   *io.Writer
			echo  io.Writer
		}{{"stdout", slog.LevelInfo, &cmd.Stdout, opts.Stdout}, {"stderr", slog.LevelWarn, &cmd.Stderr, opts.Stderr}} {
			r, w, err := os.Pipe()
			if err != nil {
				closeAll()
				return Result{}, err
			}
			*s.dst = w
			streams = append(streams, stream{s.name, s.level, r, s.echo})
			child = append(child, w)
		}
	}

	sigs := opts.Signals
	if sigs == nil {
		c := make(chan os.Signal, 8)
		// Caught from before the start, so that none is missed.
		signal.Notify(c, forwarded...)
		defer signal.Stop(c)
		sigs = c
	}
	if err := cmd.Start(); err != nil {
		closeAll()
		se := startError(cmd, err)
		return Result{ExitCode: se.Code, Cause: runlog.CauseError}, se
	}
	for _, f := range child {
		f.Close() // the program holds them now: EOF comes when it closes them
	}

	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	chunks := make(chan chunk, 16)
	stopReading := readStreams(streams, chunks)
	defer stopReading()
	stored := make(chan int, 1)
	go func() { stored <- record(ctx, h, streams, chunks, maxLine) }()

	supervise(cmd.Process, sigs, exited, grace, func(msg string) {
		emit(ctx, h, slog.LevelWarn, time.Now(), msg)
		if opts.Stderr != nil {
			fmt.Fprintln(opts.Stderr, msg)
		}
	})
	// The program has exited; its output ends when every process that
	// inherited it has closed it. A signal now stops waiting for them.
	var lines int
	select {
	case lines = <-stored:
	case <-sigs:
		stopReading()
		lines = <-stored
	}
	for _, s := range streams {
		s.r.Close()
	}

	res := Result{Lines: lines, Cause: runlog.CauseOK}
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &ee):
		res.ExitCode, res.Cause = ee.ExitCode(), runlog.CauseError
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode, res.Cause, res.Signal = 128+int(ws.Signal()), runlog.CauseSignal, ws.Signal().String()
		}
	default:
		return res, waitErr
	}
	return res, nil
}

// record turns chunks into records and returns the number of lines.
func record(ctx context.Context, h slog.Handler, streams []stream, chunks <-chan chunk, maxLine int) int {
	split := make([]lineSplitter, len(streams))
	for i := range split {
		split[i].max = maxLine
	}
	var (
		lines int
		out   []piece
	)
	put := func(i int) {
		s := streams[i]
		for _, p := range out {
			if p.more {
				emit(ctx, h, s.level, p.at, p.text, StreamKey, s.name, LineContinuesKey, true)
				continue
			}
			emit(ctx, h, s.level, p.at, p.text, StreamKey, s.name)
			lines++
		}
	}
	for c := range chunks {
		out = split[c.stream].write(c.data, c.at, out[:0])
		if c.eof {
			out = split[c.stream].end(c.at, out)
		}
		put(c.stream)
	}
	// Reading was stopped: keep what streams left unfinished.
	now := time.Now()
	for i := range split {
		out = split[i].end(now, out[:0])
		put(i)
	}
	return lines
}

// supervise forwards signals to p until it exits, and kills it when it
// has not exited grace after the second signal; note tells the user why.
func supervise(p *os.Process, sigs <-chan os.Signal, exited <-chan struct{}, grace time.Duration, note func(string)) {
	var (
		n     int
		timer <-chan time.Time
	)
	for {
		select {
		case <-exited:
			return
		case s := <-sigs:
			n++
			_ = p.Signal(s)
			if n == 2 && grace >= 0 {
				timer = time.After(grace)
			}
		case <-timer:
			timer = nil
			note(fmt.Sprintf("runlog: killing the program (SIGKILL): it has not exited %v after the second signal", grace))
			_ = p.Kill()
		}
	}
}
