package serve

import "github.com/runlog/runlog/internal/render"

// The JSON of an entry and the escaping scheme are package render's,
// shared with `runlog logs`, so that the download is byte for byte what
// it prints.
var (
	appendEntry   = render.AppendEntry
	jsonSafe      = render.JSONSafe
	isSafe        = render.IsSafe
	appendEscaped = render.AppendEscaped
	appendQuoted  = render.AppendQuoted
	appendString  = render.AppendString
)
