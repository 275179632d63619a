package serve

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
)

// filter is what a logs request selects.
type filter struct {
	q          runlog.Query // run, step, source, level, search, time bounds
	attempt    int
	hasAttempt bool
	fp         string // fingerprint of the filters as given
}

// parseFilter reads the filters of a logs request. levelAndSearch says
// whether level and search apply.
func parseFilter(r *http.Request) (*filter, error) {
	v := r.URL.Query()
	flt := &filter{q: runlog.Query{RunID: r.PathValue("run"), StepID: v.Get("step"), Source: v.Get("source"), Contains: v.Get("search")}}
	if s := v.Get("attempt"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, runlog.Invalidf("attempt %q: want a whole number, such as 1", truncate(s, 40))
		}
		flt.attempt, flt.hasAttempt = n, true
	}
	if s := v.Get("level"); s != "" {
		l, err := runlog.ParseLevel(s)
		if err != nil {
			return nil, err
		}
		flt.q.MinLevel = l
	}
	now := time.Now()
	var err error
	if flt.q.Start, err = parseTime("since", v.Get("since"), now); err != nil {
		return nil, err
	}
	if flt.q.End, err = parseTime("until", v.Get("until"), now); err != nil {
		return nil, err
	}
	if err := flt.q.Validate(); err != nil {
		return nil, err
	}
	flt.fp = fingerprint(flt.q.RunID, flt.q.StepID, flt.q.Source, v.Get("attempt"), v.Get("level"), flt.q.Contains, v.Get("since"), v.Get("until"))
	return flt, nil
}

// parseTime reads an RFC 3339 time, or a duration meaning that long ago.
func parseTime(param, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, runlog.Invalidf("%s %q: want an RFC 3339 time such as 2026-11-24T10:00:00Z, or a duration ago such as 90m", param, truncate(s, 40))
}

func parseLimit(v url.Values, def, max int) (int, error) {
	s := v.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, runlog.Invalidf("limit %q: want a whole number from 1 to %d (0: the default, %d)", truncate(s, 40), max, def)
	}
	if n == 0 {
		return def, nil
	}
	return min(n, max), nil
}

// walkResult says where a walk stopped.
type walkResult struct {
	more bool
	// resume continues the walk after the last entry yielded.
	resume      cursor
	first, last *key // the first and last entries yielded, in walk order
	ends        []runlog.End
}

// errStopped: the caller stopped the walk (the client went away).
var errStopped = errors.New("stopped")

