package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/serve"
)

const hostile = "\x1b]0;pwned\x07\x1b[2J<script>alert(1)</script>&\"'\\ line one\r\nline two\u202eevil\u2028sep\u0085c1 \xff\xfe end"

func hostileStore(t *testing.T) (*httptest.Server, runlog.Fetcher) {
	t.Helper()
	s := newStore(t)
	writeStep(t, s, "run-1", "st</script>\x1b[31m", []string{hostile, "warn plain", "info <b>bold</b>"},
		slog.String("k\"=x y", "v\"\x1b[0m\n</script>"), slog.String("ok", "fine"))
	srv := httptest.NewServer(serve.New(s, serve.Options{}))
	t.Cleanup(srv.Close)
	return srv, s
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return m
}

// TestHostileJSON: hostile messages, ids and attributes come back exact
// in JSON, as encoding/json renders the entries Fetch returns, with no
// raw markup or control character in the answer.
func TestHostileJSON(t *testing.T) {
	srv, f := hostileStore(t)
	want, err := f.Fetch(t.Context(), runlog.Query{RunID: "run-1"})
	if err != nil || len(want.Entries) != 3 {
		t.Fatalf("fetch: %v, %d entries", err, len(want.Entries))
	}
	resp, b := get(t, srv, "/api/v1/runs/run-1/logs")
	for _, bad := range []string{"<", ">", "\x1b", "\u202e", "\u2028", "\u0085"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("the answer holds %q raw:\n%s", bad, b)
		}
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var p struct{ Items []json.RawMessage }
	json.Unmarshal(b, &p)
	for i, raw := range p.Items {
		exp, _ := json.Marshal(&want.Entries[i])
		var got, w any
		json.Unmarshal(raw, &got)
		json.Unmarshal(exp, &w)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("entry %d:\n got %s\nwant %s", i, raw, exp)
		}
		if err := serve.Validate("LogEntry", got); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	if got := want.Entries[0].Message; !strings.Contains(got, "<script>") || !strings.Contains(got, "\x1b]0;") {
		t.Fatalf("the store did not keep the hostile message: %q", got)
	}
}

// TestHostileText: the text download escapes every control, bidi
// character and separator, keeps markup as text, and continues a
// multi-line message on marked lines.
func TestHostileText(t *testing.T) {
	srv, _ := hostileStore(t)
	resp, b := get(t, srv, "/api/v1/runs/run-1/logs/download")
	if resp.StatusCode != 200 {
		t.Fatalf("%s\n%s", resp.Status, b)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="run-1.log"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	text := string(b)
	for i, r := range text {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x2028 {
			t.Fatalf("byte %d: %U unescaped in\n%s", i, r, text)
		}
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines; want 4 (3 entries, one of two lines):\n%s", len(lines), text)
	}
	if want := `INFO  [st</script>\x1b[31m] \x1b]0;pwned\x07\x1b[2J<script>alert(1)</script>&"'\ line one`; !strings.HasSuffix(lines[0], want) {
		t.Errorf("first line:\n got %s\nwant ...%s", lines[0], want)
	}
	if want := ` "k\"=x y"="v\"\x1b[0m\n</script>" ok="fine"`; !strings.HasSuffix(lines[1], want) {
		t.Errorf("attributes, after the message's last line:\n got %s\nwant ...%s", lines[1], want)
	}
	if want := `    │ line two\u202eevil\u2028sep\u0085c1 ` + "\ufffd"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("continuation line:\n got %s\nwant %s...", lines[1], want)
	}
	if !strings.Contains(lines[2], "WARN  [") {
		t.Errorf("level column: %s", lines[2])
	}
}

