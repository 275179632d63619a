package file

import (
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// fastDecode decodes one OTLP JSON line straight into entries, without
// pdata's data model in between: pdata's decode allocates every record,
// value and attribute twice over (its model, then the entry), which made
// reading the local store 2.7x the cost of the decode alone (issue 17).
//
// It reads the shape pdata's marshaler writes (the local store's, the
// collector's): camelCase field names, strings without escapes, string,
// int and bool values, nested kvlists in attributes. On anything else it
// reports false, and the caller decodes the line with pdata (decodeLine),
// which then also produces the error of a line that is not OTLP JSON. So
// it never accepts what pdata refuses, and what it accepts decodes as
// decodeLine would (FuzzFastDecode checks both).
//
// hint is how many records the line likely holds (the last line's count):
// entries are large, and growing the slice record by record costs more
// than decoding them.
func fastDecode(line []byte, hint int, conv *resource.Convention) ([]runlog.LogEntry, bool) {
	d := scanner{b: line, conv: conv}
	out := make([]runlog.LogEntry, 0, min(hint, len(line)/64))
	d.object(func(k []byte) {
		if string(k) != "resourceLogs" {
			d.fail()
			return
		}
		d.array(func() { d.resourceLogs(&out) })
	})
	d.ws()
	if d.bad || d.i != len(d.b) {
		return nil, false
	}
	return out, true
}

// scanner walks a line's JSON; bad means "not the simple shape": the
// caller falls back to pdata.
type scanner struct {
	b     []byte
	i     int
	bad   bool
	resKV [][2]string
	recKV [][2]string
	keys  map[string]string
	conv  *resource.Convention // maps the attributes; nil: resource.CICD
}

func (d *scanner) fail() { d.bad = true }

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

// next skips white space and returns the next byte (0 at the end).
func (d *scanner) next() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *scanner) expect(c byte) {
	if d.next() != c {
		d.fail()
		return
	}
	d.i++
}

// object calls field for each key of an object, positioned at its value;
// field must consume the value.
func (d *scanner) object(field func(k []byte)) {
	d.expect('{')
	if d.bad {
		return
	}
	if d.next() == '}' {
		d.i++
		return
	}
	for !d.bad {
		k := d.raw()
		d.expect(':')
		if d.bad {
			return
		}
		field(k)
		if d.bad {
			return
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.fail()
		}
	}
}

// array calls elem for each element of an array.
func (d *scanner) array(elem func()) {
	d.expect('[')
	if d.bad {
		return
	}
	if d.next() == ']' {
		d.i++
		return
	}
	for !d.bad {
		elem()
		if d.bad {
			return
		}
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.fail()
		}
	}
}

// str reads a string without escapes or control characters; others are
// left to pdata.
func (d *scanner) str() string {
	b := d.raw()
	if d.bad {
		return ""
	}
	return string(b)
}

// key reads an attribute key, the same few in every record: each is
// allocated once per line.
func (d *scanner) key() string {
	b := d.raw()
	if d.bad {
		return ""
	}
	if k, ok := d.keys[string(b)]; ok {
		return k
	}
	k := string(b)
	if d.keys == nil {
		d.keys = make(map[string]string)
	}
	if len(d.keys) < 256 {
		d.keys[k] = k
	}
	return k
}

// raw reads a string as str does, as bytes of the line.
func (d *scanner) raw() []byte {
	if d.next() != '"' {
		d.fail()
		return nil
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j]
		case c == '\\' || c < 0x20:
			d.fail()
			return nil
		}
	}
	d.fail()
	return nil
}

// digits reads an unsigned integer, bare or quoted, as pdata accepts
// 64-bit integers either way.
func (d *scanner) digits() (uint64, bool) {
	quoted := d.next() == '"'
	if quoted {
		d.i++
	}
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == start || d.i-start > 1 && d.b[start] == '0' {
		d.fail()
		return 0, false
	}
	if d.i-start > 19 { // past 19 digits, ParseUint says whether it fits
		if _, err := strconv.ParseUint(string(d.b[start:d.i]), 10, 64); err != nil {
			d.fail()
			return 0, false
		}
	}
	var v uint64
	for _, c := range d.b[start:d.i] {
		v = v*10 + uint64(c-'0')
	}
	if quoted {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			d.fail()
			return 0, false
		}
		d.i++
	} else if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.fail() // a float: pdata's rules apply
		return 0, false
	}
	return v, true
}

func (d *scanner) resourceLogs(out *[]runlog.LogEntry) {
	d.resKV = d.resKV[:0]
	sawScopes := false
	d.object(func(k []byte) {
		switch string(k) {
		case "resource":
			if sawScopes {
				d.fail() // records would need the resource first
				return
			}
			d.object(func(k []byte) {
				switch string(k) {
				case "attributes":
					d.attributes("", &d.resKV)
				case "droppedAttributesCount":
					d.digits()
				default:
					d.fail()
				}
			})
		case "schemaUrl":
			d.str()
		case "scopeLogs":
			sawScopes = true
			d.array(func() { d.scopeLogs(out) })
		default:
			d.fail()
		}
	})
}

func (d *scanner) scopeLogs(out *[]runlog.LogEntry) {
	var scope string
	sawRecords := false
	d.object(func(k []byte) {
		switch string(k) {
		case "scope":
			if sawRecords {
				d.fail()
				return
			}
			d.object(func(k []byte) {
				switch string(k) {
				case "name":
					scope = d.str()
				case "version":
					d.str()
				default:
					d.fail()
				}
			})
		case "schemaUrl":
			d.str()
		case "logRecords":
			sawRecords = true
			d.array(func() { d.record(out, scope) })
		default:
			d.fail()
		}
	})
}

