package otelstore

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// RepairUTF8 replaces the invalid UTF-8 in r's body and attributes with
// U+FFFD, as the prepare stage does for otelstore's own records: one bad
// string makes OTLP/protobuf reject the whole batch it is in. It is for
// processors in other pipelines (package attach), on records that are
// not otelstore's.
func RepairUTF8(r *sdklog.Record) {
	repairAttributes(r)
	if body := r.Body(); body.Type() == attribute.STRING && !utf8.ValidString(body.AsString()) {
		r.SetBody(attribute.StringValue(strings.ToValidUTF8(body.AsString(), "\uFFFD")))
	}
}
