package main

import (
	"fmt"
	"strings"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/render"
)

// Text from stores, files and programs is printed escaped, so that it can
// never drive the terminal (clear it, set its title or clipboard, forge a
// line): see docs/security.md, "Terminal output". The scheme:
//
//	\t \r \n             for TAB, CR and LF (where a newline is not a line break)
//	\xNN                 for the other C0 controls, DEL, and bytes that are not UTF-8
//	\u0080 ... \u009f    for C1 controls
//	\u061c \u200e \u200f \u202a-\u202e \u2066-\u2069 \u2028 \u2029
//	                     for bidi controls and line/paragraph separators
//
// Every other character, printable Unicode included, is kept as is.

// escapeText returns s with every character that could act on a terminal
// escaped, newlines included.
func escapeText(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	appendEscaped(&b, s)
	return b.String()
}

// quoteText returns s in double quotes, escaped as escapeText does, with
// '"' and '\' escaped too, so that a quoted value cannot end early.
func quoteText(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	appendEscapedQuoted(&b, s, true)
	b.WriteByte('"')
	return b.String()
}

func appendEscaped(b *strings.Builder, s string) { appendEscapedQuoted(b, s, false) }

func appendEscapedQuoted(b *strings.Builder, s string, quoted bool) {
	b.Write(render.AppendEscaped(nil, s, quoted))
}

// textLines splits s into lines at LF (and CRLF), without the trailing
// line breaks, each line escaped.
func textLines(s string) []string {
	s = strings.TrimRight(s, "\r\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escapeText(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

// continuation starts each line after the first of a multi-line text: it
// is indented, so that it cannot pass for the start of an entry or of a
// message of runlog's, and marked.
const continuation = "    │ "

// errorLines renders err for the terminal, escaped, as lines: each
// error of an errors.Join starts a line; a line break inside an error's
// text continues its line (see errorText).
func errorLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok && fmt.Sprintf("%T", err) == "*errors.joinError" {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, errorLines(e)...)
		}
		return out
	}
	return []string{errorText(err)}
}

// errorText renders err for the terminal, escaped, the lines after the
// first as continuation lines, so that text from a backend or a program
// cannot print a line that passes for one of runlog's.
func errorText(err error) string {
	return strings.Join(textLines(err.Error()), "\n"+continuation)
}

// cliHints rewords, in place, the hints of the runlog errors in err that
// are meant for Go programs using the library (call this function, set
// that option) into what a user of the command does.
func cliHints(err error) {
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*runlog.Error); ok {
			e.Hint = cliHint(e.Hint)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
}

func cliHint(h string) string {
	switch {
	case strings.Contains(h, "is the package that registers it imported?"):
		return strings.Replace(h, "is the package that registers it imported?",
			"a flavor built outside runlog is added with `runlog log-store flavor register PROGRAM`", 1)
	case strings.Contains(h, "RegisterExternal"):
		return "the store's external flavor could not be registered; run `runlog log-store flavor list` to see why, and `runlog log-store flavor register PROGRAM` to register it again"
	case strings.Contains(h, "Activate, Store.Flush or `runlog flush`"):
		return strings.Replace(h, "the next Activate, Store.Flush or `runlog flush`", "the next `runlog exec` or `runlog flush` of this store", 1)
	case strings.Contains(h, "Options.Fetcher"):
		return "this store's flavor cannot read logs back; read them where its records are sent"
	}
	return h
}
