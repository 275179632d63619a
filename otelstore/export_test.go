package otelstore

import "fmt"

// TypeName exposes %T for the tests of package otelstore_test.
func TypeName(v any) string { return fmt.Sprintf("%T", v) }
