package serve

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Routes returns "METHOD PATH" of every route the handler serves.
func Routes() []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// OpenAPI returns the embedded description, decoded.
func OpenAPI() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(openapiJSON, &m); err != nil {
		panic(err)
	}
	return m
}

// Validate checks the JSON value v against the named schema of
// components/schemas: types, required fields, enums, items and
// properties, following $ref. Enough to catch an answer drifting from
// its description; not a full JSON Schema validator.
func Validate(schema string, v any) error {
	spec := OpenAPI()
	return validate(spec, map[string]any{"$ref": "#/components/schemas/" + schema}, v, "$")
}

func validate(spec, s map[string]any, v any, path string) error {
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		sub, ok := spec["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no schema %s", path, r)
		}
		return validate(spec, sub, v, path)
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, x.(string))
		}
	}
	if len(types) > 0 && !slices.Contains(types, typeOf(v)) && !(typeOf(v) == "integer" && slices.Contains(types, "number")) {
		return fmt.Errorf("%s: %s, want %v", path, typeOf(v), types)
	}
	if e, ok := s["enum"].([]any); ok && !slices.Contains(e, v) {
		return fmt.Errorf("%s: %v is not one of %v", path, v, e)
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range asList(s["required"]) {
			if _, ok := v[r]; !ok {
				return fmt.Errorf("%s: required %q missing", path, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, x := range v {
			if ps, ok := props[k].(map[string]any); ok {
				if err := validate(spec, ps, x, path+"."+k); err != nil {
					return err
				}
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				if err := validate(spec, ap, x, path+"."+k); err != nil {
					return err
				}
			} else if props != nil {
				return fmt.Errorf("%s: property %q is not described", path, k)
			}
		}
	case []any:
		if is, ok := s["items"].(map[string]any); ok {
			for i, x := range v {
				if err := validate(spec, is, x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

func typeOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}
