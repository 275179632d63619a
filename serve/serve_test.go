package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/serve"
)

// newStore returns a local store in a fresh directory.
func newStore(t testing.TB) *otelstore.Store {
	t.Helper()
	s, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{Console: slog.DiscardHandler, ExportInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeStep logs msgs (each at the level its prefix says, else INFO) as
// one activation of run/step, with the attributes given, and ends it.
func writeStep(t testing.TB, s *otelstore.Store, run, step string, msgs []string, attrs ...any) {
	t.Helper()
	ctx, err := s.Activate(context.Background(), runlog.Scope{RunID: run, StepID: step})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		lvl := slog.LevelInfo
		if strings.HasPrefix(m, "warn") {
			lvl = slog.LevelWarn
		}
		slog.Log(ctx, lvl, m, attrs...)
	}
	if err := s.Deactivate(ctx); err != nil {
		t.Fatal(err)
	}
}

type page struct {
	Items  []map[string]any `json:"items"`
	After  string           `json:"after"`
	Before string           `json:"before"`
	More   bool             `json:"more"`
}

func get(t testing.TB, srv *httptest.Server, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, srv, "GET", path, hdr...)
}

func do(t testing.TB, srv *httptest.Server, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func getPage(t testing.TB, srv *httptest.Server, path string) page {
	t.Helper()
	resp, b := get(t, srv, path)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
	return p
}

func lines(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// TestPaging: every entry exactly once, in order, forward with after and
// backward with before, at page sizes around the boundaries.
func TestPaging(t *testing.T) {
	s := newStore(t)
	const n = 2500
	writeStep(t, s, "big", "a", lines(1000, "a %04d"))
	writeStep(t, s, "big", "b", lines(n-1300, "b %04d"))
	writeStep(t, s, "big", "c", lines(300, "c %04d"))
	srv := httptest.NewServer(serve.New(s, serve.Options{}))
	defer srv.Close()

	all := getPage(t, srv, "/api/v1/runs/big/logs")
	if len(all.Items) != n || all.More {
		t.Fatalf("one page of the default limit: %d items, more %v; want %d, false", len(all.Items), all.More, n)
	}
	want := make([]string, n)
	for i, it := range all.Items {
		want[i] = it["id"].(string) + "/" + it["message"].(string)
	}
	// Limit 1 reads the store once per entry (2 x 2,500 requests, most of
	// this test's time): under -short it is left out, under -race it walks
	// a step of 300 entries (the same page boundaries, fewer of them).
	type walk struct {
		limit int
		query string
		want  []string
	}
	var walks []walk
	if !testing.Short() {
		if raceEnabled {
			walks = append(walks, walk{1, "&step=c", nil})
		} else {
			walks = append(walks, walk{1, "", want})
		}
	}
	walks = append(walks, walk{7, "", want}, walk{1000, "", want})
	for _, w := range walks {
		limit := w.limit
		if w.want == nil {
			w.want = ids(getPage(t, srv, "/api/v1/runs/big/logs?limit=100000"+w.query).Items)
		}
		t0 := time.Now()
		var got []string
		cur := ""
		for pages := 0; ; pages++ {
			p := getPage(t, srv, fmt.Sprintf("/api/v1/runs/big/logs?limit=%d&after=%s%s", limit, url.QueryEscape(cur), w.query))
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			got = append(got, ids(p.Items)...)
			cur = p.After
			if !p.More {
				break
			}
			if pages > n+2 {
				t.Fatal("paging does not end")
			}
		}
		assertSame(t, fmt.Sprintf("forward, limit %d", limit), got, w.want)
		t.Logf("limit %d: %d entries forward in %s", limit, len(got), time.Since(t0))

		// Backward from the newest page (before= empty) to the start.
		t0 = time.Now()
		got = nil
		cur = ""
		for pages := 0; ; pages++ {
			p := getPage(t, srv, fmt.Sprintf("/api/v1/runs/big/logs?limit=%d&before=%s%s", limit, url.QueryEscape(cur), w.query))
			got = append(ids(p.Items), got...)
			cur = p.Before
			if !p.More {
				break
			}
			if pages > n+2 {
				t.Fatal("paging does not end")
			}
		}
		assertSame(t, fmt.Sprintf("backward, limit %d", limit), got, w.want)
		t.Logf("limit %d: %d entries backward in %s", limit, len(got), time.Since(t0))
	}

	// Turning around: the before of a forward page, the after of a backward one.
	p1 := getPage(t, srv, "/api/v1/runs/big/logs?limit=10")
	p2 := getPage(t, srv, "/api/v1/runs/big/logs?limit=10&after="+url.QueryEscape(p1.After))
	back := getPage(t, srv, "/api/v1/runs/big/logs?limit=10&before="+url.QueryEscape(p2.Before))
	assertSame(t, "before of the second page", ids(back.Items), ids(p1.Items))
	if back.More {
		t.Error("nothing precedes the first page, yet more is true")
	}
	fwd := getPage(t, srv, "/api/v1/runs/big/logs?limit=10&after="+url.QueryEscape(back.After))
	assertSame(t, "after of a backward page", ids(fwd.Items), ids(p2.Items))
}

func ids(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it["id"].(string) + "/" + it["message"].(string)
	}
	return out
}

func assertSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries; want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: entry %d is %q; want %q", what, i, got[i], want[i])
		}
	}
}

// TestCrossCursors: a before cursor given as after (and the other way
// round) resumes at the same position.
func TestCrossCursors(t *testing.T) {
	s := newStore(t)
	writeStep(t, s, "r", "", lines(30, "m %02d"))
	srv := httptest.NewServer(serve.New(s, serve.Options{}))
	defer srv.Close()
	p := getPage(t, srv, "/api/v1/runs/r/logs?limit=10&after=")
	p = getPage(t, srv, "/api/v1/runs/r/logs?limit=10&after="+url.QueryEscape(p.After)) // m 10..19
	next := getPage(t, srv, "/api/v1/runs/r/logs?limit=5&after="+url.QueryEscape(p.Before))
	if len(next.Items) != 5 || next.Items[0]["message"] != "m 10" {
		t.Errorf("a before cursor as after: %v", ids(next.Items))
	}
	prev := getPage(t, srv, "/api/v1/runs/r/logs?limit=5&before="+url.QueryEscape(p.After))
	if len(prev.Items) != 5 || prev.Items[4]["message"] != "m 19" {
		t.Errorf("an after cursor as before: %v", ids(prev.Items))
	}
	empty := getPage(t, srv, "/api/v1/runs/r/logs?after="+url.QueryEscape(getPage(t, srv, "/api/v1/runs/r/logs").After))
	if len(empty.Items) != 0 || empty.More || empty.Before == "" {
		t.Fatalf("past the end: %+v", empty)
	}
	last := getPage(t, srv, "/api/v1/runs/r/logs?limit=3&before="+url.QueryEscape(empty.Before))
	if len(last.Items) != 3 || last.Items[2]["message"] != "m 29" {
		t.Errorf("before of an empty page at the end: %v", ids(last.Items))
	}
}
