#!/bin/sh
# Installs Debian's Chromium, which the viewer's browser tests
# (serve/browser_test.go) drive headless, when it is missing:
#
#   tools/chromium.sh          install chromium if `command -v chromium` finds none
#   tools/chromium.sh check    only say whether it is there (exit 1 if not)
#
# Idempotent: with chromium on the PATH it prints its version and does
# nothing else. Recommended packages are left out (a printer dialog, a
# notification daemon, ...); the fonts come with fontconfig, which
# chromium depends on. Installing needs root (or sudo) and apt-get; the package
# lists are refreshed first (`apt-get update`), which takes a few seconds,
# and the install itself seconds to a minute (12 s measured). Elsewhere
# it says what to install and fails, so `make test` stops with a reason
# instead of skipping the browser tests. apt-get's output is shown only
# when it fails.
set -eu

say() { echo "chromium: $*" >&2; }

have() {
	if command -v chromium >/dev/null 2>&1; then
		say "found $(command -v chromium): $(chromium --version 2>/dev/null || echo 'version unknown')"
		return 0
	fi
	return 1
}

case ${1:-install} in
check)
	have || { say "not installed; run tools/chromium.sh to install Debian's chromium"; exit 1; }
	exit 0
	;;
install) ;;
*)
	say "usage: $0 [install|check]"
	exit 2
	;;
esac

have && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	say "not installed and apt-get is not here; install Chromium (a binary named chromium on the PATH) with your system's packages"
	exit 1
fi
sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		say "not installed; installing needs root: run 'apt-get install -y chromium' as root"
		exit 1
	fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
	say "running: $*"
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		say "failed: $*"
		exit 1
	fi
}
start=$(date +%s)
say "not installed; installing Debian's chromium (seconds to a minute)"
run $sudo apt-get update
run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
have || { say "apt-get installed chromium but it is not on the PATH"; exit 1; }
say "installed in $(($(date +%s) - start)) s"
