// Package bench holds runlog's benchmarks, each measured next to its
// baseline in the same run; bench/run.sh prints the ratios:
//
//   - bench/run.sh: the emit path (one slog call into an activation), next
//     to the raw otelslog pipeline with the same exporter, from one
//     goroutine and from 16 at once (emit_test.go);
//   - bench/run.sh steps: 1,000 steps logging at once in one process on
//     the local store: peak heap next to the store's memory bound, and
//     every step's records read back (bench/steps);
//   - bench/run.sh victorialogs: reading one large step back from a real
//     VictoriaLogs fed by the collector, with runlog.All and `runlog logs`,
//     next to the raw LogsQL query (curl) and vlogscli: lines/s and peak
//     RSS (bench/vlfetch);
//   - bench/run.sh cli: `runlog logs` of a large run of the local store,
//     next to cat of its files, and its peak RSS with --limit 2000000 next
//     to the default page (bench/clilogs).
package bench
