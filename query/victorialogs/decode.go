package victorialogs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// own are the fields VictoriaLogs adds or derives from OTLP's own fields:
// they map to LogEntry fields or are dropped, never attributes.
var own = map[string]bool{
	"_stream": true, "_stream_id": true, "severity_text": true, "scope.version": true,
	"observed_timestamp": true, "flags": true, "dropped_attributes_count": true,
}

var errSyntax = errors.New("not a JSON object of strings")

// decodeLine reads one line of a /select/logsql/query answer, a flat JSON
// object whose values are strings, into e. It is a scanner for this one
// shape; strings with escapes are handed to encoding/json, so JSON's rules
// apply to them.
func decodeLine(line []byte, e *runlog.LogEntry) error {
	*e = runlog.LogEntry{}
	ent := resource.Entry{LogEntry: e}
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
		default:
			if !own[k] {
				ent.Set(k, v)
			}
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

type scanner struct {
	b []byte
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
	start, escaped := d.i, false
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '\\':
			escaped = true
			d.i++
		case c == '"':
			raw := d.b[start:d.i]
			d.i++
			if !escaped {
				return string(raw), nil
			}
			var s string
			err := json.Unmarshal(d.b[start-1:d.i], &s)
			return s, err
		case c < 0x20:
			return "", errSyntax
		}
	}
	return "", errSyntax
}
