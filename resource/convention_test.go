package resource

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
)

func TestConventionNamed(t *testing.T) {
	for _, name := range []string{"", "cicd"} {
		c, err := ConventionNamed(name)
		if err != nil || c != CICD() || !c.IsCICD() {
			t.Errorf("ConventionNamed(%q) = %+v, %v; want cicd", name, c, err)
		}
	}
	z, err := ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	if z.RunID != "zenml.pipeline.run.id" || z.StepID != "zenml.step.run.id" || z.Source != "zenml.log.source" ||
		z.Stream != "zenml.log.id" || z.Where != InRecord || z.ServiceName != "zenml" || z.IsCICD() {
		t.Errorf("zenml = %+v", z)
	}
	_, err = ConventionNamed("ZenML ")
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "known: cicd, zenml") {
		t.Errorf("unknown convention: %v; want ErrInvalid listing cicd, zenml", err)
	}
	if (Convention{}).OrDefault() != CICD() || !(Convention{}).IsCICD() {
		t.Error("the zero Convention is not cicd")
	}
	if ReaderOf(CICD()) != nil || ReaderOf(Convention{}) != nil || ReaderOf(z) == nil {
		t.Error("ReaderOf: the default convention takes the fast path, others do not")
	}
	for _, c := range []Convention{CICD(), z} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
	if err := (Convention{Name: "x", Where: InRecord}).Validate(); !errors.Is(err, runlog.ErrInvalid) {
		t.Errorf("a convention without a run id: %v", err)
	}
}

// entry maps kvs as a reader does, by convention c (nil: cicd).
func entry(c *Convention, kvs ...string) runlog.LogEntry {
	e := runlog.LogEntry{Message: "m", Time: time.Unix(5, 0)}
	ent := Entry{LogEntry: &e, Convention: c}
	for i := 0; i+1 < len(kvs); i += 2 {
		ent.Set(kvs[i], kvs[i+1])
	}
	ent.Finish()
	return e
}

// TestEntryByConvention: the convention's attributes fill the entry's run,
// step, source, attempt and activation wherever they were; under another
// convention cicd's names are plain attributes; a record without a
// runlog id gets a content id.
func TestEntryByConvention(t *testing.T) {
	// Resource then record: the record's attribute wins.
	e := entry(nil, RunID, "r", ServiceName, "node", StepID, "s", Source, "step", Attempt, "2", "pages", "3")
	if e.RunID != "r" || e.StepID != "s" || e.Source != "step" || e.Attempt != 2 || e.Attributes["service.name"] != "node" || e.Attributes["pages"] != "3" {
		t.Errorf("cicd entry = %+v", e)
	}
	if !strings.HasPrefix(e.ID, "c") || len(e.ID) != 17 {
		t.Errorf("foreign id %q; want c and 16 hex digits", e.ID)
	}
	if own := entry(nil, RunID, "r", ServiceName, DefaultServiceName, ActivationID, "a1", Sequence, "7"); own.ID != "a1-7" || own.Attributes[ServiceName] != "" {
		t.Errorf("runlog's entry: id %q, attributes %v", own.ID, own.Attributes)
	}
	z, _ := ConventionNamed("zenml")
	zc := ReaderOf(z)
	e = entry(zc, ServiceName, "zenml", "zenml.pipeline.run.id", "r", "zenml.step.run.id", "s", "zenml.log.source", "step",
		"zenml.log.id", "L", "zenml.step.run.name", "trainer", RunID, "not-this", CodeLineNumber, "42")
	if e.RunID != "r" || e.StepID != "s" || e.Source != "step" || e.ActivationID != "L" || e.Lineno != 42 ||
		e.Attributes["zenml.step.run.name"] != "trainer" || e.Attributes[RunID] != "not-this" {
		t.Errorf("zenml entry = %+v", e)
	}
	if e.ID == "L-0" || !strings.HasPrefix(e.ID, "c") {
		t.Errorf("zenml entry id %q: one id per stream would merge its records", e.ID)
	}
	// Content ids: the same record the same id, any difference another.
	a := entry(nil, RunID, "r", "k", "v")
	if b := entry(nil, "k", "v", RunID, "r"); a.ID != b.ID {
		t.Errorf("ids of one record differ: %s, %s", a.ID, b.ID)
	}
	if b := entry(nil, RunID, "r", "k", "w"); a.ID == b.ID {
		t.Error("records differing in an attribute share an id")
	}
}

// FuzzContentID: records that differ in message or an attribute get
// different ids, and one record always the same.
func FuzzContentID(f *testing.F) {
	f.Add("m", "k", "v", "v2")
	f.Add("", "", "", "x")
	f.Fuzz(func(t *testing.T, msg, k, v, v2 string) {
		mk := func(msg, v string) string {
			e := runlog.LogEntry{Message: msg, Time: time.Unix(1, 2), Attributes: map[string]string{k: v}}
			return contentID(&e)
		}
		if mk(msg, v) != mk(msg, v) {
			t.Fatal("one record, two ids")
		}
		if v != v2 && mk(msg, v) == mk(msg, v2) {
			t.Fatalf("attribute %q=%q and =%q: one id", k, v, v2)
		}
		if mk(msg, v) == mk(msg+"x", v) {
			t.Fatalf("messages %q and %q: one id", msg, msg+"x")
		}
	})
}
