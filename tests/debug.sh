#!/usr/bin/env bash
# The reliability suite on the debug kernel (KASAN, kmemleak, lockdep,
# PROVE_RCU, object debugging, refcount trackers, fault injection): hot-plug
# stress, load/unload cycles, races on two vCPUs, bad input, injected
# allocation failures, a seeded random sequence, and the planted leak and
# use-after-free that the checkers must catch. Builds the modules against the
# debug kernel (its struct layouts differ) in tests/out/debug/build.
#
#   tests/debug.sh           the test command's slice; needs the debug kernel
#                            cached, says so and skips otherwise
#   tests/debug.sh --soak    the full counts (500 cycles, 100 reloads, ...,
#                            several hours); builds the debug kernel first
#                            if it is not cached (about 37 minutes)
#   tests/debug.sh [--soak] ARGS...   ARGS go to nf-harness, e.g.
#                            --only fuzz --seed 1234 (replays a sequence)
#
# Ends with one line "N passed, M failed". Results: tests/out/debug/results.md
# and the reliability section tests/out/debug/reliability.md.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH=$HOME/.cargo/bin:$PATH
counts=()
soak=0
if [ "${1:-}" = --soak ]; then
	soak=1
	counts=(--soak)
	shift
fi
out=$root/tests/out/debug
mkdir -p "$out"
fail() { echo "FAIL $*"; echo "0 passed, 1 failed"; exit 1; }

dkdir=$(tests/setup.sh --debug --print) || fail "tests/setup.sh --debug --print"
if [ ! -f "$dkdir/.built" ]; then
	if [ $soak = 0 ]; then
		echo "SKIP debug slice: the debug kernel is not cached ($dkdir)."
		echo "     Build it with: tests/setup.sh --debug   (about 37 minutes on 2 cores),"
		echo "     then run: tests/debug.sh   (or tests/run.sh, which includes it)"
		echo "0 passed, 0 failed"
		exit 0
	fi
	dkdir=$(tests/setup.sh --debug | tail -n 1) || fail "building the debug kernel"
fi

echo "== building the modules against the debug kernel in $out/build" >&2
build=$out/build
tests/build-copy.sh "$dkdir" "$build" || fail "build"

mods=(--module "$build/tests/pvdrv/nf_pvtest.ko" --module "$build/tests/debugmod/nf_debugtest.ko")
# The bad-input tests' bridge, bond, dummy and veth devices, with their dependencies.
for m in net/llc/llc.ko net/802/stp.ko net/bridge/bridge.ko drivers/net/bonding/bonding.ko \
	drivers/net/dummy.ko drivers/net/veth.ko; do
	[ -f "$dkdir/$m" ] && mods+=(--module "$dkdir/$m")
done

cargo build -q --release --manifest-path tests/harness/Cargo.toml || fail "harness build"
echo "== reliability suite on the debug kernel ${counts[*]:-(slice)}" >&2
tests/harness/target/release/nf-harness --kdir "$dkdir" --debug "${counts[@]}" --out "$out" \
	--rust-module "$build/net_failover_rs.ko" "${mods[@]}" "$@" 2>&1 | tee "$out/harness.log"
tail -n 1 "$out/harness.log" | grep -q 'passed, .* failed$' || fail "harness: no result line"
