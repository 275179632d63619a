package storetest_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

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

// With Harness.New, each check gets a store of its own, made with the
// check's subtest, as slogtest.Run makes a handler per case.
func ExampleRun_newStorePerCheck() {
	// snippet:harness-new
	testConformance := func(t *testing.T) {
		storetest.Run(t, storetest.Harness{New: func(t *testing.T) runlog.LogStore {
			store, err := flavors.NewLocal(t.TempDir(), false, otelstore.Options{
				MinLevel: runlog.LevelDebug,
				Console:  slog.DiscardHandler,
			})
			if err != nil {
				t.Fatal(err)
			}
			return store // its directory is removed when the check ends
		}})
	}
	// end snippet
	_ = testConformance // in your code: func TestConformance(t *testing.T) { ... }
}

// Outside a test, for instance to vet a deployed store from a command,
// TestStore returns the failed checks as one error.
func ExampleTestStore() {
	vet := func(ctx context.Context, store runlog.LogStore) {
		if err := storetest.TestStore(ctx, storetest.Harness{Store: store, Timeout: time.Minute}); err != nil {
			// One line per failure, naming its check, such as
			// storetest: RoundTrip: entry "hello": StepID = ""; want "train"
			// Each failed check is a *storetest.CheckError in the errors.Join.
			fmt.Println(err)
		}
	}
	_ = vet
}
