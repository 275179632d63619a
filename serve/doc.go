// Package serve is runlog's HTTP API and web log viewer over any store:
// an http.Handler for users' own servers, and what `runlog serve` runs.
//
// The API (JSON, snake_case, the names of `runlog logs -o json`):
//
//	GET    /api/v1/runs                          recent runs, newest first, paged (needs a runlog.RunLister)
//	GET    /api/v1/runs/{run}/steps              each step's activations: status, counts, times, exit cause
//	GET    /api/v1/runs/{run}/logs               a page of entries: {"items": [...], "after": "...", "before": "...", "more": bool}
//	GET    /api/v1/runs/{run}/logs/stream        Server-Sent Events live tail from a cursor, to the step's end marker
//	GET    /api/v1/runs/{run}/logs/download      the whole log, text or jsonl, streamed, with a file name
//	DELETE /api/v1/runs/{run}                    delete a run's logs (needs a runlog.Deleter)
//	GET    /api/v1/openapi.json                  the OpenAPI description of the above
//	GET    /                                     the web viewer (embedded assets, no build step)
//
// Query parameters of the logs endpoints: step, source, attempt, level,
// search, since, until, limit (default 20,000, capped at 100,000), after,
// before (opaque cursors; before= empty asks for the newest page). Items
// are oldest first in both directions. An unknown run is an empty page;
// its steps are 404. Errors are JSON {"error": {"kind", "message",
// "hint"}} with the status of the typed error's kind (docs/serve.md
// lists them). With Options.Token every /api/ request needs
// "Authorization: Bearer TOKEN"; the viewer page loads without it.
//
//	h := serve.New(fetcher, serve.Options{Token: token, Name: "ci"})
//	http.Handle("/runlog/", http.StripPrefix("/runlog", h))
package serve
