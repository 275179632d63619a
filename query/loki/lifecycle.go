package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/query/internal/pagination"
	"github.com/runlog/runlog/resource"
)

var (
	_ runlog.RunLister = (*Client)(nil)
	_ runlog.Deleter   = (*Client)(nil)
)

// runStep is the resolution of ListRuns' times: Loki counts records per
// step, so a run's first and last times are known to within it.
const (
	runStep     = time.Hour
	runStepText = "1h"
)

// now is the clock of ListRuns and DeleteRun; tests set it.
var now = time.Now

// runsLogQL is the metric query of ListRuns: records per run and step,
// end markers left out, per runStep.
func (c *Client) runsLogQL() string {
	run, step := resource.Loki(c.conv.RunID), resource.Loki(c.conv.StepID)
	indexed := c.index[c.conv.RunID]
	var m []string
	if sm := c.serviceMatcher(indexed); sm != "" {
		m = append(m, sm)
	}
	if indexed {
		m = append(m, run+`=~".+"`)
	}
	sel := "{" + strings.Join(m, ", ") + "}"
	return "sum by (" + run + ", " + step + ") (count_over_time(" + sel + " | " + run + ` != "" | ` +
		resource.Loki(resource.End) + ` != "true" [` + runStepText + "]))"
}

type runCursor struct {
	Last int64  `json:"l"`
	Run  string `json:"r"`
}

// ListRuns lists the runs Loki holds within MaxLookback (30 days by
// default), newest first. See runlog.RunLister.
//
// It is one metric query_range over the lookback, counting records per
// run and step each hour: Loki reads every record of the service in that
// span (the run id is structured metadata unless it is an index label),
// which makes it the costliest call of this client; First and Last are
// known to the hour (the end of the first and last hours with records),
// Steps and Records exactly. Every run of the span is held in memory and
// the page cut from it; Loki's max_query_series (500 by default) bounds
// the runs times steps one call can count: past it, ListRuns fails with
// ErrOverLimit.
func (c *Client) ListRuns(ctx context.Context, q runlog.RunQuery) (runlog.RunPage, error) {
	var cur *runCursor
	if q.Cursor != "" {
		cur = new(runCursor)
		if err := pagination.Decode(q.Cursor, cur); err != nil {
			return runlog.RunPage{}, err
		}
	}
	end := now().Truncate(runStep).Add(runStep)
	start := end.Add(-c.cfg.MaxLookback)
	params := url.Values{
		"query": {c.runsLogQL()},
		"start": {strconv.FormatInt(start.UnixNano(), 10)},
		"end":   {strconv.FormatInt(end.UnixNano(), 10)},
		"step":  {runStepText},
	}
	body, err := c.get(ctx, "/loki/api/v1/query_range", params)
	var re *runlog.Error
	if errors.As(err, &re) && strings.Contains(re.Err.Error(), "maximum of series") {
		re.Kind = runlog.ErrOverLimit
		re.Hint = "more runs and steps in the lookback than Loki's max_query_series; raise it for this tenant, or shorten the client's MaxLookback"
	}
	if err != nil {
		return runlog.RunPage{}, opError(err, "list runs")
	}
	var ans struct {
		Data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return runlog.RunPage{}, opError(c.decodeError(err), "list runs")
	}
	byRun := map[string]*runlog.RunInfo{}
	for _, series := range ans.Data.Result {
		id := series.Metric[resource.Loki(c.conv.RunID)]
		if id == "" {
			continue
		}
		info := byRun[id]
		if info == nil {
			info = &runlog.RunInfo{RunID: id}
			byRun[id] = info
		}
		n := int64(0)
		for _, v := range series.Values {
			sec, ok1 := v[0].(float64)
			s, ok2 := v[1].(string)
			k, err := strconv.ParseInt(s, 10, 64)
			if !ok1 || !ok2 || err != nil || k <= 0 {
				continue
			}
			t := time.Unix(0, int64(sec*1e9)).Round(time.Second)
			if info.Last.IsZero() || t.After(info.Last) {
				info.Last = t
			}
			if first := t.Add(-runStep); info.First.IsZero() || first.Before(info.First) {
				info.First = first
			}
			n += k
		}
		if n > 0 {
			info.Steps++
			info.Records += n
		}
	}
	runs := make([]runlog.RunInfo, 0, len(byRun))
	for _, info := range byRun {
		if info.Records == 0 {
			continue
		}
		if !q.Before.IsZero() && !info.Last.Before(q.Before) {
			continue
		}
		runs = append(runs, *info)
	}
	slices.SortFunc(runs, func(a, b runlog.RunInfo) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.RunID, b.RunID)
	})
	if cur != nil {
		i := 0
		for i < len(runs) {
			l := runs[i].Last.UnixNano()
			if l < cur.Last || l == cur.Last && runs[i].RunID > cur.Run {
				break
			}
			i++
		}
		runs = runs[i:]
	}
	var p runlog.RunPage
	if limit := q.EffectiveLimit(); len(runs) > limit {
		runs, p.More = runs[:limit], true
	}
	p.Runs = runs
	if n := len(runs); n > 0 {
		p.Next = pagination.Encode(runCursor{Last: runs[n-1].Last.UnixNano(), Run: runs[n-1].RunID})
	} else {
		p.Next = q.Cursor
	}
	return p, nil
}

