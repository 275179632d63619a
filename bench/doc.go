// Package bench holds runlog's benchmarks, each measured next to its
// baseline in the same run. `make bench` (bench/run.sh) prints all their
// figures as one table of ratios (bench/summary); docs/performance.md
// explains each figure, its baseline and its target. The sources:
//
//   - emit_test.go: the emit path (one slog call into an activation), next
//     to the raw otelslog pipeline with the same exporter and to
//     slog.JSONHandler, from one goroutine and from 16 at once (bench/run.sh
//     emit);
//   - bench/vlfetch: reading one large step back from a real VictoriaLogs
//     fed by the collector, with runlog.All and `runlog logs`, next to the
//     raw LogsQL query (curl) and vlogscli: lines/s and peak RSS
//     (bench/run.sh victorialogs);
//   - bench/execcost: `runlog exec -- true` and `-- seq 1 1000000` next to
//     the bare programs (bench/run.sh exec);
//   - bench/scale: runs of millions of lines (one step, or 100 steps) on
//     the local store and on VictoriaLogs, written with `runlog exec` and
//     read back by `runlog logs`, runlog.All, `runlog check` and serve's
//     download: time, lines/s and peak RSS per size (bench/run.sh scale);
//   - bench/run.sh steps: 1,000 steps logging at once in one process on
//     the local store: peak heap next to the store's memory bound, and
//     every step's records read back (bench/steps);
//   - bench/run.sh cli: the local store at scale (bench/clilogs): bytes
//     per line on disk (zstd frames and the old plain lines), `runlog logs
//     -o jsonl` (also with --limit 2000000), foreign OTLP JSON files
//     through LogsURI and the last page read backward, each in a child
//     process, next to a plain pdata decode of the same files: CPU
//     seconds, peak RSS and the ratios;
//   - bench/run.sh local: the Go benchmark pair BenchmarkReadJSONL
//     (query/file): runlog.All plus the jsonl rendering of a zstd step,
//     next to a plain pdata decode of the same files, in one run;
//   - bench/serve: serve's API on a large local run (bench/run.sh serve).
//
// None of them is part of `make test`: they take minutes, and their
// targets are reported, never asserted.
package bench