// walk yields up to limit entries of flt from c in dir ("f" or "b"),
// reading the store PageSize entries at a time, the next page while the
// caller handles this one. yield is given the entry and the cursor after
// it; page, if set, is called after each page of the store.
func (s *server) walk(ctx context.Context, flt *filter, c cursor, dir string, limit int,
	yield func(e *runlog.LogEntry, after func() cursor) bool, page func() bool) (walkResult, error) {
	q := flt.q
	q.Direction = runlog.Forward
	if dir == "b" {
		q.Direction = runlog.Backward
	}
	skip, incl := c.Key, c.Incl
	if c.Dir != dir {
		incl = !incl // the key is on the other side of the position
	}
	switch {
	case c.Filter == flt.fp && c.Dir == dir && c.Store != "":
		q.Cursor, q.Start, q.End = c.Store, fromNanos(c.Start), fromNanos(c.End)
	case skip != nil && dir == "f":
		if t := skip.time(); q.Start.IsZero() || t.After(q.Start) {
			q.Start = t
		}
	case skip != nil:
		if t := skip.time().Add(1); q.End.IsZero() || t.Before(q.End) {
			q.End = t
		}
	}
	mk := func(store runlog.Cursor, k *key) cursor {
		return cursor{Dir: dir, Filter: flt.fp, Store: store, Start: nanos(q.Start), End: nanos(q.End), Key: k}
	}
	res := walkResult{resume: mk(q.Cursor, skip)}
	res.resume.Incl = incl
	if !q.Start.IsZero() && !q.End.IsZero() && !q.Start.Before(q.End) {
		return res, nil // nothing between the bounds
	}
	seen := func(e *runlog.LogEntry) bool {
		if skip == nil {
			return false
		}
		c := skip.compare(e)
		if dir == "b" {
			c = -c
		}
		return c < 0 || (c == 0 && !incl)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a prefetch no longer wanted
	type fetched struct {
		p   runlog.Page
		err error
	}
	fetch := func(q runlog.Query) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			p, err := s.f.Fetch(ctx, q)
			ch <- fetched{p, err}
		}()
		return ch
	}
	// Pages of just what is still wanted, so that the store's cursor
	// lands after the last entry returned; bigger ones while entries are
	// being skipped (before a key cursor's position, other attempts).
	floor := 1
	size := func(n int) int { return min(s.opts.PageSize, max(n, floor)) }
	emitted := 0
	q.Limit = size(limit)
	pending := fetch(q)
	for {
		start := q.Cursor
		r := <-pending
		pending = nil
		if r.err != nil {
			return res, r.err
		}
		p := &r.p
		res.ends = append(res.ends, p.Ends...)
		res.more = p.More && len(p.Entries) > 0
		if len(p.Entries) > 0 {
			q.Cursor = p.Next
		}
		if res.more && emitted+len(p.Entries) < limit {
			q.Limit = size(limit - emitted - len(p.Entries))
			pending = fetch(q)
		}
		for i := range p.Entries {
			e := &p.Entries[i]
			if seen(e) || (flt.hasAttempt && e.Attempt != flt.attempt) {
				floor = min(s.opts.PageSize, max(2*floor, 64))
				continue
			}
			if emitted == limit {
				res.more = true
				return res, nil // resume re-reads this page past the last entry
			}
			k := keyOf(e)
			if !yield(e, func() cursor { return mk(start, k) }) {
				return res, errStopped
			}
			emitted++
			if res.first == nil {
				res.first = k
			}
			res.last = k
			res.resume = mk(start, k)
		}
		if len(p.Entries) > 0 {
			if res.last != nil {
				res.resume = mk(p.Next, res.last)
			} else {
				res.resume = mk(p.Next, skip)
				res.resume.Incl = incl
			}
		}
		if page != nil && !page() {
			return res, errStopped
		}
		if !res.more || emitted >= limit {
			return res, nil
		}
		if pending == nil {
			q.Limit = size(limit - emitted)
			pending = fetch(q)
		}
	}
}

