// Package resource defines, in one place, the attribute names runlog writes
// and reads, builds the OpenTelemetry resource of an activation, and maps
// stored attributes back to the fields of a runlog.LogEntry.
//
// Names follow the OpenTelemetry semantic conventions where they exist
// (cicd.pipeline.*, service.name, code.*, exception.*, log.record.uid); the
// rest live under one runlog.* namespace. Backends that cannot store dots
// (Loki) turn them into underscores; [FromLoki] maps them back.
//
// Which attributes say a record's run, step and source is a [Convention]:
// [CICD], what runlog writes, by default, or another writer's, such as
// ZenML's ([ConventionNamed]); readers map by it wherever the attributes
// are, in the resource or on the record.
package resource

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog"
)

// Resource attributes: what an activation's records belong to.
const (
	RunID        = "cicd.pipeline.run.id"
	StepID       = "cicd.pipeline.task.run.id"
	PipelineName = "cicd.pipeline.name"
	TaskName     = "cicd.pipeline.task.name"
	ServiceName  = "service.name"
	Source       = "runlog.source"
	Attempt      = "runlog.attempt"
	ActivationID = "runlog.activation.id"
)

// Record attributes.
const (
	// Sequence numbers an activation's records from 1 in logging order.
	Sequence = "runlog.sequence"
	// RecordUID is the id chunks of one message share (semantic convention
	// log.record.uid). Records that were not chunked do not carry it: their
	// id is the activation id and the sequence.
	RecordUID  = "log.record.uid"
	ChunkIndex = "runlog.chunk.index"
	ChunkTotal = "runlog.chunk.total"

	// Stream says which output of a captured program a line came from:
	// "stdout" or "stderr" (package capture, `runlog exec`).
	Stream = "runlog.stream"
	// ExitCode, ExitCause and ExitSignal are on the last record of a
	// captured program: its exit status (126 not executable, 127 not
	// found, 128+N killed by signal N, as shells report it), the cause
	// (runlog.CauseOK, CauseError, CauseSignal) and the signal's name.
	ExitCode   = "runlog.exit.code"
	ExitCause  = "runlog.exit.cause"
	ExitSignal = "runlog.exit.signal"
	// LineContinues marks a record holding a piece of a captured line
	// longer than the bound: the next record of the same stream continues
	// it.
	LineContinues = "runlog.line.continues"

	CodeFilePath     = "code.file.path"
	CodeLineNumber   = "code.line.number"
	CodeFunctionName = "code.function.name"
	ExceptionMessage = "exception.message"
	ExceptionType    = "exception.type"
)

// DefaultServiceName is the service.name of activations that set none.
const DefaultServiceName = "runlog"

// New returns the resource of an activation of scope s with the given
// activation id. Later sources win: DefaultServiceName as service.name, the
// store's attributes (extra), then ScopeAttributes.
func New(s runlog.Scope, activationID string, extra map[string]string) *sdkresource.Resource {
	attrs := make([]attribute.KeyValue, 0, 1+len(extra)+len(s.Attributes)+5)
	attrs = append(attrs, attribute.String(ServiceName, DefaultServiceName))
	for k, v := range extra {
		attrs = append(attrs, attribute.String(k, v))
	}
	// NewSchemaless keeps the last value of a duplicated key.
	return sdkresource.NewSchemaless(AppendScope(attrs, s, activationID)...)
}

// AppendScope appends the attributes that say which activation a record
// belongs to, to attrs: the scope's Attributes, then runlog's own keys
// (run, source, attempt, activation id, step), which win over a scope
// attribute of the same name. They are an activation's resource (New), or
// each record's attributes when the record goes through a provider that
// is not runlog's (otelstore/attach).
func AppendScope(attrs []attribute.KeyValue, s runlog.Scope, activationID string) []attribute.KeyValue {
	for k, v := range s.Attributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	attrs = append(attrs,
		attribute.String(RunID, s.RunID),
		attribute.String(Source, s.SourceOrDefault()),
		attribute.Int(Attempt, s.Attempt),
		attribute.String(ActivationID, activationID),
	)
	if s.StepID != "" {
		attrs = append(attrs, attribute.String(StepID, s.StepID))
	}
	return attrs
}

// Entry accumulates stored attributes into a LogEntry. Readers call Set for
// every resource and record attribute, then Finish once the entry's other
// fields (time, message, level) are set.
type Entry struct {
	*runlog.LogEntry
	// Convention, when not nil, names the attributes that fill RunID,
	// StepID, Source, Attempt and ActivationID (see [ReaderOf]); nil is
	// [CICD].
	Convention *Convention
	uid        string
}

