#!/bin/sh
# Builds the servers runlog's integration tests run against, from the Go
# module proxy, into a cache directory outside the repository:
#
#   tools/servers.sh build [victoria-logs|vlogscli|otelcol ...]   build what is missing
#   tools/servers.sh path victoria-logs|vlogscli|otelcol          print a binary's path
#
# Cache: $RUNLOG_CACHE, else $XDG_CACHE_HOME/runlog, else ~/.cache/runlog;
# binaries go to its bin/. Their names carry the version, read from the
# files that pin it (tools/victorialogs/go.mod, tools/otelcol/manifest.yaml;
# the collector's also a digest of its manifest), so a version bump or a
# new component builds anew. Measured on a 2-core machine with Go's module
# and build caches empty (modules downloaded from the proxy): VictoriaLogs
# 24 s, vlogscli 1 s, the collector 83 s; with Go's caches warm, seconds;
# with the binaries in the cache, nothing. While a build runs, a
# line every 30 s says so. Two runs at once do not build the same binary
# twice: the second waits for the first. internal/itest finds the binaries
# through `path`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${RUNLOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runlog}
bin=$cache/bin

say() { echo "servers: $*" >&2; }

victorialogs_version() {
	v=$(awk '$1 == "github.com/VictoriaMetrics/VictoriaLogs" { print $2; exit }' "$here/victorialogs/go.mod")
	[ -n "$v" ] || { say "no github.com/VictoriaMetrics/VictoriaLogs version in $here/victorialogs/go.mod"; exit 1; }
	echo "$v"
}

otelcol_version() { # dist.version of the manifest
	v=$(awk '/^dist:/ { d = 1; next } /^[^ #]/ { d = 0 } d && $1 == "version:" { print $2; exit }' "$here/otelcol/manifest.yaml")
	[ -n "$v" ] || { say "no dist.version in $here/otelcol/manifest.yaml"; exit 1; }
	echo "$v"
}

manifest_sum() { # the manifest without comments: adding a component builds anew
	grep -v '^[[:space:]]*#' "$here/otelcol/manifest.yaml" | sha256sum | cut -c1-12
}

path() {
	case $1 in
	victoria-logs | vlogscli) echo "$bin/$1-$(victorialogs_version)" ;;
	otelcol) echo "$bin/otelcol-runlog-$(otelcol_version)-$(manifest_sum)" ;;
	*) say "unknown server '$1'; use victoria-logs, vlogscli or otelcol"; exit 2 ;;
	esac
}

# A lock per binary (a directory holding the builder's pid): a second run
# waits for the first instead of building again; a dead builder's lock is
# taken over.
held=
ticker=
trap 'if [ -n "$ticker" ]; then kill "$ticker" 2>/dev/null || true; fi; if [ -n "$held" ]; then rm -rf "$held"; fi' EXIT
trap 'exit 130' INT TERM

lock() { # name
	mkdir -p "$bin"
	lk=$bin/.$1.lock
	while ! mkdir "$lk" 2>/dev/null; do
		pid=$(cat "$lk/pid" 2>/dev/null || true)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			say "taking over the lock of a build of $1 that died ($lk)"
			rm -rf "$lk"
			continue
		fi
		say "another build of $1 is running (pid ${pid:-unknown}); waiting for it"
		sleep 20
	done
	held=$lk
	echo $$ >"$lk/pid"
}

unlock() {
	rm -rf "$held"
	held=
}

# While a build runs, a line every 30 s says it is still going: the Go
# tool is silent while it compiles, and `make test` would look stuck.
tick() { # name start
	n=0
	while sleep 1; do
		n=$((n + 1))
		[ $((n % 30)) -eq 0 ] && say "still building $1 ($(($(date +%s) - $2)) s so far)"
	done
}

untick() {
	kill "$ticker" 2>/dev/null || true
	wait "$ticker" 2>/dev/null || true
	ticker=
}

build() { # name
	out=$(path "$1")
	if [ -x "$out" ]; then
		say "$1 is built: $out"
		return 0
	fi
	lock "$1"
	if [ -x "$out" ]; then # built by the run we waited for
		unlock
		say "$1 is built: $out"
		return 0
	fi
	start=$(date +%s)
	tick "$1" "$start" &
	ticker=$!
	case $1 in
	victoria-logs | vlogscli) build_victorialogs_tool "$1" "$out" ;;
	otelcol) build_otelcol "$out" ;;
	esac
	untick
	unlock
	say "built $1 in $(($(date +%s) - start)) s: $out"
}

build_victorialogs_tool() { # name out
	case $1 in
	victoria-logs) took="about 25 s" ;;
	*) took="a few seconds" ;;
	esac
	say "building $1 $(victorialogs_version) from tools/victorialogs ($took cold)"
	(cd "$here/victorialogs" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$2.tmp" "github.com/VictoriaMetrics/VictoriaLogs/app/$1")
	mv "$2.tmp" "$2"
}

build_otelcol() { # out
	v=$(otelcol_version)
	say "building the OpenTelemetry Collector $v from tools/otelcol/manifest.yaml (about 1.5 minutes cold)"
	builder=$cache/tools/builder-v$v/builder
	if [ ! -x "$builder" ]; then
		say "installing the collector builder v$v"
		GOBIN=$(dirname "$builder") go install "go.opentelemetry.io/collector/cmd/builder@v$v"
	fi
	work=$cache/otelcol-build
	rm -rf "$work"
	mkdir -p "$work"
	# The manifest leaves the output path to us (the --output-path flag is
	# deprecated): add it to a copy.
	awk -v out="$work" '{ print } /^dist:/ { print "  output_path: " out }' "$here/otelcol/manifest.yaml" >"$work/manifest.yaml"
	# -e: the module proxy refuses one test-only dependency of the file
	# exporter; it lets the builder's tidy step go on, the build is unaffected.
	GOFLAGS="-buildvcs=false -e" "$builder" --config "$work/manifest.yaml" >&2
	mv "$work/otelcol-runlog" "$1"
	rm -rf "$work"
}

usage() {
	say "usage: $0 build [victoria-logs|vlogscli|otelcol ...] | path victoria-logs|vlogscli|otelcol"
	exit 2
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case $cmd in
path)
	[ $# -eq 1 ] || usage
	path "$1"
	;;
build)
	[ $# -gt 0 ] || set -- victoria-logs vlogscli otelcol
	for s in "$@"; do path "$s" >/dev/null; done # reject unknown names before building anything
	for s in "$@"; do build "$s"; done
	;;
*) usage ;;
esac
