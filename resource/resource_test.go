package resource

import "testing"

func TestLoki(t *testing.T) {
	for in, want := range map[string]string{
		"cicd.pipeline.run.id": "cicd_pipeline_run_id",
		"a__b":                 "a_b",
		"a._b":                 "a_b",
		"9lives":               "key_9lives",
		"日本.x":                 "_x",
		"service.name":         "service_name",
	} {
		if got := Loki(in); got != want {
			t.Errorf("Loki(%q) = %q; want %q", in, got, want)
		}
	}
	if FromLoki("runlog_sequence") != Sequence || FromLoki("user_key") != "user_key" {
		t.Error("FromLoki")
	}
}

func TestModuleOf(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/a/b.(*T).Run": "github.com/a/b",
		"main.step":               "main",
		"main.pipeline.func2":     "main",
		"github.com/a/b.c/d.F":    "github.com/a/b.c/d",
		"noPackage":               "noPackage",
	} {
		if got := ModuleOf(in); got != want {
			t.Errorf("ModuleOf(%q) = %q; want %q", in, got, want)
		}
	}
}
