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
//   - bench/run.sh cli: the local store at scale (bench/clilogs): bytes
//     per line on disk (zstd frames and the old plain lines), `runlog logs
//     -o jsonl`, foreign OTLP JSON files through LogsURI and the last page
//     read backward, each in a child process, next to a plain pdata decode
//     of the same files: CPU seconds, peak RSS and the ratios;
//   - bench/run.sh local: the Go benchmark pair BenchmarkReadJSONL
//     (query/file): runlog.All plus the jsonl rendering of a zstd step,
//     next to a plain pdata decode of the same files, in one run.
package bench
