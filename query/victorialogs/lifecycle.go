package victorialogs

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

// runCursor is what runlog.Cursor encodes for ListRuns: the last time of
// the last run of a page, and the runs of that page with that very last
// time (almost always one), which the next page skips.
type runCursor struct {
	Last int64    `json:"l"`
	Seen []string `json:"s"`
}

// listRunsLogsQL returns the LogsQL query with which ListRuns reads up to
// limit runs whose last record is at or before atMost and before before
// (zero: any): one row per run with its last (_time) and first times, its
// steps and its records, newest first.
func listRunsLogsQL(conv *resource.Convention, atMost, before time.Time, limit int) string {
	run, step := quote(conv.RunID), quote(conv.StepID)
	var b strings.Builder
	// A stream filter leaves out, at the index, streams without a run.
	b.WriteString(anyRun(conv))
	// count_uniq of (step, run) counts the run level (no step) as one.
	b.WriteString(" | stats by (" + run + ") max(_time) _time, min(_time) first, count_uniq(" + step + ", " + run + ") steps, count() if (!" + quote(resource.End) + `:="true") records`)
	switch {
	case !atMost.IsZero() && !before.IsZero() && !before.After(atMost):
		b.WriteString(" | filter _time:<" + formatTime(before.UnixNano()))
	case !atMost.IsZero():
		b.WriteString(" | filter _time:<=" + formatTime(atMost.UnixNano()))
	case !before.IsZero():
		b.WriteString(" | filter _time:<" + formatTime(before.UnixNano()))
	}
	b.WriteString(" | sort by (_time desc, " + run + ") | limit " + strconv.Itoa(limit))
	return b.String()
}

// ListRuns lists the runs of the tenant, newest first by their last
// record. See runlog.RunLister.
//
// It is one stats query grouped by the run id over every record of the
// tenant (VictoriaLogs reads the _time, run and step columns, not the
// messages), sorted and cut to the page by VictoriaLogs: what comes back
// is at most one row per run of the page. Steps counts the distinct step
// ids, the run level as one; Records leaves out end markers.
func (c *Client) ListRuns(ctx context.Context, q runlog.RunQuery) (runlog.RunPage, error) {
	var cur runCursor
	var atMost time.Time
	if q.Cursor != "" {
		if err := pagination.Decode(q.Cursor, &cur); err != nil {
			return runlog.RunPage{}, err
		}
		atMost = time.Unix(0, cur.Last)
	}
	limit := q.EffectiveLimit()
	var runs []runlog.RunInfo
	err := c.rows(ctx, listRunsLogsQL(&c.conv, atMost, q.Before, limit+1+len(cur.Seen)), func(line []byte) error {
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			return err
		}
		id := row[c.conv.RunID]
		if q.Cursor != "" && slices.Contains(cur.Seen, id) {
			if t, _ := time.Parse(time.RFC3339Nano, row["_time"]); t.UnixNano() == cur.Last {
				return nil
			}
		}
		info := runlog.RunInfo{RunID: id, Steps: -1, Records: -1}
		var err error
		if info.Last, err = time.Parse(time.RFC3339Nano, row["_time"]); err != nil {
			return fmt.Errorf("last time: %w", err)
		}
		if info.First, err = time.Parse(time.RFC3339Nano, row["first"]); err != nil {
			return fmt.Errorf("first time: %w", err)
		}
		if n, err := strconv.ParseInt(row["steps"], 10, 64); err == nil {
			info.Steps = n
		}
		if n, err := strconv.ParseInt(row["records"], 10, 64); err == nil {
			info.Records = n
		}
		runs = append(runs, info)
		return nil
	})
	if err != nil {
		return runlog.RunPage{}, opError(err, "list runs")
	}
	var p runlog.RunPage
	if len(runs) > limit {
		runs, p.More = runs[:limit], true
	}
	p.Runs = runs
	if len(runs) == 0 {
		p.Next = q.Cursor
		return p, nil
	}
	next := runCursor{Last: runs[len(runs)-1].Last.UnixNano()}
	for i := len(runs) - 1; i >= 0 && runs[i].Last.UnixNano() == next.Last; i-- {
		next.Seen = append(next.Seen, runs[i].RunID)
	}
	if next.Last == cur.Last {
		next.Seen = append(next.Seen, cur.Seen...) // a tie across pages
	}
	p.Next = pagination.Encode(next)
	return p, nil
}

