package stores

// External records an external flavor: a flavor built outside this
// repository, in any language, as an executable that speaks a small JSON
// protocol. Package flavors registers it (flavors.RegisterExternal) and
// opens its stores. Writes go over OTLP/HTTP like the otel flavor's (keys
// endpoint, headers, insecure), so the executable only reads:
//
//	PROGRAM describe
//	    stdout: {"name": "...", "doc": "...", "keys": [{"name", "type", "default",
//	             "required", "secret", "doc"}, ...]}
//	PROGRAM fetch
//	    stdin:  {"config": {key: value}, "query": {"run_id", "step_id", "source",
//	             "logs_uri", "start", "end", "limit", "min_level", "contains",
//	             "cursor", "direction"}}
//	    stdout: {"entries": [LogEntry as `runlog logs -o jsonl` prints it], "next": "...", "more": bool}
//	            or {"error": {"kind": "invalid|unavailable|unauthorized|over_limit", "message": "..."}}
//
// Times are RFC 3339, levels are names (INFO) or severity numbers, "next"
// is an opaque cursor the program gets back as query.cursor.
type External struct {
	Exec string `json:"exec"` // absolute path of the program
}