// TestDownload: jsonl is one entry per line; level and search apply only
// when given; an empty selection is a typed 404; the file name is safe.
func TestDownload(t *testing.T) {
	srv, _ := hostileStore(t)
	resp, b := get(t, srv, "/api/v1/runs/run-1/logs/download?format=jsonl&step="+url.QueryEscape("st</script>\x1b[31m"))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("%s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="run-1-st__script___31m.jsonl"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("%d lines; want 3", n)
	}
	_, b = get(t, srv, "/api/v1/runs/run-1/logs/download?format=jsonl&level=warn")
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Errorf("level=warn: %d lines; want 1", n)
	}
	for path, want := range map[string]string{
		"/api/v1/runs/nope/logs/download":                    "the store has nothing for run",
		"/api/v1/runs/run-1/logs/download?search=absent":     "match these filters",
		"/api/v1/runs/run-1/logs/download?format=html":       "format",
		"/api/v1/runs/run-1/logs/download?since=yesterday":   "since",
		"/api/v1/runs/run-1/logs/download?level=loud":        "level",
		"/api/v1/runs/run-1/logs/download?attempt=-1":        "attempt",
		"/api/v1/runs/run-1/logs/download?since=1h&until=2h": "Start",
	} {
		resp, b := get(t, srv, path)
		e := decode(t, b)
		if resp.StatusCode/100 != 4 || !strings.Contains(fmt.Sprint(e["error"]), want) {
			t.Errorf("%s: %s %s; want a 4xx saying %q", path, resp.Status, b, want)
		}
		if err := serve.Validate("Error", e); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestErrors: typed errors as JSON with their status.
func TestErrors(t *testing.T) {
	srv, f := hostileStore(t)
	for _, c := range []struct {
		method, path string
		status       int
		kind         string
	}{
		{"GET", "/api/v1/runs/run-1/logs?limit=x", 400, "invalid"},
		{"GET", "/api/v1/runs/run-1/logs?after=garbage", 400, "invalid"},
		{"GET", "/api/v1/runs/run-1/logs?after=a&before=b", 400, "invalid"},
		{"GET", "/api/v1/runs/run-1/logs?level=nope", 400, "invalid"},
		{"GET", "/api/v1/runs/nope/steps", 404, "not_found"},
		{"GET", "/api/v1/runs/run-1/steps?step=absent", 404, "not_found"},
		{"GET", "/api/v1/nothing", 404, "not_found"},
		{"POST", "/api/v1/runs/run-1/logs", 405, "invalid"},
		{"DELETE", "/api/v1/runs/run-1", 403, "forbidden"},
		{"GET", "/api/v1/runs/run-1/logs?search=" + strings.Repeat("x", 9000), 414, "over_limit"},
	} {
		resp, b := do(t, srv, c.method, c.path)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %s (%s); want %d JSON", c.method, truncate(c.path), resp.Status, resp.Header.Get("Content-Type"), c.status)
			continue
		}
		e := decode(t, b)
		if k := e["error"].(map[string]any)["kind"]; k != c.kind {
			t.Errorf("%s %s: kind %v; want %s", c.method, truncate(c.path), k, c.kind)
		}
		if err := serve.Validate("Error", e); err != nil {
			t.Errorf("%s %s: %v", c.method, truncate(c.path), err)
		}
	}
	// An unknown run is an empty page, as fetch of the contract.
	p := getPage(t, srv, "/api/v1/runs/unknown/logs")
	if len(p.Items) != 0 || p.More {
		t.Errorf("unknown run: %+v", p)
	}
	// A store error maps to its kind.
	for err, want := range map[error]int{runlog.ErrUnavailable: 503, runlog.ErrUnauthorized: 502, runlog.ErrOverLimit: 429, errors.New("boom"): 500} {
		srv := httptest.NewServer(serve.New(failing{err}, serve.Options{}))
		resp, b := get(t, srv, "/api/v1/runs/r/logs")
		srv.Close()
		if resp.StatusCode != want {
			t.Errorf("%v: %s %s; want %d", err, resp.Status, b, want)
		}
	}
	// A store that can only fetch: listing and deleting runs are 501.
	only := httptest.NewServer(serve.New(fetchOnly{f}, serve.Options{AllowDelete: true}))
	defer only.Close()
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/runs"}, {"DELETE", "/api/v1/runs/run-1"}} {
		resp, b := do(t, only, c.method, c.path)
		if resp.StatusCode != 501 || decode(t, b)["error"].(map[string]any)["kind"] != "unsupported" {
			t.Errorf("%s %s on a fetch-only store: %s %s; want 501 unsupported", c.method, c.path, resp.Status, b)
		}
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

type failing struct{ err error }

func (f failing) Fetch(context.Context, runlog.Query) (runlog.Page, error) {
	return runlog.Page{}, &runlog.Error{Kind: f.err, Op: "fetch", Store: "test"}
}

// TestAuth: with a token every /api/ route needs it, the viewer page
// does not; every answer carries the security headers.
func TestAuth(t *testing.T) {
	s := newStore(t)
	writeStep(t, s, "r", "", []string{"hello"})
	srv := httptest.NewServer(serve.New(s, serve.Options{Token: "s3cret"}))
	defer srv.Close()
	for _, path := range []string{"/api/v1/runs/r/logs", "/api/v1/runs/r/steps", "/api/v1/runs", "/api/v1/openapi.json",
		"/api/v1/runs/r/logs/stream", "/api/v1/runs/r/logs/download", "/api/v1/nothing"} {
		for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0", "Bearer s3cret2"} {
			resp, b := get(t, srv, path, "Authorization", auth)
			if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || decode(t, b)["error"] == nil {
				t.Errorf("GET %s with %q: %s %s; want 401 JSON", path, auth, resp.Status, b)
			}
		}
	}
	resp, b := do(t, srv, "DELETE", "/api/v1/runs/r")
	if resp.StatusCode != 401 {
		t.Errorf("DELETE without the token: %s %s", resp.Status, b)
	}
	resp, b = do(t, srv, "DELETE", "/api/v1/runs/other", "Authorization", "Bearer s3cret")
	if resp.StatusCode != 200 || decode(t, b)["run_id"] != "other" { // the local store is a Deleter
		t.Errorf("DELETE with the token: %s %s; want 200 and the report", resp.Status, b)
	}
	resp, b = get(t, srv, "/api/v1/runs/r/logs", "Authorization", "Bearer s3cret")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "hello") {
		t.Errorf("with the token: %s %s", resp.Status, b)
	}
	resp, b = get(t, srv, "/")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<html") {
		t.Errorf("viewer page without a token: %s", resp.Status)
	}
	for _, path := range []string{"/", "/api/v1/runs/r/logs"} {
		resp, _ := get(t, srv, path)
		for h, want := range map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := resp.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("%s: %s %q; want %q", path, h, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows inline script: %s", csp)
		}
	}
}