// Set maps one attribute (dotted name, value as text) onto e: known keys
// fill LogEntry fields, others go to Attributes. Where the attribute was,
// resource or record, does not matter: a record's own attributes are set
// after its resource's and win.
func (e *Entry) Set(key, value string) {
	if c := e.Convention; c != nil && key != "" {
		switch key {
		case c.RunID:
			e.RunID = value
			return
		case c.StepID:
			e.StepID = value
			return
		case c.Source:
			e.Source = value
			return
		case c.Attempt:
			e.Attempt, _ = strconv.Atoi(value)
			return
		case c.Stream:
			e.ActivationID = value
			return
		case RunID, StepID, Source, Attempt:
			// The default convention's names are plain attributes here.
			e.setAttr(key, value)
			return
		}
	}
	switch key {
	case RunID:
		e.RunID = value
	case StepID:
		e.StepID = value
	case Source:
		e.Source = value
	case Attempt:
		e.Attempt, _ = strconv.Atoi(value)
	case ActivationID:
		e.ActivationID = value
	case Sequence:
		e.Sequence, _ = strconv.ParseUint(value, 10, 64)
	case RecordUID:
		e.uid = value
	case ChunkIndex:
		e.ChunkIndex, _ = strconv.Atoi(value)
	case ChunkTotal:
		e.TotalChunks, _ = strconv.Atoi(value)
	case CodeFilePath, CodeLineNumber, CodeFunctionName:
		if value == "" || value == "0" {
			return // a record without a source location
		}
		e.setCode(key, value)
	default:
		e.setAttr(key, value)
	}
}

func (e *Entry) setCode(key, value string) {
	switch key {
	case CodeFilePath:
		e.Filename = value
	case CodeLineNumber:
		e.Lineno, _ = strconv.Atoi(value)
	case CodeFunctionName:
		e.Module = ModuleOf(value)
		e.setAttr(key, value)
	}
}

func (e *Entry) setAttr(key, value string) {
	if e.Attributes == nil {
		e.Attributes = make(map[string]string)
	}
	e.Attributes[key] = value
}

// Finish derives the fields that depend on several attributes: the id and
// the chunk count. A record with neither a record uid nor runlog's
// sequence (one runlog did not write) gets an id derived from its content,
// so that two records of the same time stay two, on every page.
func (e *Entry) Finish() {
	// service.name only routes runlog's own records; another writer's
	// says which service of the run logged it.
	if e.Attributes[ServiceName] == DefaultServiceName {
		delete(e.Attributes, ServiceName)
	}
	switch {
	case e.uid != "":
		e.ID = e.uid
	case e.ActivationID != "" && e.Sequence > 0:
		e.ID = e.ActivationID + "-" + strconv.FormatUint(e.Sequence, 10)
	default:
		e.ID = contentID(e.LogEntry)
	}
	if e.TotalChunks < 1 {
		e.TotalChunks = 1
	}
}

// contentID is the id of a record without one: "c" and 16 hex digits of
// an FNV-1a hash of its time, level, logger, message, trace context and
// attributes (sorted). Records equal in all of these are one record.
func contentID(e *runlog.LogEntry) string {
	h := fnv.New64a()
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(e.Time.UnixNano()))
	h.Write(n[:])
	binary.LittleEndian.PutUint64(n[:], uint64(e.Level))
	h.Write(n[:])
	for _, s := range []string{e.Name, e.Message, e.TraceID, e.SpanID, e.RunID, e.StepID, e.Source, e.ActivationID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, len(e.Attributes))
	for k := range e.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(e.Attributes[k]))
		h.Write([]byte{0})
	}
	return "c" + hex.EncodeToString(h.Sum(nil))
}

// ModuleOf returns the package path of a fully qualified Go function name:
// "github.com/a/b.(*T).Run" gives "github.com/a/b", "main.step" gives "main".
func ModuleOf(function string) string {
	slash := strings.LastIndexByte(function, '/')
	if dot := strings.IndexByte(function[slash+1:], '.'); dot >= 0 {
		return function[:slash+1+dot]
	}
	return function
}

// Loki returns the name Loki's OTLP ingestion gives an attribute, as
// Prometheus' label namer does: every run of characters outside
// [A-Za-z0-9] becomes one underscore, and a leading digit gets "key_".
// Nested maps (slog groups) are joined with "_".
func Loki(key string) string {
	var b strings.Builder
	under := false
	for _, r := range key {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "key_" + s
	}
	return s
}

var fromLoki = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{RunID, StepID, PipelineName, TaskName, ServiceName, Source, Attempt, ActivationID,
		Sequence, RecordUID, ChunkIndex, ChunkTotal, CodeFilePath, CodeLineNumber, CodeFunctionName,
		ExceptionMessage, ExceptionType, End, EndCount, EndDropped, EndCause, EndRedacted, EndRejected, EndResult,
		Stream, ExitCode, ExitCause, ExitSignal, LineContinues} {
		m[Loki(k)] = k
	}
	return m
}()

// FromLoki maps a Loki label or structured-metadata name back to runlog's
// dotted name when it is one of runlog's keys, else returns it unchanged.
func FromLoki(name string) string {
	if k, ok := fromLoki[name]; ok {
		return k
	}
	return name
}
