#!/bin/sh
# Builds the servers runlog's integration tests run against, from the Go
# module proxy, into a cache directory outside the repository:
#
#   tools/servers.sh build [loki|logcli|otelcol ...]   build what is missing
#   tools/servers.sh path loki|logcli|otelcol          print a binary's path
#
# Cache: $RUNLOG_CACHE, else $XDG_CACHE_HOME/runlog, else ~/.cache/runlog;
# binaries go to its bin/. Their names carry the version, read from the
# files that pin it (tools/loki/go.mod, tools/otelcol/manifest.yaml; the
# collector's also a digest of its manifest), so a version bump or a new
# component builds anew. A cold build takes about 10 minutes (Loki,
# logcli) and 3 minutes (collector); a warm one, nothing. Two runs at once
# do not build the same binary twice: the second waits for the first.
# internal/itest finds the binaries through `path`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${RUNLOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runlog}
bin=$cache/bin

say() { echo "servers: $*" >&2; }

loki_version() {
	v=$(awk '$1 == "github.com/grafana/loki/v3" { print $2; exit }' "$here/loki/go.mod")
	[ -n "$v" ] || { say "no github.com/grafana/loki/v3 version in $here/loki/go.mod"; exit 1; }
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
	loki | logcli) echo "$bin/$1-$(loki_version)" ;;
	otelcol) echo "$bin/otelcol-runlog-$(otelcol_version)-$(manifest_sum)" ;;
	*) say "unknown server '$1'; use loki, logcli or otelcol"; exit 2 ;;
	esac
}

# A lock per binary (a directory holding the builder's pid): a second run
# waits for the first instead of building again; a dead builder's lock is
# taken over.
held=
trap 'if [ -n "$held" ]; then rm -rf "$held"; fi' EXIT
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
	case $1 in
	loki | logcli) build_loki_tool "$1" "$out" ;;
	otelcol) build_otelcol "$out" ;;
	esac
	unlock
	say "built $1 in $(($(date +%s) - start)) s: $out"
}

build_loki_tool() { # name out
	say "building $1 $(loki_version) from tools/loki (about 10 minutes cold)"
	(cd "$here/loki" && CGO_ENABLED=0 go build -trimpath -tags netgo -ldflags "-s -w" -o "$2.tmp" "github.com/grafana/loki/v3/cmd/$1")
	mv "$2.tmp" "$2"
}

build_otelcol() { # out
	v=$(otelcol_version)
	say "building the OpenTelemetry Collector $v from tools/otelcol/manifest.yaml (about 3 minutes cold)"
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
	say "usage: $0 build [loki|logcli|otelcol ...] | path loki|logcli|otelcol"
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
	[ $# -gt 0 ] || set -- loki logcli otelcol
	for s in "$@"; do path "$s" >/dev/null; done # reject unknown names before building anything
	for s in "$@"; do build "$s"; done
	;;
*) usage ;;
esac
