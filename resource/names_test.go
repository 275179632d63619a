package resource

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// names returns the value of every string constant of this package whose
// value is an attribute name (it holds a dot), read from its sources, so
// that a key added later is checked too.
func names(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, file := range []string{"resource.go", "end.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					s, _ := strconv.Unquote(lit.Value)
					if strings.Contains(s, ".") {
						out[vs.Names[i].Name] = s
					}
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found %d attribute names; the parse missed some", len(out))
	}
	return out
}

// TestOneNamePerAttribute: every attribute name runlog writes comes back
// under the same name from a backend that renames keys (Loki's OTLP
// ingestion turns dots into underscores; FromLoki maps them back), so that
// every store returns it alike.
func TestOneNamePerAttribute(t *testing.T) {
	for name, key := range names(t) {
		if got := FromLoki(Loki(key)); got != key {
			t.Errorf("%s = %q comes back from Loki as %q; add it to fromLoki", name, key, got)
		}
	}
}
