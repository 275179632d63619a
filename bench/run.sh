#!/bin/sh
# Runs runlog's benchmarks and prints each figure as a ratio against the
# baseline measured in the same run. Machines are shared and noisy: read
# ratios, not absolute numbers. docs/performance.md explains every figure.
#
#   bench/run.sh                # make bench: ONE table of every figure of issue 17 (bench/summary),
#                               # median of COUNT (default 5) runs; QUICK=1 for small sizes and one run
#                               # (about 3 minutes); SIZES for the large-run figures (default
#                               # "1000000 10000000": the better part of an hour on 2 cores, mostly writing 10M lines through the collector; SKIP=10M leaves those out); NO_SERVERS=1 skips
#                               # the VictoriaLogs figures; ONLY=TEXT (SKIP=TEXT) runs only (skips) the
#                               # sources whose name has TEXT, such as SKIP=10M
#   bench/run.sh emit           # the emit path alone, with its own table
#   COUNT=10 bench/run.sh emit
#   bench/run.sh victorialogs   # read of a 1,000,000-line step from VictoriaLogs
#   bench/run.sh cli            # the local store at 1,000,000 lines: bytes per line on disk; runlog logs -o jsonl,
#                               # foreign files (LogsURI) and the last page, next to a plain pdata decode of the
#                               # same files: CPU seconds, peak RSS, ratios, and -o jsonl
#                               # with --limit 2000000 next to the default page (LINES, REPS; bench/clilogs)
#   bench/run.sh local          # Go benchmark pair: runlog.All + jsonl rendering of a 1,000,000-record zstd step
#                               # next to a plain pdata decode of the same files (BenchmarkReadJSONL in query/file)
#   bench/run.sh steps          # 1,000 steps logging at once in one process: peak heap next to
#                               # the store's memory bound, attribution read back
#                               # (STEPS, LINES per step, BOUND in MiB)
#   bench/run.sh serve          # runlog serve: download and pages of a 1,000,000-line step next to
#                               # runlog logs -o jsonl, and 20 followers (LINES=200000 for a quick try)
#   bench/run.sh exec           # runlog exec -- true and -- seq 1 1000000 next to the bare programs
#   bench/run.sh scale          # runs of SIZES lines (default "1000000 5000000 10000000"), one step and
#                               # STEPS (100) steps, on STORES (default "local victorialogs"), written
#                               # with runlog exec and read back by runlog logs, runlog.All, runlog
#                               # check and serve's download: time, lines/s, peak RSS, linearity
#                               # (bench/scale). The full sizes take about 45 minutes on 2 cores (BUDGET bounds the slowest readers) and
#                               # about 3 GB of disk at a time; SIZES="20000 100000" for a quick try;
#                               # BUDGET=2m stops a reader still running after 2 minutes and reports
#                               # how far it got (100 steps on the local store read at a few
#                               # thousand lines/s today: 10M lines would take hours).
#
# victorialogs builds and starts VictoriaLogs and the collector
# (tools/servers.sh, deploy/otelcol/config.yaml) on free loopback ports with
# temporary data, writes one step through the collector with runlog, then
# reads it back REPS times (default 5), interleaved: the raw LogsQL query
# with curl (the baseline), vlogscli, runlog.All and `runlog logs -o jsonl`,
# all to /dev/null; it prints median seconds, lines/s, peak RSS and the
# ratio to curl, and whether runlog meets its targets (>= 0.7x curl's
# lines/s, < 100 MB peak RSS), never failing on them (bench/vlfetch).
# Knobs: LINES (default 1000000; LINES=100000 for a quick try), REPS,
# PROFILE=FILE (a CPU profile of one more runlog.All run).
set -eu
case ${PROFILE:-} in "" | /*) ;; *) PROFILE=$(pwd)/$PROFILE ;; esac # relative to where it was run
cd "$(dirname "$0")/.."
COUNT=${COUNT:-5}

if [ "${1:-}" = cli ]; then
	exec go run ./bench/clilogs -lines "${LINES:-1000000}" -reps "${REPS:-3}"
fi

if [ "${1:-}" = local ]; then
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	go test -run '^$' -bench 'ReadJSONL' -benchmem -count "$COUNT" ./query/file/ | tee "$out"
	echo
	echo "== local store read: median ns/op, ratio to a plain pdata decode of the same files =="
	awk '
/^BenchmarkReadJSONL\// {
	name = $1; sub(/^BenchmarkReadJSONL\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	p = median(ns["pdata"]); r = median(ns["runlog"])
	printf "%-8s %14.0f\n%-8s %14.0f  %.2fx of pdata (target <= 1.5x: %s)\n", "pdata", p, "runlog", r, r / p, (r / p <= 1.5 ? "met" : "NOT met")
}' "$out"
	exit 0
fi

if [ "${1:-}" = steps ]; then
	exec go run ./bench/steps -steps "${STEPS:-1000}" -lines "${LINES:-1000}" -bound "${BOUND:-64}"
fi

if [ "${1:-}" = serve ]; then
	exec go run ./bench/serve -lines "${LINES:-1000000}"
fi

dir=$(mktemp -d)
pids=
# Stop the servers (SIGTERM; VictoriaLogs flushes) and wait for them
# before removing their data.
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; for p in $pids; do wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

# build: the programs the benchmarks run, into $dir.
build() {
	go build -o "$dir/runlog" ./cmd/runlog
	go build -o "$dir/peakrss" ./bench/vlfetch/peakrss
	go build -o "$dir/vlfetch" ./bench/vlfetch
	go build -o "$dir/scale" ./bench/scale
	go build -o "$dir/execcost" ./bench/execcost
	go build -o "$dir/clilogs" ./bench/clilogs
	go build -o "$dir/steps" ./bench/steps
}

# start_servers: VictoriaLogs and the collector on free loopback ports,
# data under $dir; sets vlport, httpport, grpcport.
start_servers() {
	tools/servers.sh build victoria-logs vlogscli otelcol
	# ready NAME PID LOG CHECK...: wait until CHECK succeeds, at most 60 s,
	# or show the server's log and stop if it exits first.
	ready() {
		name=$1 pid=$2 log=$3
		shift 3
		i=0
		until "$@"; do
			kill -0 "$pid" 2>/dev/null || { echo "$name exited:"; cat "$log"; exit 1; }
			i=$((i + 1))
			[ $i -le 600 ] || { echo "$name not ready after 60 s:"; cat "$log"; exit 1; }
			sleep 0.1
		done
	}
	# /health alone could be answered by another server that took the port
	# first; the flags in /metrics name our data directory.
	vl_ready() {
		curl -sf "http://127.0.0.1:$vlport/health" >/dev/null 2>&1 &&
			curl -sf "http://127.0.0.1:$vlport/metrics" 2>/dev/null | grep -qF "name=\"storageDataPath\", value=\"$dir/vl\""
	}
	col_ready() {
		grep -q "Everything is ready" "$dir/otelcol.log" 2>/dev/null && curl -s -o /dev/null "http://127.0.0.1:$httpport/"
	}
	set -- $("$dir/vlfetch" -freeports 3)
	vlport=$1 httpport=$2 grpcport=$3
	# vlogscli needs more than the default 30 s for a million lines.
	"$(tools/servers.sh path victoria-logs)" -httpListenAddr="127.0.0.1:$vlport" -storageDataPath="$dir/vl" -loggerLevel=WARN \
		-search.maxQueryDuration=10m >"$dir/vl.log" 2>&1 &
	pids="$pids $!"
	ready VictoriaLogs $! "$dir/vl.log" vl_ready
	mkdir -p "$dir/files" "$dir/queue" "$dir/bench"
	OTLP_HTTP_ENDPOINT="127.0.0.1:$httpport" OTLP_GRPC_ENDPOINT="127.0.0.1:$grpcport" \
		VICTORIALOGS_OTLP_ENDPOINT="http://127.0.0.1:$vlport/insert/opentelemetry" \
		FILE_EXPORT_DIR="$dir/files" OTELCOL_QUEUE_DIR="$dir/queue" OTELCOL_LOG_LEVEL=info \
		"$(tools/servers.sh path otelcol)" --config=deploy/otelcol/config.yaml >"$dir/otelcol.log" 2>&1 &
	pids="$pids $!"
	ready "the collector" $! "$dir/otelcol.log" col_ready
}

case ${1:-summary} in
summary)
	build
	vlargs=
	if [ -z "${NO_SERVERS:-}" ]; then
		start_servers
		vlargs="-vl http://127.0.0.1:$vlport -otlp http://127.0.0.1:$httpport -vldata $dir/vl -vlogscli $(tools/servers.sh path vlogscli)"
	fi
	# The sources' own output goes to a log that is kept, so that a
	# surprising figure can be read in full.
	log=$(mktemp)
	go run ./bench/summary -bin "$dir" $vlargs -count "$COUNT" ${QUICK:+-quick} \
		${SIZES:+-sizes "$(echo $SIZES | tr ' ' ,)"} ${ONLY:+-only "$ONLY"} ${SKIP:+-skip "$SKIP"} ${BUDGET:+-budget "$BUDGET"} -log "$log"
	echo "(the full output of every benchmark: $log)"
	exit 0
	;;
exec)
	build
	"$dir/execcost" -runlog "$dir/runlog" -reps-seq "$COUNT"
	exit 0
	;;
scale)
	build
	stores=${STORES:-local victorialogs}
	vlargs=
	case " $stores " in *" victorialogs "*)
		start_servers
		vlargs="-vl http://127.0.0.1:$vlport -otlp http://127.0.0.1:$httpport -vldata $dir/vl" ;;
	esac
	mkdir -p "$dir/scale-data"
	"$dir/scale" -runlog "$dir/runlog" -peakrss "$dir/peakrss" -dir "$dir/scale-data" $vlargs \
		-stores "$(echo $stores | tr ' ' ,)" -sizes "$(echo ${SIZES:-1000000 5000000 10000000} | tr ' ' ,)" \
		-steps "${STEPS:-100}" ${LAYOUTS:+-layouts "$(echo $LAYOUTS | tr ' ' ,)"} ${BUDGET:+-budget "$BUDGET"}
	exit 0
	;;
victorialogs)
	build
	start_servers
	"$dir/vlfetch" -vl "http://127.0.0.1:$vlport" -otlp "http://127.0.0.1:$httpport" \
		-vlogscli "$(tools/servers.sh path vlogscli)" -runlog "$dir/runlog" -peakrss "$dir/peakrss" -dir "$dir/bench" \
		-lines "${LINES:-1000000}" -reps "${REPS:-5}" ${PROFILE:+-cpuprofile "$PROFILE"}
	exit 0
	;;
emit) ;;
*)
	echo "bench/run.sh: unknown benchmark ${1}; see the top of bench/run.sh" >&2
	exit 2
	;;
esac

out=$dir/emit.txt
bin=$dir/emit.test
go test -c -o "$bin" ./bench/
# Each case runs in a process of its own, the cases interleaved COUNT
# times: in one process a case's heap, pools and goroutines weigh on the
# next one, and a load that comes and goes on a shared machine hits every
# case alike.
i=0
while [ $i -lt "$COUNT" ]; do
	for c in 'Emit/slog-json-discard' 'Emit/otelslog-raw' 'Emit/runlog' 'Emit/otelslog-raw\+source' 'Emit/runlog\+source' \
		'Emit/otelslog-raw-file' 'Emit/runlog-file' 'EmitParallel/otelslog-raw' 'EmitParallel/runlog' \
		'EmitParallel/otelslog-raw-16-providers' 'EmitParallel/runlog-16-steps'; do
		(cd bench && "$bin" -test.run '^$' -test.bench "^Benchmark${c%%/*}\$/^${c#*/}\$" -test.benchmem) | grep '^Benchmark' | tee -a "$out"
	done
	i=$((i + 1))
