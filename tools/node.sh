#!/bin/sh
# Installs the npm packages of tools/nodeproducer (a pipeline step written
# with the official OpenTelemetry JS SDK, which the integration tests run)
# from its lockfile into a cache directory outside the repository:
#
#   tools/node.sh install    npm ci from tools/nodeproducer/package-lock.json, unless installed
#   tools/node.sh path       print the install directory (its node_modules/ is the packages)
#
# Cache: $RUNLOG_CACHE, else $XDG_CACHE_HOME/runlog, else ~/.cache/runlog,
# as tools/servers.sh; the install goes to node/nodeproducer-<digest of the
# lockfile>, so a changed lockfile installs anew and an unchanged one
# installs nothing. The lockfile records no download addresses: npm takes
# the packages from the registry it is configured with, and checks each
# against the lockfile's integrity digest. Needs node and npm on the PATH
# (Node.js 20.6 or later); without them it says so and fails, so that
# `make test` stops with a reason instead of skipping the Node tests. The
# install takes about 10 s with npm's cache empty (11 packages); npm's
# output is shown only when it fails. internal/itest finds the install through `path`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/nodeproducer
cache=${RUNLOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runlog}

say() { echo "node: $*" >&2; }

path() {
	sum=$(sha256sum "$src/package-lock.json" | cut -c1-12)
	echo "$cache/node/nodeproducer-$sum"
}

install() {
	dir=$(path)
	if [ -f "$dir/.installed" ]; then
		say "the nodeproducer's packages are installed: $dir"
		return 0
	fi
	for tool in node npm; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			say "$tool is not on the PATH; install Node.js 20.6 or later with npm (Debian: apt-get install nodejs npm)"
			exit 1
		fi
	done
	start=$(date +%s)
	say "installing the nodeproducer's packages with npm ci (node $(node --version), npm $(npm --version)) into $dir"
	mkdir -p "$(dirname "$dir")"
	# Into a fresh directory of our own, moved into place when complete:
	# a second install at once, or one killed half-way, never leaves a
	# partial tree where the tests look.
	tmp=$(mktemp -d "$dir.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	cp "$src/package.json" "$src/package-lock.json" "$tmp/"
	log=$tmp/npm.log
	if ! (cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts >"$log" 2>&1); then
		tail -n 30 "$log" >&2
		say "npm ci failed in $tmp (see above); the npm registry must be reachable"
		exit 1
	fi
	rm -f "$log"
	touch "$tmp/.installed"
	if [ -f "$dir/.installed" ]; then
		rm -rf "$tmp" # another install finished first: keep its tree
	else
		rm -rf "$dir" # what a killed install left, if anything
		mv "$tmp" "$dir"
	fi
	trap - EXIT
	say "installed in $(($(date +%s) - start)) s: $dir"
}

case ${1:-install} in
install) install ;;
path) path ;;
*)
	say "usage: $0 [install|path]"
	exit 2
	;;
esac
