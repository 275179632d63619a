package capture

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal, as posix_openpt, grantpt and unlockpt
// do: the master, which runlog reads, and the slave, which the program
// gets as stdout and stderr. The slave does not turn "\n" into "\r\n", so
// what is echoed is what the program wrote; its size is the size of like
// when that is a terminal.
func openPTY(like io.Writer) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var n int
	err = control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		return err
	})
	if err == nil {
		slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err == nil {
		err = control(slave, func(fd int) error {
			t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
			if err != nil {
				return err
			}
			t.Oflag &^= unix.ONLCR
			if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
				return err
			}
			if f, ok := like.(*os.File); ok {
				var ws *unix.Winsize
				if control(f, func(lfd int) (err error) { ws, err = unix.IoctlGetWinsize(lfd, unix.TIOCGWINSZ); return err }) == nil {
					_ = unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws)
				}
			}
			return nil
		})
	}
	if err != nil {
		master.Close()
		if slave != nil {
			slave.Close()
		}
		return nil, nil, fmt.Errorf("opening a pseudo-terminal: %w", err)
	}
	return master, slave, nil
}

// control runs fn on f's descriptor without putting f in blocking mode
// (as f.Fd would), so that reading it can still be interrupted by Close.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