done

echo
echo "== emit: median ns/op and allocs/op, ratio to the raw otelslog + BatchProcessor pipeline =="
awk '
/^BenchmarkEmit(Parallel)?\// {
	name = $1; par = name ~ /^BenchmarkEmitParallel\//
	sub(/^BenchmarkEmit(Parallel)?\//, "", name); sub(/-[0-9]+$/, "", name)
	if (par) name = "16 goroutines: " name
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
	n = split("slog-json-discard otelslog-raw runlog otelslog-raw+source runlog+source otelslog-raw-file runlog-file", order, " ")
	p = "16 goroutines: "
	order[++n] = p "otelslog-raw"; order[++n] = p "runlog"; order[++n] = p "otelslog-raw-16-providers"; order[++n] = p "runlog-16-steps"
	base["runlog"] = "otelslog-raw"; base["runlog+source"] = "otelslog-raw+source"; base["runlog-file"] = "otelslog-raw-file"
	base["slog-json-discard"] = "otelslog-raw"
	base[p "runlog"] = p "otelslog-raw"; base[p "runlog-16-steps"] = p "otelslog-raw-16-providers"
	printf "%-42s %10s %8s %10s  %s\n", "case", "ns/op", "allocs", "delivered", "ratio"
	for (k = 1; k <= n; k++) {
		c = order[k]; if (!(c in ns)) continue
		m = median(ns[c]); r = ""
		if (c in base) r = sprintf("%.2fx of %s", m / median(ns[base[c]]), base[c])
		printf "%-42s %10.0f %8s %10s  %s\n", c, m, al[c], (c in dl ? dl[c] : "-"), r
	}
	print ""
	print "target: runlog <= 0.80x of otelslog-raw with no more allocs/op (same exporter, no loss); the raw"
	print "pipeline drops what its queue cannot hold (delivered < 1), runlog blocks instead. Under 16"
	print "goroutines the raw pipeline drops most records, so its ns/op is for less work."
}' "$out"
