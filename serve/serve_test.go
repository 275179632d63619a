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
	writeStep(t, s, "big", "b", lines(n-1000, "b %04d"))
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
	for _, limit := range []int{1, 7, 1000} {
		if testing.Short() && limit == 1 {
			continue
		}
		var got []string
		cur := ""
		for pages := 0; ; pages++ {
			p := getPage(t, srv, fmt.Sprintf("/api/v1/runs/big/logs?limit=%d&after=%s", limit, url.QueryEscape(cur)))
			if len(p.Items) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Items))
			}
			for _, it := range p.Items {
				got = append(got, it["id"].(string)+"/"+it["message"].(string))
			}
			cur = p.After
			if !p.More {
				break
			}
			if pages > n+2 {
				t.Fatal("paging does not end")
			}
		}
		assertSame(t, fmt.Sprintf("forward, limit %d", limit), got, want)

		// Backward from the end, then forward again from the first page's before...
		got = nil
		cur = ""
		for pages := 0; ; pages++ {
			p := getPage(t, srv, fmt.Sprintf("/api/v1/runs/big/logs?limit=%d&before=%s", limit, url.QueryEscape(cur)))
			var chunk []string
			for _, it := range p.Items {
				chunk = append(chunk, it["id"].(string)+"/"+it["message"].(string))
			}
			got = append(chunk, got...)
			cur = p.Before
			if !p.More {
				break
			}
			if pages > n+2 {
				t.Fatal("paging does not end")
			}
		}
		assertSame(t, fmt.Sprintf("backward, limit %d", limit), got, want)
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
