#!/usr/bin/env bash
# Builds the module and the test modules against another kernel in a copy of
# the source tree (the struct layouts differ between kernel configs, and the
# tree's own build is for the test kernel):
#
#   tests/build-copy.sh KDIR DIR    copy the tree to DIR, build there; log in DIR.log
#
# Fails on any compiler warning or error, printing the log.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1 build=$2
export PATH=$HOME/.cargo/bin:$PATH
rm -rf "$build"
mkdir -p "$build"
tar -C "$root" --exclude=./.git --exclude=./tests/out --exclude=./tests/harness/target \
	-cf - . | tar -C "$build" -xf - || { echo "copying the sources to $build failed" >&2; exit 1; }
make -s -C "$build" KDIR="$kdir" clean >/dev/null 2>&1
if ! make -s -C "$build" KDIR="$kdir" >"$build.log" 2>&1; then
	cat "$build.log" >&2
	exit 1
fi
if grep -E '^(warning|error)' "$build.log" >&2; then
	echo "build against $kdir: warnings (log: $build.log)" >&2
	exit 1
fi
