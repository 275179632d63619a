package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Record is one log record as the backend stores it.
type Record struct {
	RunID   string            `json:"run_id"`
	StepID  string            `json:"step_id,omitempty"`
	Source  string            `json:"source"`
	Attempt int               `json:"attempt"`
	ID      string            `json:"id"`
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Level   int               `json:"level"` // OpenTelemetry severity number
	Message string            `json:"message"`
	Logger  string            `json:"logger"`
	Module  string            `json:"module,omitempty"`
	File    string            `json:"file,omitempty"`
	Line    int               `json:"line,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// Backend is the log service the custom store talks to: a stand-in for a
// backend nobody ships, small enough to read in a minute. It keeps records
// in memory and speaks two calls, both with "Authorization: Bearer TOKEN":
//
//	POST /ingest  {"records": [...]}                                   -> 204
//	POST /query   {"run_id": "...", "step_id": "...", "start": t, "end": t} -> {"logs": [...]}
//
// /query filters by run, step and time only; the store does the rest.
type Backend struct {
	Token string

	mu   sync.Mutex
	logs []Record
	// FailNext makes the next n ingest calls answer 503, to exercise the
	// store's retries.
	FailNext int
}

type queryRequest struct {
	RunID  string    `json:"run_id"`
	StepID string    `json:"step_id,omitempty"`
	Start  time.Time `json:"start,omitzero"`
	End    time.Time `json:"end,omitzero"`
}

func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+b.Token {
		http.Error(w, "bad or missing bearer token", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/ingest":
		var req struct {
			Records []Record `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.FailNext > 0 {
			b.FailNext--
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		b.logs = append(b.logs, req.Records...)
		w.WriteHeader(http.StatusNoContent)
	case "/query":
		var q queryRequest
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		out := []Record{}
		for _, rec := range b.logs {
			if rec.RunID == q.RunID && (q.StepID == "" || rec.StepID == q.StepID) &&
				(q.Start.IsZero() || !rec.Time.Before(q.Start)) && (q.End.IsZero() || rec.Time.Before(q.End)) {
				out = append(out, rec)
			}
		}
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"logs": out})
	default:
		http.NotFound(w, r)
	}
}
