//go:build unix

package capture

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Stdio captures the process's own standard output and error at the file
// descriptor level, so that fmt.Println, C code and child processes that
// inherit them are captured too: every line written to fd 1 or 2 is logged
// to h (INFO for stdout, WARN for stderr, attribute runlog.stream) and
// still written to the original destination. Stop restores the
// descriptors and logs what was left unfinished.
//
// Use it around an activation: pass the activation's handler
// (runlog.Logger(ctx).Handler()) to attribute everything to that step, or
// slog.Default().Handler() to follow runlog's routing (the innermost
// activation). Only one capture may be active in a process at a time.
type Stdio struct {
	saved [2]int      // dups of the original fds 1 and 2
	orig  [2]*os.File // the same, as files (one each: a File closes its fd when collected)
	pipes [2]*os.File // read ends
	wg    sync.WaitGroup
	once  sync.Once
}

// StartStdio starts capturing fds 1 and 2 into h.
func StartStdio(h slog.Handler) (*Stdio, error) {
	s := &Stdio{}
	for i, fd := range []int{1, 2} {
		saved, err := unix.Dup(fd)
		if err != nil {
			s.undo(i)
			return nil, err
		}
		r, w, err := os.Pipe()
		if err != nil {
			unix.Close(saved)
			s.undo(i)
			return nil, err
		}
		if err := unix.Dup2(int(w.Fd()), fd); err != nil {
			unix.Close(saved)
			r.Close()
			w.Close()
			s.undo(i)
			return nil, err
		}
		w.Close() // fd now refers to the pipe
		s.saved[i], s.pipes[i] = saved, r
		s.orig[i] = os.NewFile(uintptr(saved), "original")
		stream, level := "stdout", slog.LevelInfo
		if fd == 2 {
			stream, level = "stderr", slog.LevelWarn
		}
		s.wg.Add(1)
		go s.pump(r, s.orig[i], h, stream, level)
	}
	return s, nil
}

// Original returns a file for the original destination of fd 1 or 2, for
// output that must not be captured (a console logger, for one). It stays
// valid until Stop.
func (s *Stdio) Original(fd int) *os.File { return s.orig[fd-1] }

// undo restores the first n descriptors after a failed start.
func (s *Stdio) undo(n int) {
	for i := 0; i < n; i++ {
		_ = unix.Dup2(s.saved[i], i+1)
		s.orig[i].Close()
		s.pipes[i].Close()
	}
}

func (s *Stdio) pump(r io.Reader, echo io.Writer, h slog.Handler, stream string, level slog.Level) {
	defer s.wg.Done()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = io.WriteString(echo, line)
			emit(context.Background(), h, level, time.Now(), strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), StreamKey, stream)
		}
		if err != nil {
			return
		}
	}
}

// Stop puts fds 1 and 2 back and waits until everything written before it
// was logged. It is idempotent.
func (s *Stdio) Stop() error {
	var errs []error
	s.once.Do(func() {
		for i, fd := range []int{1, 2} {
			// Pointing fd back at the original closes the pipe's last
			// write end, so the pump sees EOF (child processes still
			// holding it delay that).
			errs = append(errs, unix.Dup2(s.saved[i], fd))
		}
		s.wg.Wait()
		for i := range s.saved {
			s.pipes[i].Close()
			s.orig[i].Close()
		}
	})
	return errors.Join(errs...)
}