// runFilter is the LogsQL filter of every record of run.
func (c *Client) runFilter(run string) string {
	return runFields(&c.conv, [][2]string{{c.conv.RunID, run}})
}

// DeleteRun asks VictoriaLogs to delete every record of run, in the
// client's tenant: POST /delete/run_task with the run's stream filter. The
// deletion is a background task; the report is Queued with its task_id,
// and the records stay visible until it ends (DeleteDone). A run with no
// records is not sent a task. VictoriaLogs refuses unless started with
// -delete.enable (for a cluster, -delete.enable on the select nodes and
// -internaldelete.enable on the storage nodes): that error wraps
// ErrInvalid. See runlog.Deleter.
func (c *Client) DeleteRun(ctx context.Context, run string) (runlog.DeleteReport, error) {
	rep := runlog.DeleteReport{RunID: run, Deleted: -1}
	if run == "" {
		return rep, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(), Err: errors.New("no run id given")}
	}
	n, _, _, err := c.stats(ctx, c.runFilter(run))
	if err != nil {
		return rep, opError(err, "delete")
	}
	if n == 0 {
		rep.Deleted = 0
		rep.Detail = "nothing stored for this run in " + c.URL()
		return rep, nil
	}
	body, err := c.call(ctx, "/delete/run_task", url.Values{"filter": {c.runFilter(run)}})
	if err != nil {
		return rep, err
	}
	var ans struct {
		TaskID string `json:"task_id"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || ans.TaskID == "" {
		return rep, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "delete", Store: c.URL(),
			Err: fmt.Errorf("no task_id in the answer: %s", httpconf.Clean(string(body), 200)), Hint: "is this URL a VictoriaLogs?"}
	}
	rep.Queued, rep.Task = true, ans.TaskID
	rep.Detail = fmt.Sprintf("VictoriaLogs deletes the run's %d records in the background (task %s); they stay visible until it ends", n, ans.TaskID)
	return rep, nil
}

// DeleteDone reports whether the deletion task of that id has ended:
// VictoriaLogs no longer lists it in /delete/active_tasks.
func (c *Client) DeleteDone(ctx context.Context, task string) (bool, error) {
	body, err := c.call(ctx, "/delete/active_tasks", nil)
	if err != nil {
		return false, err
	}
	var tasks []struct {
		TaskID string `json:"task_id"`
	}
	if err := json.Unmarshal(body, &tasks); err != nil {
		return false, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "delete", Store: c.URL(), Err: fmt.Errorf("active tasks: %w", err)}
	}
	for _, t := range tasks {
		if t.TaskID == task {
			return false, nil
		}
	}
	return true, nil
}

// call POSTs form to path with the client's tenant and credentials and
// returns the answer, at most 1 MiB of it.
func (c *Client) call(ctx context.Context, path string, form url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.identify(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, opError(c.transportError(ctx, err), "delete")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, opError(c.transportError(ctx, err), "delete")
	}
	if resp.StatusCode != http.StatusOK {
		msg := string(body)
		if strings.Contains(msg, "-delete.enable") || strings.Contains(msg, "-internaldelete.enable") {
			return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "delete", Store: c.URL(),
				Err:  fmt.Errorf("deletion is turned off on this VictoriaLogs: HTTP %d: %s", resp.StatusCode, httpconf.Clean(strings.TrimSpace(msg), 300)),
				Hint: "start VictoriaLogs with -delete.enable (for a cluster: -delete.enable on the select nodes, -internaldelete.enable on the storage nodes)"}
		}
		return nil, opError(c.statusError(resp.StatusCode, msg), "delete")
	}
	return body, nil
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
