package otelstore

import (
	"os"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Redact says which secrets are replaced by [RedactedText] in every
// record's message and string attributes before the record leaves the
// process (exported, spooled or written to a file). The replacement is
// made by the activation's worker, off the logging goroutine, before long
// messages are split, so that a secret is never cut in two. The end
// marker counts the records that had something replaced
// (runlog.end.redacted).
//
// A value shorter than MinSecretLen bytes is ignored: replacing every
// "ab" would make the logs unreadable and protects nothing.
type Redact struct {
	// Values are secrets given literally, such as a token.
	Values []string
	// Env names environment variables whose values are secrets, read when
	// the store is made.
	Env []string
	// Patterns match secrets by shape, such as `ghp_[A-Za-z0-9]{36}`; the
	// whole match is replaced.
	Patterns []*regexp.Regexp
}

// RedactedText replaces a secret.
const RedactedText = "****"

// MinSecretLen is the shortest value Redact replaces.
const MinSecretLen = 4

// redactor applies a Redact; nil redacts nothing.
type redactor struct {
	values   []string // longest first, so that a secret containing another goes whole
	patterns []*regexp.Regexp
}

func newRedactor(r Redact) *redactor {
	var vals []string
	add := func(v string) {
		if len(v) >= MinSecretLen && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	for _, v := range r.Values {
		add(v)
	}
	for _, name := range r.Env {
		add(os.Getenv(name))
	}
	if len(vals) == 0 && len(r.Patterns) == 0 {
		return nil
	}
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	return &redactor{values: vals, patterns: r.Patterns}
}

// redact returns s with every secret replaced, and whether one was.
func (x *redactor) redact(s string) (string, bool) {
	changed := false
	for _, v := range x.values {
		if strings.Contains(s, v) {
			s, changed = strings.ReplaceAll(s, v, RedactedText), true
		}
	}
	for _, p := range x.patterns {
		if p.MatchString(s) {
			s, changed = p.ReplaceAllLiteralString(s, RedactedText), true
		}
	}
	return s, changed
}

// record redacts r's body and string attributes in place and reports
// whether anything was replaced.
func (x *redactor) record(r *sdklog.Record) bool {
	changed := false
	if b := r.Body(); b.Type() == attribute.STRING {
		if s, ok := x.redact(b.AsString()); ok {
			r.SetBody(attribute.StringValue(s))
			changed = true
		}
	}
	hit := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		_, hit = x.value(kv.Value)
		return !hit
	})
	if !hit {
		return changed
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv.Value, _ = x.value(kv.Value)
		attrs = append(attrs, kv)
		return true
	})
	r.SetAttributes(attrs...)
	return true
}

// value returns v with secrets replaced in its strings, nested ones
// included.
func (x *redactor) value(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		if s, ok := x.redact(v.AsString()); ok {
			return attribute.StringValue(s), true
		}
	case attribute.STRINGSLICE:
		ss, hit := v.AsStringSlice(), false
		for i := range ss {
			var ok bool
			if ss[i], ok = x.redact(ss[i]); ok {
				hit = true
			}
		}
		if hit {
			return attribute.StringSliceValue(ss), true
		}
	case attribute.MAP:
		m, hit := v.AsMap(), false
		for i := range m {
			var ok bool
			if m[i].Value, ok = x.value(m[i].Value); ok {
				hit = true
			}
		}
		if hit {
			return attribute.MapValue(m...), true
		}
	case attribute.SLICE:
		vs, hit := v.AsSlice(), false
		for i := range vs {
			var ok bool
			if vs[i], ok = x.value(vs[i]); ok {
				hit = true
			}
		}
		if hit {
			return attribute.SliceValue(vs...), true
		}
	}
	return v, false
}
