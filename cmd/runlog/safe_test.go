package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

func TestEscapeText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, é, 日本, emoji 🎉", "plain text, é, 日本, emoji 🎉"},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"a\rb\tc\nd", `a\rb\tc\nd`},
		{"nul\x00 del\x7f", `nul\x00 del\x7f`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"c1 \u009b31m \u0085", `c1 \u009b31m \u0085`},
		{"bidi \u202e\u2066\u2069\u200f\u061c", `bidi \u202e\u2066\u2069\u200f\u061c`},
		{"sep \u2028\u2029", `sep \u2028\u2029`},
	} {
		if got := escapeText(c.in); got != c.want {
			t.Errorf("escapeText(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestTextPrinterHostile: whatever an entry holds, the text printer
// writes no control character but the newline ending each line, and one
// entry's lines after the first are indented continuation lines.
func TestTextPrinterHostile(t *testing.T) {
	hostile := "\x1b]0;t\x07\x1b[2J\x1b]52;c;eA==\x07\r\x9b\u009b\u202e\xff\x00\x7f"
	e := runlog.LogEntry{Message: "first\n2026-01-01T00:00:00.000Z ERROR [x] fake" + hostile + "\r\nlast\n",
		Level: runlog.LevelInfo, Time: time.Unix(0, 0), RunID: "r" + hostile, StepID: "s" + hostile,
		Attributes: map[string]string{"k" + hostile: "v\n" + hostile, "a b=c": `x" y="z`}}
	var out bytes.Buffer
	p := &textPrinter{w: bufio.NewWriter(&out)}
	if err := p.print(&e); err != nil {
		t.Fatal(err)
	}
	p.flush()
	s := out.String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("printed %d lines; want 3:\n%s", len(lines), s)
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, continuation) {
			t.Errorf("line %d is not a continuation line: %q", i+2, l)
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("control byte %#x at %d in %q", c, i, s)
		}
	}
	for _, r := range s {
		if unsafeRune(r) || r == '\uFFFD' {
			t.Fatalf("unsafe rune %U in %q", r, s)
		}
	}
	if !strings.Contains(s, `"a b=c"="x\" y=\"z"`) {
		t.Errorf("a key or value with spaces, '=' or quotes is not quoted: %s", s)
	}
}