// TestAllowedHosts: a Host that is not allowed (DNS rebinding) is refused.
func TestAllowedHosts(t *testing.T) {
	srv := httptest.NewServer(serve.New(newStore(t), serve.Options{AllowedHosts: []string{"127.0.0.1", "localhost"}}))
	defer srv.Close()
	resp, _ := get(t, srv, "/api/v1/runs/r/logs")
	if resp.StatusCode != 200 {
		t.Errorf("127.0.0.1: %s", resp.Status)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/runs/r/logs", nil)
	req.Host = "evil.example:8080"
	r2, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host evil.example: %s; want 421", r2.Status)
	}
}

// runStore adds RunLister and Deleter to a store, as other stores will.
type runStore struct {
	runlog.Fetcher
	deleted []string
}

func (r *runStore) ListRuns(context.Context, runlog.RunQuery) (runlog.RunPage, error) {
	return runlog.RunPage{Runs: []runlog.RunInfo{{RunID: "b", Last: time.Unix(2, 0).UTC(), Steps: -1, Records: -1}, {RunID: "a", First: time.Unix(0, 0).UTC(), Last: time.Unix(1, 0).UTC(), Steps: 2, Records: 10}}}, nil
}

func (r *runStore) DeleteRun(_ context.Context, run string) (runlog.DeleteReport, error) {
	r.deleted = append(r.deleted, run)
	return runlog.DeleteReport{RunID: run, Deleted: 3, Detail: "removed 3 files"}, nil
}

// TestRunsAndDelete: the run list and DELETE through a store that can.
func TestRunsAndDelete(t *testing.T) {
	rs := &runStore{Fetcher: newStore(t)}
	srv := httptest.NewServer(serve.New(rs, serve.Options{Token: "t"}))
	defer srv.Close()
	resp, b := get(t, srv, "/api/v1/runs?limit=5", "Authorization", "Bearer t")
	m := decode(t, b)
	if resp.StatusCode != 200 || len(m["items"].([]any)) != 2 {
		t.Fatalf("runs: %s %s", resp.Status, b)
	}
	if err := serve.Validate("Runs", m); err != nil {
		t.Error(err)
	}
	if first := m["items"].([]any)[0].(map[string]any); first["steps"] != nil || first["first"] != nil {
		t.Errorf("unknown counts and times are not null: %v", first)
	}
	resp, b = do(t, srv, "DELETE", "/api/v1/runs/a", "Authorization", "Bearer t")
	m = decode(t, b)
	if resp.StatusCode != 200 || m["deleted"] != 3.0 || len(rs.deleted) != 1 {
		t.Fatalf("delete: %s %s", resp.Status, b)
	}
	if err := serve.Validate("DeleteReport", m); err != nil {
		t.Error(err)
	}
	// Without a token, DELETE needs AllowDelete.
	open := httptest.NewServer(serve.New(rs, serve.Options{AllowDelete: true}))
	defer open.Close()
	if resp, b := do(t, open, "DELETE", "/api/v1/runs/a"); resp.StatusCode != 200 {
		t.Errorf("AllowDelete: %s %s", resp.Status, b)
	}
}

