// Package bench holds runlog's benchmarks, each measured next to its
// baseline in the same run; bench/run.sh prints the ratios.
package bench
