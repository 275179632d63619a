package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/router"
)

// Config configures a Store.
type Config struct {
	URL           string        // backend base URL
	Token         string        // bearer token
	BatchSize     int           // records per ingest call
	QueueSize     int           // records queued per activation before logging blocks
	FlushInterval time.Duration // longest a record waits
	MaxRetries    int           // retries of a failed ingest call, with backoff
	MinLevel      slog.Level    // lowest level stored
	Console       slog.Handler  // where records are also printed; nil: stderr
}

// snippet:store
// Store is a complete runlog.LogStore for the HTTP backend, written
// without runlog's OpenTelemetry write path: a sink per activation, a
// bounded queue, and a goroutine that sends batches. Package router does
// the routing.
type Store struct {
	cfg    Config
	client *http.Client
	router *router.Router
}

// end snippet

var _ runlog.LogStore = (*Store)(nil)

// New returns a Store; zero fields of cfg get defaults.
func New(cfg Config) (*Store, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, runlog.Invalidf("custom store: URL %q is not an http(s) URL", cfg.URL)
	}
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 500)
	cfg.QueueSize = max(cmp.Or(cfg.QueueSize, 10000), cfg.BatchSize)
	cfg.FlushInterval = cmp.Or(cfg.FlushInterval, time.Second)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, 5)
	if cfg.Console == nil {
		cfg.Console = slog.NewTextHandler(os.Stderr, nil)
	}
	return &Store{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second},
		router: router.New(router.Options{Console: cfg.Console})}, nil
}

// activation is one Activate: its records go through queue to the worker.
type activation struct {
	runlog.Activation
	store *Store

	mu     sync.Mutex // orders sequence numbers and timestamps
	seq    uint64
	last   time.Time
	queue  chan Record
	done   chan struct{} // closed when the worker has sent everything
	failed int           // records the backend never took (worker only)
	err    error
}

// snippet:activate
// Activate starts collecting the records of sc.
func (s *Store) Activate(ctx context.Context, sc runlog.Scope) (context.Context, error) {
	if err := sc.Validate(); err != nil {
		return ctx, err
	}
	a := &activation{store: s, queue: make(chan Record, s.cfg.QueueSize), done: make(chan struct{})}
	a.ID = strconv.FormatInt(time.Now().UnixNano(), 36)
	a.Scope, a.Owner = sc, s
	go a.send()
	// The router routes every slog call: to the activation in its
	// context, else to the innermost one; and prints it on the console.
	return s.router.Push(ctx, &a.Activation, &sink{a: a})
}

// end snippet

// snippet:deactivate
// Deactivate ends the activation in ctx (or the innermost), sends what is
// queued, and waits for it within ctx's deadline.
func (s *Store) Deactivate(ctx context.Context) error {
	ra := s.router.Lookup(ctx)
	if ra == nil {
		return nil // not active (any more): Deactivate is idempotent
	}
	h, ok := s.router.Pop(ra)
	if !ok {
		return nil // ended meanwhile by another Deactivate
	}
	// After Pop, no record reaches the sink: the queue can close.
	a := h.(*sink).a
	close(a.queue)
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("custom store: %s: records still queued when the deadline passed: %w", a.Scope, ctx.Err())
	}
	if a.failed > 0 {
		return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "deactivate", Store: s.cfg.URL,
			Err: fmt.Errorf("%s: %d records not delivered: %w", a.Scope, a.failed, a.err)}
	}
	return nil
}

// end snippet

// snippet:add
// add queues one record; it blocks while the queue is full (backpressure,
// never loss).
func (a *activation) add(r slog.Record, attrs map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	t := r.Time
	if t.Before(a.last) {
		t = a.last // keep time order and sequence order the same
	}
	a.last = t
	for k, v := range a.Scope.Attributes { // the scope's attributes go with every record
		if _, ok := attrs[k]; !ok {
			if attrs == nil {
				attrs = map[string]string{}
			}
			attrs[k] = v
		}
	}
	rec := Record{RunID: a.Scope.RunID, StepID: a.Scope.StepID, Source: a.Scope.SourceOrDefault(),
		Attempt: a.Scope.Attempt, ID: a.ID + "-" + strconv.FormatUint(a.seq, 10), Seq: a.seq, Time: t,
		Level: int(runlog.LevelFromSlog(r.Level)), Message: r.Message, Logger: "custom", Attrs: attrs}
	if r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		rec.File, rec.Line, rec.Module = f.File, f.Line, packageOf(f.Function)
	}
	a.queue <- rec // blocks when full, holding a.mu: records keep their order
}

// end snippet

