//go:build race

package serve_test

// bigLines is the length of the long step of TestBrowser under the race
// detector: 200,000 lines. With 1,000,000 the race detector makes the
// test take over 2 minutes on 2 cores (measured: writing 29 s, the steps
// listing's read of the run 40 s, the local store's backward read of the
// last page 33 s), so make test (-race) checks the same behaviour on a
// fifth of it, and go test without -race on the whole million.
func bigLines() int { return 200000 }
