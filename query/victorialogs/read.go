package victorialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/query/internal/pagination"
)

// errGrew: a window held more entries than counted a moment before
// (records still arriving); the page is read again.
var errGrew = errors.New("more entries than counted")

// windows holds the buffers windows are read into, so that each page does
// not allocate (and clear) megabytes anew.
var windows = sync.Pool{New: func() any { return new([]runlog.LogEntry) }}

// readWindow reads the window w, counted as n, into a pooled buffer and
// merges it into m.
func (c *Client) readWindow(ctx context.Context, f string, w span, n int, m *pagination.Merge) error {
	buf := windows.Get().(*[]runlog.LogEntry)
	es, err := c.read(ctx, f, w, n, (*buf)[:0])
	if err == nil {
		m.Add(es)
	}
	clear(es) // what the pool holds keeps no entry alive
	*buf = es[:0]
	windows.Put(buf)
	return err
}

// read returns every entry f matches in w, which were counted as n a
// moment ago. An answer longer than that by more than the records that may
// have arrived since is cut off, and errGrew returned.
func (c *Client) read(ctx context.Context, f string, w span, n int, out []runlog.LogEntry) ([]runlog.LogEntry, error) {
	a, err := c.query(ctx, f+w.filter()+readPipe)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	limit := n + n/8 + 256
	// Lines are gathered into chunks, each turned into one string that
	// the entries' fields are substrings of, and decoded by workers while
	// the next chunk is read: out's capacity is fixed, so each worker
	// writes its chunk's entries in place.
	out = slices.Grow(out[:0], limit)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstBad error
	)
	work := make(chan chunk, decoders)
	all := out[:cap(out)] // the workers' view; out's length is the reader's
	for range decoders {
		wg.Go(func() {
			for ch := range work {
				start := 0
				for i, end := range ch.ends {
					if err := decodeString(ch.s[start:end], &all[ch.at+i], c.mapping); err != nil {
						mu.Lock()
						if firstBad == nil {
							firstBad = c.badLine([]byte(ch.s[start:end]), err)
						}
						mu.Unlock()
						break
					}
					start = end
				}
			}
		})
	}
	var buf []byte
	var ends []int
	send := func() {
		if len(ends) == 0 {
			return
		}
		at := len(out)
		out = out[:at+len(ends)]
		work <- chunk{s: unsafe.String(unsafe.SliceData(buf), len(buf)), ends: ends, at: at}
		buf, ends = nil, nil // the string owns buf now: never write it again
	}
	for {
		var line []byte
		line, err = a.line()
		if err == io.EOF {
			err = nil
			break
		}
		if err == nil && len(out)+len(ends) == limit {
			err = errGrew
		}
		if err != nil {
			break
		}
		if buf == nil {
			buf, ends = make([]byte, 0, chunkBytes), make([]int, 0, 256)
		}
		buf = append(buf, line...)
		ends = append(ends, len(buf))
		if len(buf) >= chunkBytes-maxLineGuess || len(ends) == cap(ends) {
			send()
		}
	}
	send()
	close(work)
	wg.Wait()
	if err == nil {
		err = firstBad
	}
	return out, err
}

// A chunk is lines of an answer, held in one string s: line i ends at
// ends[i]; its entry goes to out[at+i].
type chunk struct {
	s    string
	ends []int
	at   int
}

const (
	decoders     = 2
	chunkBytes   = 256 << 10
	maxLineGuess = 4 << 10 // start a new chunk rather than grow one past chunkBytes
)

// badLine is the error for a line that is not a record: VictoriaLogs
// writes its error there when a query fails after the answer began.
func (c *Client) badLine(line []byte, err error) error {
	return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(),
		Err:  fmt.Errorf("the answer broke off (%v): %s", err, httpconf.Clean(string(line), 300)),
		Hint: "VictoriaLogs failed mid-answer; retry, and check its logs (for a cluster, its storage nodes)"}
}

// stats returns how many entries q matches, and the timestamps of the
// oldest and newest.
func (c *Client) stats(ctx context.Context, q string) (n int, first, last int64, err error) {
	var row struct{ N, Lo, Hi string }
	rows := 0
	err = c.rows(ctx, q+" | stats count() N, min(_time) Lo, max(_time) Hi", func(line []byte) error {
		rows++
		return json.Unmarshal(line, &row)
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if rows != 1 {
		return 0, 0, 0, c.badLine(nil, fmt.Errorf("stats gave %d rows; want 1", rows))
	}
	if n, err = strconv.Atoi(row.N); err != nil || n == 0 {
		return 0, 0, 0, nil
	}
	lo, err1 := time.Parse(time.RFC3339Nano, row.Lo)
	hi, err2 := time.Parse(time.RFC3339Nano, row.Hi)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, c.badLine([]byte(row.Lo+" "+row.Hi), errors.New("stats: bad time"))
	}
	return n, lo.UnixNano(), hi.UnixNano(), nil
}

// rows runs a query whose answer is small and calls fn with each line.
func (c *Client) rows(ctx context.Context, q string, fn func(line []byte) error) error {
	a, err := c.query(ctx, q)
	if err != nil {
		return err
	}
	defer a.Close()
	for i := 0; ; i++ {
		line, err := a.line()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if i == 100000 {
			return c.badLine(nil, errors.New("more than 100000 rows of statistics"))
		}
		if err := fn(line); err != nil {
			return c.badLine(line, err)
		}
	}
}
