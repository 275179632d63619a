package loki

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

// The answers below are recorded in the shapes Loki 3.x documents:
// query_range of a metric query answers a matrix (values are
// [seconds, "count"]); POST /loki/api/v1/delete answers 204 with no body,
// and 403 "deletion is not available for this tenant" when the tenant's
// deletion_mode is disabled.

const runsMatrix = `{"status":"success","data":{"resultType":"matrix","result":[
{"metric":{"cicd_pipeline_run_id":"old"},"values":[[1767222000,"2"],[1767225600,"1"]]},
{"metric":{"cicd_pipeline_run_id":"old","cicd_pipeline_task_run_id":"train"},"values":[[1767225600,"5"]]},
{"metric":{"cicd_pipeline_run_id":"new \"quoted\""},"values":[[1767312000,"3"]]},
{"metric":{"cicd_pipeline_run_id":"mid"},"values":[[1767268800,"4"]]},
{"metric":{"cicd_pipeline_run_id":"zero"},"values":[[1767268800,"0"]]}
],"stats":{}}}`

func lifecycleClient(t *testing.T, h http.HandlerFunc, cfg Config) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := now
	now = func() time.Time { return time.Unix(1767312000, 0).Add(30 * time.Minute) }
	t.Cleanup(func() { now = old })
	return c
}

func TestListRuns(t *testing.T) {
	var queries []string
	c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/loki/api/v1/query_range" || r.Header.Get("X-Scope-OrgID") != "team" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
			return
		}
		queries = append(queries, r.URL.Query().Get("query"))
		if r.URL.Query().Get("step") != "1h" {
			http.Error(w, "step", http.StatusBadRequest)
			return
		}
		io.WriteString(w, runsMatrix)
	}, Config{TenantID: "team"})
	var got []string
	var cur runlog.Cursor
	for range 4 {
		p, err := c.ListRuns(t.Context(), runlog.RunQuery{Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Runs {
			got = append(got, r.RunID)
			if r.RunID == "old" {
				if r.Steps != 2 || r.Records != 8 || !r.First.Equal(time.Unix(1767222000-3600, 0)) || !r.Last.Equal(time.Unix(1767225600, 0)) {
					t.Errorf("old = %+v; want 2 steps, 8 records, first and last hour", r)
				}
			}
		}
		if !p.More {
			break
		}
		cur = p.Next
	}
	if want := []string{`new "quoted"`, "mid", "old"}; !slices.Equal(got, want) {
		t.Fatalf("runs = %q; want %q (the run with no records left out)", got, want)
	}
	want := `sum by (cicd_pipeline_run_id, cicd_pipeline_task_run_id) (count_over_time({service_name=~".+"} | cicd_pipeline_run_id != "" | runlog_end != "true" [1h]))`
	if queries[0] != want {
		t.Fatalf("query\n%s\nwant\n%s", queries[0], want)
	}
	p, err := c.ListRuns(t.Context(), runlog.RunQuery{Before: time.Unix(1767268800, 0)})
	if err != nil || len(p.Runs) != 1 || p.Runs[0].RunID != "old" {
		t.Fatalf("ListRuns before mid's last = %+v, %v; want old only", p.Runs, err)
	}
}

func TestListRunsIndexLabel(t *testing.T) {
	var query string
	c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query().Get("query")
		io.WriteString(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	}, Config{IndexLabels: []string{"cicd.pipeline.run.id"}})
	if p, err := c.ListRuns(t.Context(), runlog.RunQuery{}); err != nil || len(p.Runs) != 0 {
		t.Fatalf("ListRuns = %+v, %v", p, err)
	}
	if !strings.Contains(query, `(count_over_time({cicd_pipeline_run_id=~".+"} |`) {
		t.Fatalf("query %s does not select on the index label", query)
	}
}

func TestListRunsTooManySeries(t *testing.T) {
	c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maximum of series (500) reached for a single query", http.StatusBadRequest)
	}, Config{})
	_, err := c.ListRuns(t.Context(), runlog.RunQuery{})
	if !errors.Is(err, runlog.ErrOverLimit) {
		t.Fatalf("ListRuns past max_query_series: %v; want ErrOverLimit", err)
	}
}

func TestDeleteRun(t *testing.T) {
	var got *http.Request
	c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		if r.Method != http.MethodPost || r.URL.Path != "/loki/api/v1/delete" {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}, Config{TenantID: "team", BearerToken: "tok"})
	run := `r"} |= "" or {x=~".+`
	rep, err := c.DeleteRun(t.Context(), run)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Queued || rep.Deleted != -1 || rep.RunID != run {
		t.Fatalf("DeleteRun = %+v; want queued", rep)
	}
	q := got.URL.Query()
	if want := `{service_name=~".+"} | cicd_pipeline_run_id=` + strconv.Quote(run); q.Get("query") != want {
		t.Fatalf("delete query %s; want %s", q.Get("query"), want)
	}
	start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
	if end-start < int64(30*24*time.Hour/time.Second) || end < now().Unix() {
		t.Fatalf("delete span %d..%d; want the 30-day lookback up to now", start, end)
	}
	if got.Header.Get("X-Scope-OrgID") != "team" || got.Header.Get("Authorization") != "Bearer tok" {
		t.Fatalf("headers %v; want the tenant and the token", got.Header)
	}
}

func TestDeleteRunDisabled(t *testing.T) {
	for _, tc := range []struct {
		code int
		body string
	}{
		{http.StatusForbidden, "deletion is not available for this tenant"},
		{http.StatusNotFound, "404 page not found"}, // no compactor API at this URL
	} {
		c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, tc.body, tc.code)
		}, Config{})
		_, err := c.DeleteRun(t.Context(), "r")
		var re *runlog.Error
		if !errors.Is(err, runlog.ErrInvalid) || !errors.As(err, &re) || !strings.Contains(re.Hint, "deletion_mode") || re.Op != "delete" {
			t.Errorf("HTTP %d %q: %v; want ErrInvalid with how to turn deletion on", tc.code, tc.body, err)
		}
	}
	c := lifecycleClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}, Config{})
	if _, err := c.DeleteRun(t.Context(), "r"); !errors.Is(err, runlog.ErrUnauthorized) {
		t.Errorf("401: %v; want ErrUnauthorized", err)
	}
}