// TestSteps: completeness per step, a running one and a complete one,
// times of first and last records.
func TestSteps(t *testing.T) {
	s := newStore(t)
	writeStep(t, s, "r", "done", []string{"a", "b"})
	ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: "r", StepID: "live"})
	if err != nil {
		t.Fatal(err)
	}
	slog.InfoContext(ctx, "still going")
	defer s.Deactivate(ctx)
	srv := httptest.NewServer(serve.New(s, serve.Options{}))
	defer srv.Close()
	var m map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, b := get(t, srv, "/api/v1/runs/r/steps")
		m = decode(t, b)
		if resp.StatusCode == 200 && len(m["steps"].([]any)) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("steps: %s %s", resp.Status, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := serve.Validate("Steps", m); err != nil {
		t.Fatal(err)
	}
	steps := m["steps"].([]any)
	done, live := steps[0].(map[string]any), steps[1].(map[string]any)
	if done["step_id"] != "done" || done["status"] != "complete" || done["records"] != 2.0 || done["first"] == nil {
		t.Errorf("done: %v", done)
	}
	if a := done["activations"].([]any)[0].(map[string]any); a["cause"] != "ok" || a["result"] != "success" || a["ended"] != true {
		t.Errorf("done's activation: %v", a)
	}
	if live["step_id"] != "live" || live["status"] != "running" {
		t.Errorf("live: %v", live)
	}
}

// TestStream: a running step's new lines arrive as events, each id a
// cursor that resumes after it, then the end event at its end marker.
func TestStream(t *testing.T) {
	s := newStore(t)
	srv := httptest.NewServer(serve.New(s, serve.Options{Poll: 50 * time.Millisecond, Heartbeat: 200 * time.Millisecond}))
	defer srv.Close()
	ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: "r", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", srv.URL+"/api/v1/runs/r/logs/stream?step=s", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan [3]string, 100) // event, id, data
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev [3]string
		for sc.Scan() {
			l := sc.Text()
			switch {
			case l == "":
				if ev[2] != "" || ev[0] != "" {
					events <- ev
				}
				ev = [3]string{}
			case strings.HasPrefix(l, ": "):
				events <- [3]string{"heartbeat"}
			case strings.HasPrefix(l, "event: "):
				ev[0] = l[7:]
			case strings.HasPrefix(l, "id: "):
				ev[1] = l[4:]
			case strings.HasPrefix(l, "data: "):
				ev[2] = l[6:]
			}
		}
	}()
	const n = 30
	var ids []string
	var heartbeats int
	next := func() [3]string {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended early")
			}
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event in 20 s")
		}
		return [3]string{}
	}
	for i := range n {
		slog.InfoContext(ctx, fmt.Sprintf("line %d", i))
		if i == n/2 {
			time.Sleep(400 * time.Millisecond) // idle: a heartbeat
		}
	}
	for len(ids) < n {
		ev := next()
		if ev[0] == "heartbeat" {
			heartbeats++
			continue
		}
		var e map[string]any
		json.Unmarshal([]byte(ev[2]), &e)
		if ev[0] != "" || e["message"] != fmt.Sprintf("line %d", len(ids)) || ev[1] == "" {
			t.Fatalf("event %d: %q", len(ids), ev)
		}
		ids = append(ids, ev[1])
	}
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		ev := next()
		if ev[0] == "heartbeat" {
			heartbeats++
			continue
		}
		if ev[0] != "end" {
			t.Fatalf("after the last line: %q; want the end event", ev)
		}
		var end map[string]any
		json.Unmarshal([]byte(ev[2]), &end)
		if end["cause"] != "ok" || end["result"] != "success" || end["step_id"] != "s" {
			t.Errorf("end: %s", ev[2])
		}
		if err := serve.Validate("EndEvent", end); err != nil {
			t.Error(err)
		}
		break
	}
	if _, ok := <-events; ok {
		t.Error("the stream goes on after its end event")
	}
	if heartbeats == 0 {
		t.Error("no heartbeat while idle")
	}
	// An id resumes right after its event, as a page's after does.
	p := getPage(t, srv, "/api/v1/runs/r/logs?step=s&limit=3&after="+url.QueryEscape(ids[9]))
	if len(p.Items) != 3 || p.Items[0]["message"] != "line 10" {
		t.Errorf("after the 10th event's id: %v", p.Items)
	}
	// Last-Event-ID resumes a stream; the step has ended: the rest, then end.
	req, _ = http.NewRequestWithContext(sctx, "GET", srv.URL+"/api/v1/runs/r/logs/stream?step=s", nil)
	req.Header.Set("Last-Event-ID", ids[n-3])
	resp2, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	bufio.NewReader(resp2.Body).WriteTo(b)
	resp2.Body.Close()
	if c := strings.Count(b.String(), "\ndata: {\"message\""); c != 2 || !strings.Contains(b.String(), "event: end") {
		t.Errorf("resumed stream: %d entries; want 2, then end:\n%s", c, b)
	}
}