// deleteLogQL is the query of a deletion request for run: the stream
// selector with the run's label filter (on structured metadata unless the
// run id is an index label). Loki deletes what it matches, end markers
// included.
func (c *Client) deleteLogQL(run string) string {
	sel, filters := c.selector([][2]string{{c.conv.RunID, run}})
	return sel + filters
}

// DeleteRun asks Loki's compactor to delete every record of run within
// MaxLookback: POST /loki/api/v1/delete with the run's query, start and
// end. Loki filters the records out of queries once the request is
// accepted and removes them from storage later (after
// delete_request_cancel_period, 24h by default, with deletion_mode
// filter-and-delete); the report is Queued. Loki answers 204 with no id:
// Task is empty. A tenant without deletion (deletion_mode disabled, the
// default) or a Loki without the compactor's delete API is refused with
// ErrInvalid saying how to turn it on. The run's existence is not checked
// first (that would read it): Deleted is -1. See runlog.Deleter.
func (c *Client) DeleteRun(ctx context.Context, run string) (runlog.DeleteReport, error) {
	rep := runlog.DeleteReport{RunID: run, Deleted: -1}
	if run == "" {
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(), Err: errors.New("no run id given")}
	}
	end := now().Add(time.Minute) // records stamped a moment ahead of this clock
	start := end.Add(-c.cfg.MaxLookback - time.Minute)
	params := url.Values{
		"query": {c.deleteLogQL(run)},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/loki/api/v1/delete"
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(), Err: err}
	}
	c.identify(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return rep, opError(c.transportError(ctx, err), "delete")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := httpconf.Clean(strings.TrimSpace(string(body)), 300)
	switch {
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK:
	case strings.Contains(msg, "deletion is not available"),
		resp.StatusCode == http.StatusNotFound:
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(),
			Err: fmt.Errorf("deletion is turned off on this Loki: HTTP %d: %s", resp.StatusCode, msg),
			Hint: "enable it: compactor retention_enabled: true and delete_request_store set, and deletion_mode: filter-and-delete in limits_config (or the tenant's runtime overrides); " +
				"the URL must reach the compactor (or a single-binary Loki)"}
	default:
		return rep, opError(c.statusError(resp.StatusCode, msg), "delete")
	}
	var ans struct {
		RequestID string `json:"request_id"`
	}
	if len(body) > 0 && json.Unmarshal(body, &ans) == nil {
		rep.Task = ans.RequestID
	}
	rep.Queued = true
	rep.Detail = fmt.Sprintf("Loki accepted a delete request for the run's records from %s to %s: they are filtered out of queries now and removed from storage after its cancel period",
		start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	return rep, nil
}

// opError names op in a *runlog.Error that the read path's helpers made
// for a fetch.
func opError(err error, op string) error {
	var re *runlog.Error
	if errors.As(err, &re) && re.Op == "fetch" {
		cp := *re
		cp.Op = op
		return &cp
	}
	return err
}
