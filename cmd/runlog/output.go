package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/runlog/runlog"
)

// printer is one output format.
type printer interface {
	print(e *runlog.LogEntry) error
	flush() error
	close() error
}

func newPrinter(w io.Writer, format string) (printer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "text":
		return &textPrinter{w: bw, color: colorful(w)}, nil
	case "jsonl":
		return &jsonPrinter{w: bw}, nil
	case "json":
		return &jsonPrinter{w: bw, array: true}, nil
	}
	return nil, fmt.Errorf("unknown output format %q; use text, json or jsonl", format)
}

// colorful reports whether w is a terminal and colour is wanted.
func colorful(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type textPrinter struct {
	w     *bufio.Writer
	color bool
}

var levelColors = map[string]string{"TRACE": "\x1b[90m", "DEBUG": "\x1b[36m", "INFO": "\x1b[32m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m", "FATAL": "\x1b[35m"}

// print writes e as one entry: time, level, [step], the message, the
// attributes. Everything that came from the store is escaped (see
// escapeText); a message of several lines continues on lines indented
// under it and marked, which cannot pass for entries.
func (p *textPrinter) print(e *runlog.LogEntry) error {
	step := escapeText(e.StepID)
	if step == "" {
		step = "-"
	}
	lvl := fmt.Sprintf("%-5s", escapeText(e.Level.String()))
	if p.color {
		name := strings.TrimRight(e.Level.String(), "234")
		if c, ok := levelColors[name]; ok {
			lvl = c + lvl + "\x1b[0m"
		}
	}
	lines := textLines(e.Message)
	fmt.Fprintf(p.w, "%s %s [%s] %s", e.Time.Local().Format("2006-01-02T15:04:05.000Z07:00"), lvl, step, lines[0])
	for _, l := range lines[1:] {
		p.w.WriteString("\n" + continuation)
		p.w.WriteString(l)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
		if !strings.HasPrefix(k, "code.") {
			fmt.Fprintf(p.w, " %s=%s", attrKey(k), quoteText(e.Attributes[k]))
		}
	}
	return p.w.WriteByte('\n')
}

// attrKey renders an attribute key: as is when it is plain, else quoted
// (see quoteText), so that a key cannot forge another attribute or a
// line.
func attrKey(k string) string {
	if k != "" && isSafe(k) && !strings.ContainsAny(k, " =\"\\") {
		return k
	}
	return quoteText(k)
}

func (p *textPrinter) flush() error { return p.w.Flush() }
func (p *textPrinter) close() error { return p.w.Flush() }

type jsonPrinter struct {
	w     *bufio.Writer
	buf   []byte
	array bool
	n     int
}

func (p *jsonPrinter) print(e *runlog.LogEntry) error {
	if p.array {
		sep := ",\n"
		if p.n == 0 {
			sep = "[\n"
		}
		p.w.WriteString(sep)
	}
	p.n++
	var err error
	if p.buf, err = appendEntry(p.buf[:0], e); err != nil {
		return err
	}
	_, err = p.w.Write(append(p.buf, '\n'))
	return err
}

func (p *jsonPrinter) flush() error { return p.w.Flush() }

func (p *jsonPrinter) close() error {
	if p.array {
		if p.n == 0 {
			p.w.WriteString("[")
		}
		p.w.WriteString("]\n")
	}
	return p.w.Flush()
}
