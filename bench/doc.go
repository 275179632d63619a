// Package bench holds runlog's benchmarks, each measured next to its
// baseline in the same run. `make bench` (bench/run.sh) prints all their
// figures as one table of ratios (bench/summary); docs/performance.md
// explains each figure, its baseline and its target. The sources:
//
//   - emit_test.go: the emit path (one slog call into an activation), next
//     to the raw otelslog pipeline with the same exporter and to
//     slog.JSONHandler (bench/run.sh emit);
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
//   - bench/clilogs and bench/serve: `runlog logs` and serve's API on a
//     large local run (bench/run.sh cli, bench/run.sh serve).
//
// None of them is part of `make test`: they take minutes, and their
// targets are reported, never asserted.
package bench