func (d *scanner) record(out *[]runlog.LogEntry, scope string) {
	var (
		ts, observed uint64
		sev          uint64
		body         string
		tid, sid     string
	)
	d.recKV = d.recKV[:0]
	d.object(func(k []byte) {
		switch string(k) {
		case "timeUnixNano":
			ts, _ = d.digits()
		case "observedTimeUnixNano":
			observed, _ = d.digits()
		case "severityNumber":
			if d.next() == '"' {
				d.fail() // a name: pdata's rules apply
				return
			}
			if sev, _ = d.digits(); sev > 24 {
				d.fail()
			}
		case "severityText", "eventName":
			d.str()
		case "body":
			var simple bool
			if body, simple = d.value("", nil); !simple {
				d.fail() // a kvlist body: pdata's text of it
			}
		case "attributes":
			d.attributes("", &d.recKV)
		case "traceId":
			tid = d.id(16)
		case "spanId":
			sid = d.id(8)
		case "flags", "droppedAttributesCount":
			if v, _ := d.digits(); v > 1<<32-1 {
				d.fail()
			}
		default:
			d.fail()
		}
	})
	if d.bad {
		return
	}
	var e runlog.LogEntry
	ent := resource.Entry{LogEntry: &e, Convention: d.conv}
	for _, kv := range d.resKV {
		ent.Set(kv[0], kv[1])
	}
	for _, kv := range d.recKV {
		ent.Set(kv[0], kv[1])
	}
	e.Message = body
	e.Name = scope
	e.Level = runlog.Level(sev)
	if ts == 0 {
		ts = observed
	}
	if ts > 1<<63-1 {
		d.fail()
		return
	}
	e.Time = time.Unix(0, int64(ts)).UTC()
	e.TraceID, e.SpanID = tid, sid
	ent.Finish() // last: a foreign record's id is derived from all of it
	if len(*out) == cap(*out) {
		// Entries are large: doubling, not append's 1.25x.
		*out = slices.Grow(*out, max(len(*out), 64))
	}
	*out = append(*out, e)
}

// id reads a hex trace or span id of n bytes ("" when absent or all
// zero), in the lower case decodeLine gives.
func (d *scanner) id(n int) string {
	s := d.str()
	if d.bad || s == "" {
		return ""
	}
	var buf [16]byte
	if len(s) != 2*n {
		d.fail()
		return ""
	}
	if _, err := hex.Decode(buf[:n], []byte(s)); err != nil {
		d.fail()
		return ""
	}
	if buf == ([16]byte{}) {
		return ""
	}
	return hex.EncodeToString(buf[:n])
}

// attributes reads a list of key-value pairs into kvs, nested kvlists
// flattened with dotted keys as flatten does.
func (d *scanner) attributes(prefix string, kvs *[][2]string) {
	d.array(func() {
		var (
			key      string
			sawKey   bool
			mark     = len(*kvs)
			val      string
			simple   bool
			valStart = -1
		)
		d.object(func(k []byte) {
			switch string(k) {
			case "key":
				key, sawKey = d.key(), true
			case "value":
				valStart = d.i
				val, simple = d.value(prefix, nil)
				if !simple {
					// A kvlist: read again once the key is known.
					d.i = valStart
					d.skipKV()
				}
			default:
				d.fail()
			}
		})
		if d.bad || !sawKey {
			d.fail()
			return
		}
		if valStart < 0 {
			*kvs = append(*kvs, [2]string{prefix + key, ""})
			return
		}
		if simple {
			*kvs = append((*kvs)[:mark], [2]string{prefix + key, val})
			return
		}
		end := d.i
		d.i = valStart
		d.value(prefix+key+".", kvs)
		d.i = end
	})
}

// skipKV moves past the value object at d.i (a kvlist the first pass did
// not read).
func (d *scanner) skipKV() {
	var sink [][2]string
	d.value("", &sink)
}

// value reads an AnyValue as decodeLine's text: a string as is, an int in
// decimal, a bool as true or false, an empty value as "". A kvlist is
// flattened into kvs under prefix when kvs is given, and reported as not
// simple otherwise; any other kind fails (pdata's rules apply).
func (d *scanner) value(prefix string, kvs *[][2]string) (string, bool) {
	var (
		s      string
		simple = true
		n      int
	)
	d.object(func(k []byte) {
		n++
		if n > 1 {
			d.fail() // two kinds in one value: pdata decides
			return
		}
		switch string(k) {
		case "stringValue":
			s = d.str()
		case "intValue":
			neg := d.next() == '"' && d.i+1 < len(d.b) && d.b[d.i+1] == '-' ||
				d.next() == '-'
			if neg {
				d.fail() // negative ints: left to pdata
				return
			}
			v, _ := d.digits()
			if v > 1<<63-1 {
				d.fail()
				return
			}
			s = strconv.FormatUint(v, 10)
		case "boolValue":
			switch {
			case d.lit("true"):
				s = "true"
			case d.lit("false"):
				s = "false"
			default:
				d.fail()
			}
		case "kvlistValue":
			simple = false
			if kvs == nil {
				d.skipObject()
				return
			}
			d.object(func(k []byte) {
				if string(k) != "values" {
					d.fail()
					return
				}
				d.attributes(prefix, kvs)
			})
		default:
			d.fail()
		}
	})
	return s, simple
}

// skipObject moves past a kvlist's object without keeping it.
func (d *scanner) skipObject() {
	var sink [][2]string
	d.object(func(k []byte) {
		if string(k) != "values" {
			d.fail()
			return
		}
		d.attributes("", &sink)
	})
}

func (d *scanner) lit(word string) bool {
	d.ws()
	if len(d.b)-d.i >= len(word) && string(d.b[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
}