// snippet:send
// send is the worker: it batches records and posts them, retrying with
// exponential backoff, until the queue is closed and empty.
func (a *activation) send() {
	defer close(a.done)
	cfg := a.store.cfg
	tick := time.NewTicker(cfg.FlushInterval)
	defer tick.Stop()
	var batch []Record
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := a.store.ingest(batch); err != nil {
			a.failed += len(batch)
			a.err = err
		}
		batch = batch[:0]
	}
	for {
		select {
		case rec, ok := <-a.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, rec)
			if len(batch) >= cfg.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// end snippet

func (s *Store) ingest(batch []Record) error {
	body, err := json.Marshal(map[string]any{"records": batch})
	if err != nil {
		return err
	}
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err = s.post("/ingest", body, nil)
		var perm permanent
		if err == nil || errors.As(err, &perm) || attempt == s.cfg.MaxRetries {
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}

// permanent marks errors a retry cannot fix (bad token, bad request).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func (s *Store) post(path string, body []byte, out any) error {
	req, err := http.NewRequest(http.MethodPost, s.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return &runlog.Error{Kind: runlog.ErrUnavailable, Store: s.cfg.URL, Err: err, Hint: "is the backend running?"}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return permanent{&runlog.Error{Kind: runlog.ErrUnauthorized, Store: s.cfg.URL, Hint: "check the token"}}
	case resp.StatusCode >= 500:
		return &runlog.Error{Kind: runlog.ErrUnavailable, Store: s.cfg.URL, Err: errors.New(resp.Status)}
	case resp.StatusCode >= 300:
		return permanent{&runlog.Error{Kind: runlog.ErrInvalid, Store: s.cfg.URL, Err: errors.New(resp.Status)}}
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// snippet:fetch
// Fetch asks the backend for the run (and step, and time range), then
// filters, orders and pages here, with the sort key of the last entry as
// the cursor.
func (s *Store) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return runlog.Page{}, err
	}
	body, _ := json.Marshal(queryRequest{RunID: q.RunID, StepID: q.StepID, Start: q.Start, End: q.End})
	var resp struct {
		Logs []Record `json:"logs"`
	}
	if err := s.post("/query", body, &resp); err != nil {
		var perm permanent
		if errors.As(err, &perm) {
			err = perm.error
		}
		return runlog.Page{}, err
	}
	var es []runlog.LogEntry
	for _, r := range resp.Logs {
		e := toEntry(r)
		if q.Match(&e) {
			es = append(es, e)
		}
	}
	dir := 1
	if q.Direction == runlog.Backward {
		dir = -1
	}
	slices.SortFunc(es, func(a, b runlog.LogEntry) int { return dir * runlog.Compare(&a, &b) })
	if after != nil {
		es = slices.DeleteFunc(es, func(e runlog.LogEntry) bool { return dir*runlog.Compare(&e, after) <= 0 })
	}
	limit := q.EffectiveLimit()
	p := runlog.Page{More: len(es) > limit, Next: q.Cursor}
	p.Entries = es[:min(limit, len(es))]
	if n := len(p.Entries); n > 0 {
		p.Next = encodeCursor(&p.Entries[n-1])
	}
	return p, nil
}

// end snippet

func toEntry(r Record) runlog.LogEntry {
	return runlog.LogEntry{Message: r.Message, Name: r.Logger, Level: runlog.Level(r.Level), Time: r.Time,
		Module: r.Module, Filename: r.File, Lineno: r.Line, TotalChunks: 1, ID: r.ID,
		RunID: r.RunID, StepID: r.StepID, Source: r.Source, Attempt: r.Attempt, Sequence: r.Seq, Attributes: r.Attrs}
}

// The cursor is the last entry's sort key: time, sequence, id.
func encodeCursor(e *runlog.LogEntry) runlog.Cursor {
	k := strconv.FormatInt(e.Time.UnixNano(), 10) + "|" + strconv.FormatUint(e.Sequence, 10) + "|" + e.ID
	return runlog.Cursor(base64.RawURLEncoding.EncodeToString([]byte(k)))
}

func decodeCursor(c runlog.Cursor) (*runlog.LogEntry, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(string(c))
	parts := strings.SplitN(string(b), "|", 3)
	if err != nil || len(parts) != 3 {
		return nil, runlog.Invalidf("custom store: cursor %.40q is not one this store made", c)
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, runlog.Invalidf("custom store: cursor %.40q is not one this store made", c)
	}
	return &runlog.LogEntry{Time: time.Unix(0, ns), Sequence: seq, ID: parts[2], TotalChunks: 1}, nil
}

// packageOf turns "github.com/a/b.(*T).M" into "github.com/a/b".
func packageOf(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}