// fetchOnly hides every method of a store but Fetch.
type fetchOnly struct{ f runlog.Fetcher }

func (o fetchOnly) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	return o.f.Fetch(ctx, q)
}

// onePage is a Fetcher whose every fetch answers its one page.
type onePage runlog.Page

func (p onePage) Fetch(context.Context, runlog.Query) (runlog.Page, error) {
	return runlog.Page(p), nil
}

// TestStepsForeign: a step of records another program wrote (no sequence
// numbers) is listed, not accounted, with its records and times; a step
// holding such records beside a complete activation is not accounted
// either: nothing says they are all there.
func TestStepsForeign(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ours := func(step, activation string, seq uint64, s int) runlog.LogEntry {
		return runlog.LogEntry{RunID: "r", StepID: step, Source: "step", ActivationID: activation, Sequence: seq, Time: t0.Add(time.Duration(s) * time.Second)}
	}
	theirs := func(step string, s int) runlog.LogEntry {
		return runlog.LogEntry{RunID: "r", StepID: step, Time: t0.Add(time.Duration(s) * time.Second)}
	}
	page := onePage{
		Entries: []runlog.LogEntry{
			ours("build", "a1", 1, 1), ours("build", "a1", 2, 2),
			theirs("js", 3), theirs("js", 4), theirs("js", 5),
			ours("mixed", "a2", 1, 6), theirs("mixed", 7),
		},
		Ends: []runlog.End{
			{RunID: "r", StepID: "build", Source: "step", ActivationID: "a1", Last: 2, Cause: "ok"},
			{RunID: "r", StepID: "mixed", Source: "step", ActivationID: "a2", Last: 1, Cause: "ok"},
		},
	}
	srv := httptest.NewServer(serve.New(page, serve.Options{}))
	defer srv.Close()
	resp, b := get(t, srv, "/api/v1/runs/r/steps")
	if resp.StatusCode != 200 {
		t.Fatalf("steps: %s %s", resp.Status, b)
	}
	m := decode(t, b)
	if err := serve.Validate("Steps", m); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, s := range m["steps"].([]any) {
		st := s.(map[string]any)
		got[st["step_id"].(string)] = st
	}
	if st := got["build"]; st == nil || st["status"] != "complete" || st["records"] != 2.0 {
		t.Errorf("build: %v; want complete, 2 records", st)
	}
	js := got["js"]
	if js == nil || js["status"] != "not accounted" || js["records"] != 3.0 || js["missing"] != 0.0 {
		t.Fatalf("js: %v; want not accounted, 3 records, none missing", js)
	}
	if js["first"] != t0.Add(3*time.Second).Format(time.RFC3339) || js["last"] != t0.Add(5*time.Second).Format(time.RFC3339) {
		t.Errorf("js: first %v, last %v; want the times of its first and last records", js["first"], js["last"])
	}
	if st := got["mixed"]; st == nil || st["status"] != "not accounted" || st["records"] != 2.0 {
		t.Errorf("mixed: %v; want not accounted (a complete activation and a foreign record), 2 records", st)
	}
}
