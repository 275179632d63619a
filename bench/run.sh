#!/bin/sh
# Runs runlog's benchmarks and prints each one as a ratio against the
# baseline measured in the same run (median of COUNT runs). Machines are
# shared and noisy: read ratios, not absolute numbers.
#
#   bench/run.sh            # emit path
#   COUNT=10 bench/run.sh
#   bench/run.sh loki       # fetch of a 100,000-line step: runlog vs logcli
#   bench/run.sh cli        # runlog logs of a 1,000,000-line run: time and peak RSS
set -eu
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}

if [ "${1:-}" = cli ]; then
	exec go run ./bench/clilogs
fi

if [ "${1:-}" = loki ]; then
	tools/servers.sh build loki logcli
	dir=$(mktemp -d)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 31100)
	LOKI_LISTEN_ADDRESS=127.0.0.1 LOKI_HTTP_PORT=$port LOKI_GRPC_PORT=$((port + 1)) LOKI_DATA_DIR=$dir LOKI_LOG_LEVEL=warn \
		"$(tools/servers.sh path loki)" -config.file=deploy/loki/loki.yaml -config.expand-env=true >"$dir/loki.log" 2>&1 &
	loki=$!
	trap 'kill $loki 2>/dev/null; wait $loki 2>/dev/null; rm -rf "$dir"' EXIT
	i=0
	until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -gt 120 ] && { echo "Loki did not start:"; cat "$dir/loki.log"; exit 1; }
		sleep 0.5
	done
	go run ./bench/lokifetch -loki "http://127.0.0.1:$port" -logcli "$(tools/servers.sh path logcli)" -reps "${REPS:-5}"
	exit 0
fi
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
