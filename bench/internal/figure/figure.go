// Package figure is what the bench programs share to report a figure:
// the row line that bench/summary reads into make bench's table, and the
// words and numbers printed around it.
package figure

import (
	"slices"
	"strconv"
	"strings"
)

// Row formats one figure as the line bench/summary reads: "row", then
// name, value, baseline, unit, what the baseline is and the target
// ("ratio<=X", "ratio>=X", "value<X", "diff<X" or "-"), tab-separated.
func Row(name string, value, baseline float64, unit, base, target string) string {
	return strings.Join([]string{"row", name, strconv.FormatFloat(value, 'g', 6, 64), strconv.FormatFloat(baseline, 'g', 6, 64), unit, base, target}, "\t")
}

// Short writes a count of lines as 1M, 10M or 100k when it is round.
func Short(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.Itoa(n)
}

// Verdict says whether a target is met.
func Verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// Median is the median of xs, 0 for none; xs keeps its order.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Sorted(slices.Values(xs))
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