// logs answers GET /api/v1/runs/{run}/logs: one page,
// {"items": [...], "after": "...", "before": "...", "more": bool}, the
// items oldest first in either direction.
func (s *server) logs(w http.ResponseWriter, r *http.Request) {
	flt, err := parseFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := r.URL.Query()
	limit, err := parseLimit(v, s.opts.DefaultLimit, s.opts.MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dir, param := "f", "after"
	if v.Has("before") {
		if v.Has("after") {
			s.fail(w, r, runlog.Invalidf("give after or before, not both"))
			return
		}
		dir, param = "b", "before"
	}
	var c cursor
	if cs := v.Get(param); cs != "" {
		if c, err = decodeCursor(param, cs); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var (
		buf     []byte
		offsets []int // backward: where each entry starts in buf
		started bool
	)
	begin := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"items":[`))
		started = true
	}
	n := 0
	yield := func(e *runlog.LogEntry, _ func() cursor) bool {
		if dir == "b" {
			offsets = append(offsets, len(buf))
			buf, err = appendEntry(buf, e)
			return err == nil
		}
		if !started {
			begin()
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		if buf, err = appendEntry(buf, e); err != nil {
			return false
		}
		if len(buf) >= 64<<10 {
			_, werr := w.Write(buf)
			buf = buf[:0]
			return werr == nil
		}
		return true
	}
	res, werr := s.walk(r.Context(), flt, c, dir, limit, yield, nil)
	if werr == errStopped && err != nil {
		werr = err // an entry that does not encode
	}
	if werr != nil {
		if started {
			panic(http.ErrAbortHandler) // no answer that passes for a whole page
		}
		s.fail(w, r, werr)
		return
	}
	if !started {
		begin()
	}
	if dir == "b" { // read newest first; items are oldest first
		out := make([]byte, 0, len(buf)+len(offsets))
		for i := len(offsets) - 1; i >= 0; i-- {
			end := len(buf)
			if i+1 < len(offsets) {
				end = offsets[i+1]
			}
			if i < len(offsets)-1 {
				out = append(out, ',')
			}
			out = append(out, buf[offsets[i]:end]...)
		}
		buf = out
	}
	after, before := pageCursors(flt, c, dir, &res)
	buf = append(buf, `],"after":`...)
	buf = appendString(buf, after)
	buf = append(buf, `,"before":`...)
	buf = appendString(buf, before)
	buf = append(buf, `,"more":`...)
	buf = strconv.AppendBool(buf, res.more)
	buf = append(buf, "}\n"...)
	w.Write(buf)
}

// pageCursors returns a page's after (resumes after its newest item) and
// before (resumes before its oldest item).
func pageCursors(flt *filter, c cursor, dir string, res *walkResult) (after, before string) {
	// The far side: a key cursor in the other direction from the first
	// entry read, or, for an empty page, from the request's position.
	other := "b"
	if dir == "b" {
		other = "f"
	}
	far := cursor{Dir: other, Filter: flt.fp, Key: res.first}
	if res.first == nil {
		far.Key, far.Incl = c.Key, true
	}
	farS := ""
	if far.Key != nil {
		farS = far.encode()
	}
	near := res.resume.encode()
	if dir == "b" {
		return farS, near
	}
	return near, farS
}

// download answers GET /api/v1/runs/{run}/logs/download: every entry
// the filters select, as text (what `runlog logs` prints) or jsonl,
// streamed one store page at a time.
func (s *server) download(w http.ResponseWriter, r *http.Request) {
	flt, err := parseFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "text"
	case "text", "jsonl":
	default:
		s.fail(w, r, runlog.Invalidf("format %q: use text or jsonl", truncate(format, 40)))
		return
	}
	release, ok := s.acquire(w)
	if !ok {
		return
	}
	defer release()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	var buf []byte
	started := false
	begin := func() {
		name := fileName(flt.q.RunID, flt.q.StepID)
		h := w.Header()
		if format == "jsonl" {
			h.Set("Content-Type", "application/x-ndjson")
			name += ".jsonl"
		} else {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			name += ".log"
		}
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
		started = true
	}
	yield := func(e *runlog.LogEntry, _ func() cursor) bool {
		if format == "jsonl" {
			if buf, err = appendEntry(buf, e); err != nil {
				return false
			}
			buf = append(buf, '\n')
		} else {
			buf = appendText(buf, e, s.opts.Location)
		}
		if len(buf) >= 64<<10 {
			if !started {
				begin()
			}
			_, werr := w.Write(buf)
			buf = buf[:0]
			return werr == nil
		}
		return true
	}
	page := func() bool {
		if len(buf) == 0 {
			return true
		}
		if !started {
			begin()
		}
		_, werr := w.Write(buf)
		buf = buf[:0]
		return werr == nil && rc.Flush() == nil
	}
	res, werr := s.walk(r.Context(), flt, cursor{}, "f", int(^uint(0)>>1), yield, page)
	if werr == errStopped && err != nil {
		werr = err
	}
	if werr != nil {
		if started {
			panic(http.ErrAbortHandler) // the client sees a cut download, not a short file
		}
		s.fail(w, r, werr)
		return
	}
	if res.first == nil { // nothing: say why, as `runlog logs` does
		s.nothing(w, r, flt.q.RunID)
		return
	}
	if !started {
		begin()
	}
	w.Write(buf)
}

// nothing answers 404 for a selection without entries: whether the store
// has nothing for the run, or the filters matched none of what it has.
func (s *server) nothing(w http.ResponseWriter, r *http.Request, run string) {
	p, err := s.f.Fetch(r.Context(), runlog.Query{RunID: run, Limit: 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(p.Entries) > 0 || len(p.Ends) > 0 {
		writeError(w, http.StatusNotFound, "not_found", "no entries of run "+strconv.Quote(run)+" match these filters",
			"the run has entries: widen the filters (step, source, attempt, level, search, since, until)")
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "the store has nothing for run "+strconv.Quote(run),
		"records of a run that just ended may take a few seconds to be indexed by a collector-fed store; retry")
}

// fileName is run[-step], with every byte but ASCII letters, digits, '.',
// '_' and '-' replaced by '_', at most 100 bytes, not starting with '.'.
func fileName(run, step string) string {
	name := run
	if step != "" {
		name += "-" + step
	}
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	name = strings.TrimLeft(string(b[:min(len(b), 100)]), ".")
	if name == "" {
		name = "run"
	}
	return name
}

// stream answers GET /api/v1/runs/{run}/logs/stream: Server-Sent Events,
// one per entry (data: the entry's JSON; id: the cursor after it) from
// the cursor of `after` or Last-Event-ID, then an `end` event at the
// followed step's end marker, as `runlog logs --follow` stops.
func (s *server) stream(w http.ResponseWriter, r *http.Request) {
	flt, err := parseFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var c cursor
	param, cs := "after", r.URL.Query().Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		param, cs = "Last-Event-ID", id
	}
	if cs != "" {
		if c, err = decodeCursor(param, cs); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	release, ok := s.acquire(w)
	if !ok {
		return
	}
	defer release()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	buf := []byte("retry: 2000\n\n")
	if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
		return
	}
	buf = buf[:0]
	ctx := r.Context()
	running := map[string]bool{} // activations seen: still running?
	lastNew, lastWrite := time.Now(), time.Now()
	q := &flt.q
	for {
		var eerr error
		yield := func(e *runlog.LogEntry, after func() cursor) bool {
			buf = append(buf, "id: "...)
			buf = append(buf, after().encode()...)
			buf = append(buf, "\ndata: "...)
			if buf, eerr = appendEntry(buf, e); eerr != nil {
				return false
			}
			buf = append(buf, "\n\n"...)
			lastNew = time.Now()
			if _, seen := running[e.ActivationID]; !seen && e.ActivationID != "" {
				running[e.ActivationID] = true
			}
			return true
		}
		page := func() bool {
			if len(buf) == 0 {
				return true
			}
			_, err := w.Write(buf)
			buf = buf[:0]
			lastWrite = time.Now()
			return err == nil && rc.Flush() == nil
		}
		res, err := s.walk(ctx, flt, c, "f", s.opts.PageSize, yield, page)
		if err == errStopped && eerr != nil {
			err = eerr
		}
		if err != nil {
			if ctx.Err() == nil && err != errStopped {
				s.opts.Logger.Warn("serve: live tail failed", "run", q.RunID, "step", q.StepID, "err", err)
				b, _ := appendEvent(nil, "error", errorBody{apiError{errKind(err), err.Error(), ""}})
				w.Write(b)
			}
			return
		}
		c = res.resume
		var end *runlog.End
		for i, e := range res.ends {
			if e.StepID == q.StepID && (q.Source == "" || e.Source == q.Source) {
				end = &res.ends[i]
			}
			if e.ActivationID != "" {
				if _, seen := running[e.ActivationID]; !seen {
					lastNew = time.Now()
				}
				running[e.ActivationID] = false
			}
		}
		if res.more {
			continue
		}
		quiet := q.StepID == "" && len(running) > 0 && time.Since(lastNew) >= s.opts.Quiet && !anyRunning(running)
		if end != nil || quiet {
			ev := endEvent{RunID: q.RunID, StepID: q.StepID, Source: q.Source, After: c.encode()}
			if end != nil {
				ev.Cause, ev.Result, ev.ActivationID = end.Cause, end.Result, end.ActivationID
			} else {
				ev.Cause = "quiet"
			}
			b, _ := appendEvent(nil, "end", ev)
			w.Write(b)
			rc.Flush()
			return
		}
		if time.Since(lastWrite) >= s.opts.Heartbeat {
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil || rc.Flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(s.opts.Poll, s.opts.Heartbeat)):
		}
	}
}

func anyRunning(m map[string]bool) bool {
	for _, r := range m {
		if r {
			return true
		}
	}
	return false
}

// endEvent is the data of the stream's `end` event.
type endEvent struct {
	RunID        string `json:"run_id"`
	StepID       string `json:"step_id,omitempty"`
	Source       string `json:"source,omitempty"`
	ActivationID string `json:"activation_id,omitempty"`
	// Cause is the end marker's exit cause, or "quiet": a tail of a whole
	// run stopped after every activation seen had ended.
	Cause string `json:"cause"`
	// Result is the end marker's CI/CD result (success, failure, ...);
	// none with "quiet".
	Result string `json:"result,omitempty"`
	// After resumes after the last entry sent.
	After string `json:"after"`
}

func appendEvent(b []byte, name string, v any) ([]byte, error) {
	j, err := jsonMarshal(v)
	if err != nil {
		return b, err
	}
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	b = append(b, j...)
	return append(b, "\n\n"...), nil
}

func errKind(err error) string {
	_, k := errStatus(err)
	return k
}
