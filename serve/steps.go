package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/runlog/runlog"
)

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return jsonSafe(b), err
}

// stepsBody is the answer of GET /api/v1/runs/{run}/steps.
type stepsBody struct {
	RunID string     `json:"run_id"`
	Steps []stepJSON `json:"steps"`
}

// stepJSON is one step (step_id "" is the run level): its activations,
// and a status summing them up: the worst of theirs (damaged, incomplete,
// running, not accounted, complete).
type stepJSON struct {
	StepID      string           `json:"step_id"`
	Status      string           `json:"status"`
	Records     uint64           `json:"records"`
	Missing     uint64           `json:"missing"`
	First       *time.Time       `json:"first"`
	Last        *time.Time       `json:"last"`
	Activations []activationJSON `json:"activations"`
}

// activationJSON is one activation: the names of `runlog check -o json`,
// plus records (received), first and last (times of its first and last
// records read).
type activationJSON struct {
	ActivationID string       `json:"activation_id"`
	Source       string       `json:"source"`
	Status       string       `json:"status"`
	Records      uint64       `json:"records"`
	Received     uint64       `json:"received"`
	Duplicates   uint64       `json:"duplicates"`
	Expected     uint64       `json:"expected"`
	Missing      uint64       `json:"missing"`
	Gaps         []gapJSON    `json:"gaps"`
	Ended        bool         `json:"ended"`
	Cause        string       `json:"cause"`
	Result       string       `json:"result"`
	Dropped      uint64       `json:"dropped"`
	Rejected     uint64       `json:"rejected"`
	Redacted     uint64       `json:"redacted"`
	First        *time.Time   `json:"first"`
	Last         *time.Time   `json:"last"`
	Damaged      []damageJSON `json:"damaged"`
}

type gapJSON struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

type damageJSON struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Error  string `json:"error"`
}

// statusRank orders statuses by how much they tell against a step: a step
// takes its worst activation's. A step holding another program's records
// is at best unaccounted: nothing can say they are all there.
var statusRank = map[runlog.Status]int{runlog.StatusComplete: 0, runlog.StatusNotAccounted: 1, runlog.StatusRunning: 2, runlog.StatusIncomplete: 3, runlog.StatusDamaged: 4}

// times is a Fetcher that notes, per activation, the first and last
// times of the entries passing through it.
type times struct {
	f     runlog.Fetcher
	mu    sync.Mutex
	spans map[string][2]time.Time
}

func (t *times) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	p, err := t.f.Fetch(ctx, q)
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range p.Entries {
		e := &p.Entries[i]
		k := spanKey(e.ActivationID, e.RunID, e.StepID, e.Source)
		sp, ok := t.spans[k]
		if !ok || e.Time.Before(sp[0]) {
			sp[0] = e.Time
		}
		if !ok || e.Time.After(sp[1]) {
			sp[1] = e.Time
		}
		t.spans[k] = sp
	}
	return p, err
}

// spanKey is the key of an entry's span: its activation, or for records
// another program wrote (no activation), its run, step and source, as
// runlog.Check accounts them.
func spanKey(activation, run, step, source string) string {
	if activation != "" {
		return activation
	}
	return "\x01" + run + "\x00" + step + "\x00" + source
}

