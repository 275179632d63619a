//go:build !race

package serve_test

// bigLines is the length of the long step of TestBrowser: 1,000,000
// lines, written in about 2 s; under the race detector, see
// browsertest_race_test.go.
func bigLines() int { return 1000000 }
