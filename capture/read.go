package capture

import (
	"io"
	"sync"
	"time"
)

// echoTo writes what was read to w until a write fails (its reader went
// away), and then drops it: capture goes on.
type echoTo struct{ w io.Writer }

func (e *echoTo) write(p []byte) {
	if e.w == nil || len(p) == 0 {
		return
	}
	if _, err := e.w.Write(p); err != nil {
		e.w = nil
	}
}

// readEach reads each stream in a goroutine of its own until it ends,
// sending what it reads to out, dated, and echoing it at once; out is
// closed when every stream has ended. Two streams written close together
// may be dated in either order. stop ends the reading early.
func readEach(streams []stream, out chan<- chunk) (stop func()) {
	var (
		readers sync.WaitGroup
		dating  sync.Mutex // so that out receives chunks in date order
	)
	for i, s := range streams {
		readers.Add(1)
		go func() {
			defer readers.Done()
			echo := echoTo{s.echo}
			buf := make([]byte, 32<<10)
			for {
				n, err := s.r.Read(buf)
				dating.Lock()
				out <- chunk{stream: i, data: append([]byte(nil), buf[:n]...), at: time.Now(), eof: err != nil}
				dating.Unlock()
				echo.write(buf[:n])
				if err != nil {
					return // io.EOF, or closed by stop
				}
			}
		}()
	}
	go func() {
		readers.Wait()
		close(out)
	}()
	return func() {
		for _, s := range streams {
			s.r.Close()
		}
	}
}
