package main

import "github.com/runlog/runlog/internal/render"

// The JSON of an entry and the escaping scheme are package render's,
// shared with serve's API and download.
var (
	appendEntry = render.AppendEntry
	jsonSafe    = render.JSONSafe
	isSafe      = render.IsSafe
	unsafeRune  = render.UnsafeRune
)
