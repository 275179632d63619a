package serve_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/runlog/runlog/serve"
)

// TestOpenAPIRoutes: every route the handler serves is described, and
// every described operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	spec := serve.OpenAPI()
	if v := spec["openapi"]; v != "3.1.0" {
		t.Errorf("openapi %v; want 3.1.0", v)
	}
	var described []string
	for path, ops := range spec["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	served := serve.Routes()
	slices.Sort(described)
	slices.Sort(served)
	if !slices.Equal(described, served) {
		t.Errorf("routes served:\n  %s\ndescribed in openapi.json:\n  %s", strings.Join(served, "\n  "), strings.Join(described, "\n  "))
	}
}

// TestOpenAPIExamples: the example answers of openapi.json validate
// against their schemas.
func TestOpenAPIExamples(t *testing.T) {
	spec := serve.OpenAPI()
	n := 0
	for path, ops := range spec["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			for status, resp := range op.(map[string]any)["responses"].(map[string]any) {
				content, _ := resp.(map[string]any)["content"].(map[string]any)
				for _, c := range content {
					c := c.(map[string]any)
					ex, ok := c["example"]
					if !ok {
						continue
					}
					ref, _ := c["schema"].(map[string]any)["$ref"].(string)
					name := strings.TrimPrefix(ref, "#/components/schemas/")
					if err := serve.Validate(name, ex); err != nil {
						t.Errorf("%s %s %s: example: %v", method, path, status, err)
					}
					n++
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("%d examples checked; want the answers of runs, steps, logs and delete", n)
	}
	// The validator rejects what it should, or the test above proves nothing.
	var bad any
	json.Unmarshal([]byte(`{"items":[{"message":"x"}],"after":"","before":"","more":false}`), &bad)
	if serve.Validate("LogPage", bad) == nil {
		t.Error("an entry without its required fields validates")
	}
}
