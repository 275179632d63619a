package resource

import (
	"slices"
	"strings"

	"github.com/runlog/runlog"
)

// Convention names the attributes with which writers say which run, step
// and source a record belongs to, and where they put them. runlog writes
// the cicd convention; a store's readers are told which convention its
// writers follow, so that records runlog did not write — another
// OpenTelemetry SDK, a service a step called, ZenML's OTel log store — are
// found by Fetch and fill the same LogEntry fields.
//
// Readers map a convention's attributes wherever they find them, in the
// resource or in the record; Where says where writers may put them, which
// decides how a backend is asked (a VictoriaLogs stream filter finds
// resource attributes only, a field filter both). Attributes of a
// convention that a Fetch does not match on (StepName, Attempt) are only
// mapped.
//
// The zero Convention is [CICD]. Conventions are values: compare them
// with ==.
type Convention struct {
	// Name selects the convention in a store's configuration (the flavor
	// key convention).
	Name string
	// RunID, StepID and Source name the attributes that fill
	// LogEntry.RunID, StepID and Source and that Fetch matches the query's
	// against. RunID is required; an empty StepID or Source means the
	// writers do not say.
	RunID, StepID, Source string
	// StepName names the attribute with the step's human-readable name; it
	// stays in LogEntry.Attributes.
	StepName string
	// Attempt names the attribute that fills LogEntry.Attempt.
	Attempt string
	// Stream names the attribute that identifies one writer's stream of a
	// step's records — what an activation is to runlog; it fills
	// LogEntry.ActivationID.
	Stream string
	// Where says where writers put the attributes above.
	Where Place
	// ServiceName is the service.name every writer of the convention sets,
	// empty when writers set their own: a backend that must select streams
	// by service (Loki) selects this one when no services are configured.
	ServiceName string
}

// Place says where a convention's attributes may be: in the resource, in
// each record's attributes, or (both bits) either.
type Place uint8

const (
	InResource Place = 1 << iota
	InRecord
)

func (p Place) String() string {
	switch p {
	case InResource:
		return "resource"
	case InRecord:
		return "record"
	case InResource | InRecord:
		return "resource or record"
	}
	return "nowhere"
}

// The built-in conventions. They are returned by value ([CICD],
// [ConventionNamed]) so that no caller can change them for another.
var (
	cicd = Convention{
		Name:  "cicd",
		RunID: RunID, StepID: StepID, Source: Source,
		StepName: TaskName, Attempt: Attempt, Stream: ActivationID,
		// runlog puts them in the resource; a service's own provider
		// (with an attaching processor) and other SDKs may put them on
		// each record.
		Where: InResource | InRecord,
	}
	// zenml is what ZenML's OTel log store writes: its origin's metadata,
	// prefixed "zenml.", as attributes of every record, and a resource
	// with only service.name (its service_name setting, "zenml" by
	// default) and service.version. zenml.log.id is the id of the step's
	// (or run's) logs object for one source — one id per stream of
	// records, not per record.
	zenml = Convention{
		Name:  "zenml",
		RunID: "zenml.pipeline.run.id", StepID: "zenml.step.run.id", Source: "zenml.log.source",
		StepName: "zenml.step.run.name", Stream: "zenml.log.id",
		Where:       InRecord,
		ServiceName: "zenml",
	}
	builtin = []*Convention{&cicd, &zenml}
)

// CICD returns the default convention: the OpenTelemetry CI/CD semantic
// conventions (cicd.pipeline.run.id, cicd.pipeline.task.run.id,
// cicd.pipeline.task.name) with runlog.source, runlog.attempt and
// runlog.activation.id, in the resource or on the record.
func CICD() Convention { return cicd }

// ConventionNamed returns the built-in convention of that name; the empty
// name is [CICD]. An unknown name is an ErrInvalid error that lists the
// known ones.
func ConventionNamed(name string) (Convention, error) {
	if name == "" {
		return cicd, nil
	}
	for _, c := range builtin {
		if c.Name == name {
			return *c, nil
		}
	}
	return Convention{}, runlog.Invalidf("unknown attribute convention %q; known: %s", name, strings.Join(ConventionNames(), ", "))
}

// ConventionNames returns the names of the built-in conventions, sorted.
func ConventionNames() []string {
	names := make([]string, len(builtin))
	for i, c := range builtin {
		names[i] = c.Name
	}
	slices.Sort(names)
	return names
}

// OrDefault returns c, or [CICD] for the zero Convention.
func (c Convention) OrDefault() Convention {
	if c == (Convention{}) {
		return cicd
	}
	return c
}

// IsCICD reports whether c is the default convention (or the zero one).
func (c Convention) IsCICD() bool { return c.OrDefault() == cicd }

// Validate reports a convention that cannot select records: no RunID
// attribute, or nowhere to look.
func (c Convention) Validate() error {
	if c.RunID == "" {
		return runlog.Invalidf("attribute convention %q names no run id attribute", c.Name)
	}
	if c.Where&(InResource|InRecord) == 0 {
		return runlog.Invalidf("attribute convention %q says neither resource nor record", c.Name)
	}
	return nil
}

// ReaderOf returns what an [Entry] needs of c to map attributes: nil for
// the default convention, whose names Set knows as constants (the fast
// path). Readers compute it once and set it on every Entry.
func ReaderOf(c Convention) *Convention {
	if c.IsCICD() {
		return nil
	}
	return &c
}
