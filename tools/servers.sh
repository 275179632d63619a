#!/bin/sh
# Builds the servers runlog's integration tests run against, from the Go
# module proxy, into a cache directory outside the repository:
#
#   tools/servers.sh build [loki|logcli|otelcol ...]   build what is missing
#   tools/servers.sh path NAME                         print a binary's path
#
# Cache: $RUNLOG_CACHE, else $XDG_CACHE_HOME/runlog, else ~/.cache/runlog.
# Binary names carry their version, so a version bump rebuilds. A cold build
# takes about 10 minutes (Loki) and 3 minutes (collector); a warm one,
# nothing.
set -eu
LOKI_VERSION=v3.7.8
OTELCOL_VERSION=0.165.0
here=$(cd "$(dirname "$0")" && pwd)
cache=${RUNLOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runlog}
bin=$cache/bin

path() {
	case $1 in
	loki) echo "$bin/loki-$LOKI_VERSION" ;;
	logcli) echo "$bin/logcli-$LOKI_VERSION" ;;
	otelcol) echo "$bin/otelcol-runlog-$OTELCOL_VERSION" ;;
	*) echo "unknown server $1; use loki, logcli or otelcol" >&2; exit 2 ;;
	esac
}

build_loki_tool() { # name
	out=$(path "$1")
	[ -x "$out" ] && return 0
	echo "servers: building $1 $LOKI_VERSION into $out (about 10 minutes cold)" >&2
	mkdir -p "$bin"
	(cd "$here/loki" && CGO_ENABLED=0 go build -trimpath -tags netgo -ldflags "-s -w" -o "$out.tmp" "github.com/grafana/loki/v3/cmd/$1")
	mv "$out.tmp" "$out"
}

build_otelcol() {
	out=$(path otelcol)
	[ -x "$out" ] && return 0
	echo "servers: building the OpenTelemetry Collector $OTELCOL_VERSION into $out (about 3 minutes cold)" >&2
	work=$cache/otelcol-build
	rm -rf "$work" && mkdir -p "$work" "$bin"
	GOBIN=$cache/tools go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"
	# -e: the module proxy refuses one test-only dependency of the file
	# exporter; it lets the builder's tidy step go on, the build is unaffected.
	# The manifest leaves the output path to us: add it to a copy.
	sed "s|^dist:|dist:\n  output_path: $work|" "$here/otelcol/manifest.yaml" >"$work/manifest.yaml"
	GOFLAGS="-buildvcs=false -e" "$cache/tools/builder" --config "$work/manifest.yaml" >&2
	mv "$work/otelcol-runlog" "$out"
	rm -rf "$work"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case $cmd in
path) path "$1" ;;
build)
	[ $# -eq 0 ] && set -- loki logcli otelcol
	for s in "$@"; do
		case $s in
		loki | logcli) build_loki_tool "$s" ;;
		otelcol) build_otelcol ;;
		*) path "$s" >/dev/null ;;
		esac
	done
	;;
*) echo "usage: $0 build [loki|logcli|otelcol...] | path NAME" >&2; exit 2 ;;
esac
