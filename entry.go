package runlog

import (
	"cmp"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// LogEntry is one stored log record as Fetch returns it.
//
// The first ten fields are those users of pipeline frameworks know (ZenML's
// LogEntry); the rest say where the record belongs. JSON names are the
// snake_case names of those frameworks and are stable.
type LogEntry struct {
	Message string `json:"message"`
	// Name is the logger's name: the OpenTelemetry instrumentation scope.
	Name  string    `json:"name,omitempty"`
	Level Level     `json:"level"`
	Time  time.Time `json:"timestamp"`
	// Module is the package of the function that logged, when the source
	// location was recorded; Filename and Lineno locate the call.
	Module   string `json:"module,omitempty"`
	Filename string `json:"filename,omitempty"`
	Lineno   int    `json:"lineno,omitempty"`
	// A message longer than the store's limit is split into chunks that share
	// ID; ChunkIndex counts from 0 and TotalChunks is at least 1.
	ChunkIndex  int `json:"chunk_index"`
	TotalChunks int `json:"total_chunks"`
	// ID identifies the record, unique within the store.
	ID string `json:"id"`

	RunID   string `json:"run_id"`
	StepID  string `json:"step_id,omitempty"`
	Source  string `json:"source,omitempty"`
	Attempt int    `json:"attempt"`
	// ActivationID identifies the activation (one Activate) that logged
	// the record; Sequence numbers its records from 1, in the order they
	// were logged, one number per chunk.
	ActivationID string `json:"activation_id,omitempty"`
	Sequence     uint64 `json:"sequence"`
	TraceID      string `json:"trace_id,omitempty"`
	SpanID       string `json:"span_id,omitempty"`
	// Attributes are the record's attributes rendered as text, nested groups
	// flattened with "." ("req.method"). Errors logged as attributes appear as
	// "exception.message" and "exception.type".
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Compare orders entries as Fetch returns them: by timestamp, then
// sequence, then ID, then chunk index. It returns -1, 0 or +1.
func Compare(a, b *LogEntry) int {
	return cmp.Or(
		a.Time.Compare(b.Time),
		cmp.Compare(a.Sequence, b.Sequence),
		strings.Compare(a.ID, b.ID),
		cmp.Compare(a.ChunkIndex, b.ChunkIndex))
}

// Before reports whether e sorts before o in Fetch order (see Compare).
func (e *LogEntry) Before(o *LogEntry) bool { return Compare(e, o) < 0 }

// Level is a record's severity, as an OpenTelemetry severity number: 1-4
// TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL. The zero
// Level is unset; as [Query.MinLevel] it filters nothing.
type Level int

// The first level of each OpenTelemetry severity range.
const (
	LevelTrace Level = 1
	LevelDebug Level = 5
	LevelInfo  Level = 9
	LevelWarn  Level = 13
	LevelError Level = 17
	LevelFatal Level = 21
)

// slogOffset maps slog levels onto severity numbers the way the otelslog
// bridge does: slog.LevelDebug (-4) is SeverityDebug (5).
const slogOffset = int(LevelDebug) - int(slog.LevelDebug)

// LevelFromSlog returns the Level of a slog level, clamped to TRACE..FATAL4.
func LevelFromSlog(l slog.Level) Level {
	return Level(min(max(int(l)+slogOffset, 1), 24))
}

// Slog returns the slog level of l.
func (l Level) Slog() slog.Level { return slog.Level(int(l) - slogOffset) }

var levelNames = [...]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// String returns the OpenTelemetry short name: "INFO", "WARN3", ...; "UNSET"
// for the zero Level.
func (l Level) String() string {
	if l <= 0 || l > 24 {
		if l == 0 {
			return "UNSET"
		}
		return "LEVEL(" + strconv.Itoa(int(l)) + ")"
	}
	name := levelNames[(l-1)/4]
	if n := (l-1)%4 + 1; n > 1 {
		return name + strconv.Itoa(int(n))
	}
	return name
}

// MarshalText renders l as its String.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText is the inverse of MarshalText and accepts what ParseLevel does.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParseLevel reads a level name, case-insensitively: trace, debug, info,
// warn (or warning), error, fatal (or critical), optionally followed by
// 2-4 as in "INFO2", or a severity number 1-24.
func ParseLevel(s string) (Level, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 24 {
		return Level(n), nil
	}
	switch t {
	case "WARNING":
		t = "WARN"
	case "CRITICAL":
		t = "FATAL"
	}
	for i, name := range levelNames {
		rest, ok := strings.CutPrefix(t, name)
		if !ok {
			continue
		}
		n := 1
		if rest != "" {
			var err error
			if n, err = strconv.Atoi(rest); err != nil || n < 1 || n > 4 {
				break
			}
		}
		return Level(i*4 + n), nil
	}
	return 0, invalidf("unknown level %q; use one of trace, debug, info, warn, error, fatal", s)
}
