#!/bin/sh
# Runs runlog's benchmarks and prints each one as a ratio against the
# baseline measured in the same run (median of COUNT runs). Machines are
# shared and noisy: read ratios, not absolute numbers.
#
#   bench/run.sh            # emit path
#   COUNT=10 bench/run.sh
set -eu
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'Emit' -benchmem -count "$COUNT" ./bench/ | tee "$out"

echo
echo "== emit: median ns/op and allocs/op, ratio to the raw otelslog + BatchProcessor pipeline =="
awk '
/^BenchmarkEmit\// {
	name = $1; sub(/^BenchmarkEmit\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
		if ($(i+1) == "allocs/op") al[name] = $i
		if ($(i+1) == "delivered/op") dl[name] = $i
	}
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	split("slog-json-discard otelslog-raw runlog otelslog-raw+source runlog+source otelslog-raw-file runlog-file", order, " ")
	base["runlog"] = "otelslog-raw"; base["runlog+source"] = "otelslog-raw+source"; base["runlog-file"] = "otelslog-raw-file"
	base["slog-json-discard"] = "otelslog-raw"
	printf "%-22s %10s %8s %10s  %s\n", "case", "ns/op", "allocs", "delivered", "ratio"
	for (k = 1; k <= 7; k++) {
		n = order[k]; if (!(n in ns)) continue
		m = median(ns[n]); r = ""
		if (n in base) r = sprintf("%.2fx of %s", m / median(ns[base[n]]), base[n])
		printf "%-22s %10.0f %8s %10s  %s\n", n, m, al[n], (n in dl ? dl[n] : "-"), r
	}
	print ""
	print "target: runlog <= 1.00x of otelslog-raw (same exporter, no loss); in the file cases the"
	print "raw pipeline drops what its queue cannot hold (delivered < 1), runlog blocks instead."
}' "$out"
