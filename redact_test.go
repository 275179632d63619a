package runlog_test

import (
	"testing"

	"github.com/runlog/runlog"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://me:pw@h:9428/x":      "http://****@h:9428/x",
		"https://tok@h":              "https://****@h",
		"http://a:b@c@h/p?q=a@b#x@y": "http://****@h/p?q=a@b#x@y",
		"http://h:9428/a@b":          "http://h:9428/a@b",
		"http://h?u=me@x":            "http://h?u=me@x",
		"not a url":                  "not a url",
		"me@example.com":             "me@example.com",
		"":                           "",
	} {
		if got := runlog.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q; want %q", in, got, want)
		}
	}
}
