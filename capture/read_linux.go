package capture

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// readStreams reads the streams until they end, sending what it reads to
// out, dated, and echoing it at once; out is closed when every stream has
// ended. One goroutine waits on all of them with epoll, which lists
// descriptors in the order they became readable: output written to
// stdout and then to stderr is read, dated and stored in that order
// whenever runlog was waiting when it was written (and not still busy
// with earlier output). stop ends the reading early.
func readStreams(streams []stream, out chan<- chunk) (stop func()) {
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	ep, eperr := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err = errors.Join(err, eperr); err == nil {
		for i, s := range streams {
			if cerr := control(s.r, func(fd int) error {
				return unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)})
			}); cerr != nil {
				err = cerr
			}
		}
		if err == nil {
			err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1})
		}
	}
	if err != nil {
		// No epoll (a sandbox, say): one goroutine per stream, as elsewhere.
		unix.Close(wake)
		unix.Close(ep)
		return readEach(streams, out)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		defer unix.Close(ep)
		echo := make([]echoTo, len(streams))
		for i, s := range streams {
			echo[i] = echoTo{s.echo}
		}
		buf := make([]byte, 32<<10)
		events := make([]unix.EpollEvent, len(streams)+1)
		open := len(streams)
		for open > 0 {
			n, err := unix.EpollWait(ep, events, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			for _, ev := range events[:n] {
				if ev.Fd < 0 {
					return // stop
				}
				i := int(ev.Fd)
				var (
					k    int
					rerr error
				)
				if cerr := control(streams[i].r, func(fd int) error {
					k, rerr = unix.Read(fd, buf)
					return nil
				}); cerr != nil {
					k, rerr = 0, cerr
				}
				if rerr == unix.EAGAIN || rerr == unix.EINTR {
					continue
				}
				k = max(k, 0)
				eof := k == 0 || rerr != nil // EOF; EIO from a terminal whose program is gone
				out <- chunk{stream: i, data: append([]byte(nil), buf[:k]...), at: time.Now(), eof: eof}
				echo[i].write(buf[:k])
				if eof {
					_ = control(streams[i].r, func(fd int) error { return unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil) })
					open--
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			var one [8]byte
			one[0] = 1
			_, _ = unix.Write(wake, one[:])
			<-done
			unix.Close(wake)
		})
	}
}
