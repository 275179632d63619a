package storetest_test

import (
	"log/slog"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/storetest"
)

// The whole of a store's conformance test: build the store so that it
// keeps DEBUG records, and hand it to Run. This one is the embedded local
// store; use your own.
func ExampleRun() {
	testConformance := func(t *testing.T) {
		store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{
			MinLevel: runlog.LevelDebug,
			Console:  slog.DiscardHandler,
		})
		if err != nil {
			t.Fatal(err)
		}
		storetest.Run(t, storetest.Harness{
			Store:   store,
			Timeout: 5e9,                              // records are visible at once here
			Skip:    []string{"SomeCheckIDoNotClaim"}, // reported as skipped
		})
	}
	_ = testConformance // in your code: func TestConformance(t *testing.T) { ... }
}
