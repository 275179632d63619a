package loki

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// decodeStreams reads the answer of a log query_range (categorize-labels
// encoding) and calls fn for each value in the order they appear, with its
// structured metadata as key/value pairs (the slice is reused between
// calls), preceded by its stream's service_name label as "service.name"
// (a run spans services: entries say which one logged). It is a scanner for this one shape, several times faster than
// encoding/json with intermediate maps, which dominated a large fetch;
// strings with escapes are handed to encoding/json, so JSON's rules apply.
func decodeStreams(b []byte, fn func(ts int64, line string, meta [][2]string)) error {
	d := decoder{b: b}
	var meta [][2]string
	err := d.object(func(key string) error {
		if key != "data" {
			return d.skip()
		}
		return d.object(func(key string) error {
			if key != "result" {
				return d.skip()
			}
			return d.array(func() error {
				service := "" // the stream's service_name label
				return d.object(func(key string) error {
					if key == "stream" {
						return d.object(func(k string) error {
							v, err := d.str()
							if k == "service_name" {
								service = v
							}
							return err
						})
					}
					if key != "values" {
						return d.skip()
					}
					return d.array(func() error {
						var (
							ts   int64
							line string
							n    int
						)
						meta = meta[:0]
						if service != "" {
							// First: structured metadata of the same name wins.
							meta = append(meta, [2]string{"service.name", service})
						}
						err := d.array(func() error {
							defer func() { n++ }()
							switch n {
							case 0:
								s, err := d.str()
								if err != nil {
									return err
								}
								ts, err = strconv.ParseInt(s, 10, 64)
								return err
							case 1:
								var err error
								line, err = d.str()
								return err
							case 2:
								return d.object(func(key string) error {
									if key != "structuredMetadata" {
										return d.skip()
									}
									return d.object(func(k string) error {
										v, err := d.str()
										meta = append(meta, [2]string{k, v})
										return err
									})
								})
							}
							return d.skip()
						})
						if err != nil {
							return err
						}
						if n < 2 {
							return fmt.Errorf("log value has %d fields; want [ts, line, metadata]", n)
						}
						fn(ts, line, meta)
						return nil
					})
				})
			})
		})
	})
	if err != nil {
		return fmt.Errorf("decode Loki answer at byte %d: %w", d.i, err)
	}
	return nil
}

type decoder struct {
	b []byte
	i int
}

var errSyntax = errors.New("unexpected JSON")

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return errSyntax
	}
	d.i++
	return nil
}

// object calls fn for each key, positioned at its value; fn must consume it.
func (d *decoder) object(fn func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		k, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// array calls fn for each element; fn must consume it.
func (d *decoder) array(fn func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (d *decoder) str() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start, escaped := d.i, false
	for ; d.i < len(d.b); d.i++ {
		switch d.b[d.i] {
		case '\\':
			escaped = true
			d.i++
		case '"':
			raw := d.b[start:d.i]
			d.i++
			if !escaped && utf8.Valid(raw) {
				return string(raw), nil
			}
			// Escapes, or invalid UTF-8, which JSON's rules replace.
			var s string
			err := json.Unmarshal(d.b[start-1:d.i], &s)
			return s, err
		}
	}
	return "", errSyntax
}

// skip consumes any value.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func(string) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, err := d.str()
		return err
	case c == 0:
		return errSyntax
	default:
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case ',', '}', ']', ' ', '\n', '\t', '\r':
				return nil
			}
			d.i++
		}
		return nil
	}
}
