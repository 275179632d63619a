// Package bench holds runlog's benchmarks, each measured next to its
// baseline in the same run; bench/run.sh prints the ratios:
//
//   - bench/run.sh: the emit path (one slog call into an activation), next
//     to the raw otelslog pipeline with the same exporter (emit_test.go);
//   - bench/run.sh victorialogs: reading one large step back from a real
//     VictoriaLogs fed by the collector, with runlog.All and `runlog logs`,
//     next to the raw LogsQL query (curl) and vlogscli: lines/s and peak
//     RSS (bench/vlfetch);
//   - bench/run.sh cli: `runlog logs` of a large run of the local store,
//     next to cat of its files (bench/clilogs).
package bench