// steps answers GET /api/v1/runs/{run}/steps from runlog.Check; 404
// when the store has nothing for the run.
func (s *server) steps(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := runlog.Query{RunID: r.PathValue("run"), StepID: v.Get("step"), Source: v.Get("source"), Limit: s.opts.PageSize}
	if err := q.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	tf := &times{f: s.f, spans: map[string][2]time.Time{}}
	cs, err := runlog.Check(r.Context(), tf, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(cs) == 0 {
		s.nothing(w, r, q.RunID)
		return
	}
	body := stepsBody{RunID: q.RunID, Steps: []stepJSON{}}
	for _, c := range cs { // sorted by step
		if n := len(body.Steps); n == 0 || body.Steps[n-1].StepID != c.StepID {
			body.Steps = append(body.Steps, stepJSON{StepID: c.StepID, Status: string(runlog.StatusComplete), Activations: []activationJSON{}})
		}
		st := &body.Steps[len(body.Steps)-1]
		a := activationJSON{ActivationID: c.Activation, Source: c.Source, Status: string(c.Status), Records: c.Received,
			Received: c.Received, Duplicates: c.Duplicates, Expected: c.Expected, Missing: c.Missing, Gaps: []gapJSON{},
			Ended: c.Ended, Cause: c.Cause, Result: c.Result, Dropped: c.Dropped, Rejected: c.Rejected, Redacted: c.Redacted, Damaged: []damageJSON{}}
		for _, g := range c.Gaps {
			a.Gaps = append(a.Gaps, gapJSON{g.From, g.To})
		}
		for _, d := range c.Damaged {
			a.Damaged = append(a.Damaged, damageJSON{d.File, d.Offset, d.Err})
		}
		if sp, ok := tf.spans[spanKey(c.Activation, c.RunID, c.StepID, c.Source)]; ok && (c.Activation != "" || c.Status == runlog.StatusNotAccounted) {
			a.First, a.Last = &sp[0], &sp[1]
			if st.First == nil || sp[0].Before(*st.First) {
				st.First = a.First
			}
			if st.Last == nil || sp[1].After(*st.Last) {
				st.Last = a.Last
			}
		}
		if statusRank[c.Status] > statusRank[runlog.Status(st.Status)] {
			st.Status = string(c.Status)
		}
		st.Records += c.Received
		st.Missing += c.Missing
		st.Activations = append(st.Activations, a)
	}
	writeJSON(w, http.StatusOK, body)
}

// runsBody is the answer of GET /api/v1/runs.
type runsBody struct {
	Items []runJSON `json:"items"`
	After string    `json:"after"`
	More  bool      `json:"more"`
}

type runJSON struct {
	RunID string     `json:"run_id"`
	First *time.Time `json:"first"`
	Last  *time.Time `json:"last"`
	// Steps and Records are null when the store cannot tell cheaply.
	Steps   *int64 `json:"steps"`
	Records *int64 `json:"records"`
}

func (s *server) storeName() string {
	if s.opts.Name == "" {
		return "this store"
	}
	return "store " + strconv.Quote(s.opts.Name)
}

// runs answers GET /api/v1/runs through runlog.RunLister.
func (s *server) runs(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.f.(runlog.RunLister)
	if !ok {
		writeError(w, http.StatusNotImplemented, "unsupported", s.storeName()+" cannot list its runs",
			"open a run by its id: /api/v1/runs/RUN/logs")
		return
	}
	v := r.URL.Query()
	n, err := parseLimit(v, runlog.DefaultRunLimit, runlog.MaxRunLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := runlog.RunQuery{Limit: n, Cursor: runlog.Cursor(v.Get("after"))}
	if q.Before, err = parseTime("until", v.Get("until"), time.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := rl.ListRuns(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := runsBody{Items: make([]runJSON, 0, len(p.Runs)), After: string(p.Next), More: p.More}
	for _, ri := range p.Runs {
		j := runJSON{RunID: ri.RunID}
		if !ri.First.IsZero() {
			j.First = &ri.First
		}
		if !ri.Last.IsZero() {
			j.Last = &ri.Last
		}
		if ri.Steps >= 0 {
			j.Steps = &ri.Steps
		}
		if ri.Records >= 0 {
			j.Records = &ri.Records
		}
		body.Items = append(body.Items, j)
	}
	writeJSON(w, http.StatusOK, body)
}

// deleteBody is the answer of DELETE /api/v1/runs/{run}.
type deleteBody struct {
	RunID   string `json:"run_id"`
	Deleted int64  `json:"deleted"`
	Queued  bool   `json:"queued"`
	Task    string `json:"task,omitempty"`
	Detail  string `json:"detail"`
}

// delete answers DELETE /api/v1/runs/{run} through runlog.Deleter.
func (s *server) delete(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token == "" && !s.opts.AllowDelete {
		writeError(w, http.StatusForbidden, "forbidden", "this server does not delete runs without a token",
			"start runlog serve with --token-file (or RUNLOG_SERVE_TOKEN), or with --allow-delete")
		return
	}
	run := r.PathValue("run")
	if err := runlog.ValidateID("run", run); err != nil || run == "" {
		if err == nil {
			err = runlog.Invalidf("run: the id is empty")
		}
		s.fail(w, r, err)
		return
	}
	d, ok := s.f.(runlog.Deleter)
	if !ok {
		writeError(w, http.StatusNotImplemented, "unsupported", s.storeName()+" cannot delete runs",
			"delete them in the backend, or with its retention")
		return
	}
	rep, err := d.DeleteRun(r.Context(), run)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Logger.Info("serve: deleted a run", "run", run, "deleted", rep.Deleted, "queued", rep.Queued, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, deleteBody{RunID: rep.RunID, Deleted: rep.Deleted, Queued: rep.Queued, Task: rep.Task, Detail: rep.Detail})
}
