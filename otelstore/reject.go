package otelstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Rejected is the error of an export the backend refused as invalid:
// sending the same batch again cannot succeed (HTTP 400, 401, 403, 404,
// 413, ... — a 4xx other than 408 Request Timeout and 429 Too Many
// Requests). An exporter of your own wraps such errors in it; the
// otlploghttp exporter's are recognised by their text.
//
// A rejected batch is set aside, not spooled: it is counted, written to
// <SpoolDir>/<activation>.rejected for a person to look at, reported by
// Deactivate (runlog.DeliveryError.Rejected) and the end marker, and the
// records after it go on.
type Rejected struct {
	Status int // the HTTP status, 0 if unknown
	Err    error
}

func (e *Rejected) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("rejected by the backend (%d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("rejected by the backend: %v", e.Err)
}

func (e *Rejected) Unwrap() error { return e.Err }

// otlpStatus matches the error otlploghttp returns for a status it does
// not retry: "failed to send logs to URL: 400 Bad Request (body: ...)".
var otlpStatus = regexp.MustCompile(`^failed to send logs to \S+: ([1-5][0-9][0-9])\b`)

// rejected reports whether err says the batch can never be accepted.
func rejected(err error) bool {
	var r *Rejected
	if errors.As(err, &r) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if m := otlpStatus.FindStringSubmatch(e.Error()); m != nil {
			code, _ := strconv.Atoi(m[1])
			return code >= 400 && code < 500 && code != 408 && code != 429
		}
	}
	return false
}

// rejectPath is where an activation's rejected batches are set aside.
func rejectPath(dir, activationID string) string {
	return filepath.Join(dir, activationID+".rejected")
}

// setAside appends recs, as one OTLP JSON line, to path.
func setAside(path string, recs []sdklog.Record, enc *plog.JSONMarshaler) error {
	b, err := enc.MarshalLogs(toPlog(recs))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(append(b, '\n'))
	return errors.Join(werr, f.Close())
}
