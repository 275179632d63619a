package serve

import (
	"embed"
	"io/fs"
)

// web holds the viewer's files, served at /: plain HTML, CSS and
// JavaScript, no build step.
//
//go:embed web
var web embed.FS

// Assets returns the viewer's files.
func Assets() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
