package victorialogs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

var errSyntax = errors.New("not a JSON object of strings")

// decodeLine reads one line of a /select/logsql/query answer, a flat JSON
// object whose values are strings, into e, mapping attributes by conv
// (nil: resource.CICD). It is a scanner for this one shape; strings with
// escapes are unescaped by JSON's rules.
func decodeLine(line []byte, e *runlog.LogEntry, conv *resource.Convention) error {
	return decodeString(string(line), e, conv)
}

// decodeString is decodeLine of a line already held as a string: the
// entry's fields are substrings of it.
func decodeString(line string, e *runlog.LogEntry, conv *resource.Convention) error {
	*e = runlog.LogEntry{}
	ent := resource.Entry{LogEntry: e, Convention: conv}
	d := scanner{b: line}
	sawTime := false
	err := d.object(func(k, v string) error {
		switch k {
		case "_msg":
			e.Message = v
		case "_time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("_time %q: %w", v, err)
			}
			e.Time, sawTime = t.UTC(), true
		case "severity_number":
			n, _ := strconv.Atoi(v)
			e.Level = runlog.Level(n)
		case "scope.name":
			e.Name = v
		case "trace_id":
			e.TraceID = v
		case "span_id":
			e.SpanID = v
		case "_stream", "_stream_id", "severity_text", "scope.version", "observed_timestamp", "flags", "dropped_attributes_count":
			// Added or derived by VictoriaLogs from OTLP's own fields.
		default:
			ent.Set(k, v)
		}
		return nil
	})
	if err == nil && !sawTime {
		err = errors.New("no _time field")
	}
	if err != nil {
		return err
	}
	ent.Finish()
	return nil
}

// unescape decodes the body of a JSON string that holds escapes.
func unescape(b string) (string, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", errSyntax
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b[i+1:])
			if !ok {
				return "", errSyntax
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if r2, ok = hex4(b[i+3:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							i += 6
							out = utf8.AppendRune(out, d)
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", errSyntax
		}
	}
	return string(out), nil
}

func hex4(b string) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(b[:4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

type scanner struct {
	b string
	i int
}

func (d *scanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object calls fn with each key and string value of a flat object, and
// requires nothing but white space after it.
func (d *scanner) object(fn func(k, v string) error) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return errSyntax
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return d.end()
	}
	for {
		k, err := d.str()
		if err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return errSyntax
		}
		d.i++
		v, err := d.str()
		if err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return errSyntax
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return d.end()
		default:
			return errSyntax
		}
	}
}

func (d *scanner) end() error {
	d.ws()
	if d.i != len(d.b) {
		return errSyntax
	}
	return nil
}

func (d *scanner) str() (string, error) {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", errSyntax
	}
	d.i++
	start := d.i
	// Most strings hold no escape: find the closing quote fast, then
	// check what lies before it.
	if q := strings.IndexByte(d.b[d.i:], '"'); q >= 0 {
		raw := d.b[start : start+q]
		clean := true
		for i := 0; i < len(raw); i++ {
			if c := raw[i]; c < 0x20 || c == '\\' {
				clean = false
				break
			}
		}
		if clean {
			d.i = start + q + 1
			return raw, nil
		}
	}
	escaped := false
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '\\':
			escaped = true
			d.i++
		case c == '"':
			raw := d.b[start:d.i]
			d.i++
			if !escaped {
				return raw, nil
			}
			return unescape(raw)
		case c < 0x20:
			return "", errSyntax
		}
	}
	return "", errSyntax
}
