package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

// fakeLoki answers query_range as Loki does for runlog's queries over a
// fixed set of records: log queries (entries, or end markers when the query
// asks for runlog_end = "true") cut at limit in the asked direction and
// returned as several streams, and count_over_time metric queries.
type fakeLoki struct {
	entries, markers []fakeRecord
	mu               sync.Mutex
	queries          []string // every query asked, in order
}

// fakeRecord is one stored record; a foreign one (another writer's) has
// no runlog sequence or uid, only its meta.
type fakeRecord struct {
	ts      int64
	seq     int
	uid     string
	meta    map[string]string
	foreign bool
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
	query := q.Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, query)
	f.mu.Unlock()
	if strings.HasPrefix(query, "sum(count_over_time(") {
		step, _ := time.ParseDuration(q.Get("step"))
		var vals [][2]any
		for t := start; t <= end; t += int64(step) {
			n := 0
			for _, e := range f.entries {
				if e.ts >= t-int64(step) && e.ts < t {
					n++
				}
			}
			vals = append(vals, [2]any{float64(t) / 1e9, strconv.Itoa(n)})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"result": []any{map[string]any{"values": vals}}}})
		return
	}
	recs := f.entries
	if strings.Contains(query, `runlog_end = "true"`) {
		recs = f.markers
	}
	var in []fakeRecord
	for _, e := range recs {
		if e.ts >= start && e.ts < end {
			in = append(in, e)
		}
	}
	backward := q.Get("direction") == "backward"
	slices.SortStableFunc(in, func(a, b fakeRecord) int {
		if backward {
			return int(b.ts - a.ts)
		}
		return int(a.ts - b.ts)
	})
	limit, _ := strconv.Atoi(q.Get("limit"))
	in = in[:min(limit, len(in))]
	// Two streams, by sequence parity, each in the asked order.
	streams := [2][]any{}
	for _, e := range in {
		meta := map[string]string{"runlog_sequence": strconv.Itoa(e.seq), "log_record_uid": e.uid, "cicd_pipeline_run_id": "run"}
		if e.foreign {
			meta = map[string]string{}
		}
		for k, v := range e.meta {
			meta[k] = v
		}
		streams[e.seq%2] = append(streams[e.seq%2], []any{strconv.FormatInt(e.ts, 10), "line " + e.uid, map[string]any{"structuredMetadata": meta}})
	}
	result := []any{}
	for _, s := range streams {
		if len(s) > 0 {
			result = append(result, map[string]any{"stream": map[string]string{"service_name": "runlog"}, "values": s})
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "streams", "result": result}})
}

// newFakeLoki holds n entries an hour old, in runs of up to 3 sharing a
// timestamp, and one end marker after them.
func newFakeLoki(n int) *fakeLoki {
	f := &fakeLoki{}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second).UnixNano()
	ts := t0
	for i := range n {
		if i%3 != 1 || i%7 == 0 {
			ts += int64(time.Duration(1+i%5) * time.Millisecond)
		}
		f.entries = append(f.entries, fakeRecord{ts: ts, seq: i, uid: fmt.Sprintf("u%04d", i)})
	}
	f.markers = []fakeRecord{{ts: ts + int64(time.Millisecond), seq: n, uid: "end", meta: map[string]string{
		"runlog_end": "true", "runlog_end_count": strconv.Itoa(n), "runlog_activation_id": "a1"}}}
	return f
}

// TestFetchPages pages through a fake Loki, forward and backward, with
// pages that fit one query and pages that need windows past MaxEntries:
// every entry comes once, in order, and the last page carries the end
// marker.
func TestFetchPages(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name       string
		limit      int
		maxEntries int
		dir        runlog.Direction
		timed      bool
	}{
		{"small pages forward", 10, 5000, runlog.Forward, false},
		{"small pages backward", 10, 5000, runlog.Backward, false},
		{"windows forward", 40, 7, runlog.Forward, false},
		{"windows backward", 40, 7, runlog.Backward, true},
		{"one page", 1000, 5000, runlog.Forward, true},
		{"one windowed page", 1000, 16, runlog.Backward, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLoki(n)
			srv := httptest.NewServer(f)
			defer srv.Close()
			c, err := New(Config{URL: srv.URL, MaxEntries: tc.maxEntries, Parallelism: 2})
			if err != nil {
				t.Fatal(err)
			}
			q := runlog.Query{RunID: "run", Limit: tc.limit, Direction: tc.dir}
			if tc.timed {
				q.Start = time.Unix(0, f.entries[0].ts)
				q.End = time.Unix(0, f.markers[0].ts+1)
			}
			var got []string
			var ends []runlog.End
			for page := 0; ; page++ {
				if page > 2*n {
					t.Fatal("paging does not end")
				}
				p, err := c.Fetch(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Entries) > tc.limit {
					t.Fatalf("page of %d entries; limit %d", len(p.Entries), tc.limit)
				}
				for _, e := range p.Entries {
					got = append(got, e.ID)
				}
				if p.More && len(p.Ends) > 0 {
					t.Errorf("page %d: ends %v on a page with more to come", page, p.Ends)
				}
				ends = append(ends, p.Ends...)
				if !p.More {
					break
				}
				q.Cursor = p.Next
			}
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprintf("u%04d", i)
			}
			if tc.dir == runlog.Backward {
				slices.Reverse(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("read %d entries\n%v\nwant %d\n%v", len(got), got, len(want), want)
			}
			if len(ends) != 1 || ends[0].ActivationID != "a1" || ends[0].Count != n {
				t.Errorf("ends = %+v; want the one marker of a1, count %d", ends, n)
			}
		})
	}
}

// TestFetchForeign: a run whose records come from other writers under
// other services, carrying the run and step as structured metadata
// (record attributes, no runlog sequence or uid), two at one time: Fetch
// asks for every service, returns each record once with its run, step and
// a content id, also one entry per page.
func TestFetchForeign(t *testing.T) {
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second).UnixNano()
	rec := func(ts int64, service, msg string) fakeRecord {
		return fakeRecord{ts: ts, seq: len(msg), uid: msg, foreign: true, meta: map[string]string{
			"cicd_pipeline_run_id": "run", "cicd_pipeline_task_run_id": "render", "service_name": service, "customer": msg}}
	}
	f := &fakeLoki{entries: []fakeRecord{rec(t0, "node-step", "a"), rec(t0+1e6, "billing", "bb"), rec(t0+1e6, "node-step", "ccc")}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newTestClient(t, Config{URL: srv.URL})
	for _, limit := range []int{0, 1} {
		var got []runlog.LogEntry
		for e, err := range runlog.All(t.Context(), c, runlog.Query{RunID: "run", Limit: limit}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		if len(got) != 3 {
			t.Fatalf("limit %d: %d entries %+v; want 3", limit, len(got), got)
		}
		ids := map[string]bool{}
		for _, e := range got {
			if e.RunID != "run" || e.StepID != "render" || e.Sequence != 0 || e.ID == "" || ids[e.ID] {
				t.Errorf("entry %+v: want run, step render, a distinct content id", e)
			}
			ids[e.ID] = true
		}
		if got[0].Attributes["customer"] != "a" {
			t.Errorf("first entry %+v", got[0])
		}
	}
	for _, q := range f.queries {
		if strings.Contains(q, `service_name="runlog"`) || !strings.Contains(q, `{service_name=~".+"}`) {
			t.Fatalf("query %s: want every service selected", q)
		}
	}
}
