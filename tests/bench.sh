#!/usr/bin/env bash
# The benchmark: what the failover master costs per packet, in guest
# instructions (QEMU -icount, one vCPU), for the bare e1000e, the C master,
# ours and bonding active-backup over the same NICs, TX and RX at 64 and
# 1500 B, plus dev_get_stats(); the calls on each module's hot paths; and the
# switchover figures and timeline of the scenario suite's unplug_cycles and
# migration runs on the test kernel.
#
#   tests/bench.sh    builds (or reuses) the benchmark kernel (tests/kernel-bench.config,
#                     about 16 minutes the first time) and the test kernel, then runs
#
# Writes tests/out/bench.md, bench.csv, bench.png and timeline.png, and copies
# them to Documentation/bench/ (the latest figures the README links). Exits
# non-zero if a target is missed (ours above C, repeats spread 1 % or more,
# loss in the documented migration order, ours' median time from a primary's
# registration to its link-up in the guest's clock over 110 % of C's).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH=$HOME/.cargo/bin:$PATH
out=$root/tests/out
fail() { echo "FAIL $*" >&2; exit 1; }

bkdir=$(tests/setup.sh --bench | tail -n 1) || fail "tests/setup.sh --bench"
tkdir=$(tests/setup.sh | tail -n 1) || fail "tests/setup.sh"

echo "== building the modules against the benchmark kernel in $out/bench/build" >&2
build=$out/bench/build
mkdir -p "$out/bench"
tests/build-copy.sh "$bkdir" "$build" || fail "build"
echo "== building the modules against the test kernel" >&2
make -s KDIR="$tkdir" >"$out/bench/build-test.log" 2>&1 || { cat "$out/bench/build-test.log"; fail "build"; }
cargo build -q --release --manifest-path tests/harness/Cargo.toml || fail "harness build"
harness=tests/harness/target/release/nf-harness

echo "== switchover: unplug_cycles and migration on the test kernel, both stacks" >&2
"$harness" --kdir "$tkdir" --rust-module "$root/net_failover_rs.ko" --only unplug_cycles,migration \
	--out "$out/bench/suite" 2>&1 | tee "$out/bench/suite.log" | grep -E '^(PASS|FAIL|SKIP)|passed' >&2

echo "== per-packet cost on the benchmark kernel" >&2
"$harness" --bench --kdir "$bkdir" --rust-module "$build/net_failover_rs.ko" \
	--module "$bkdir/net/core/pktgen.ko" --module "$bkdir/drivers/net/bonding/bonding.ko" \
	--module "$bkdir/drivers/net/vmxnet3/vmxnet3.ko" \
	--module "$build/tests/debugmod/nf_debugtest.ko" --suite "$out/bench/suite" --out "$out" "$@"
rc=$?
# The latest figures, linked from the README.
mkdir -p Documentation/bench
cp "$out/bench.md" "$out/bench.csv" "$out/bench.png" "$out/timeline.png" Documentation/bench/ 2>/dev/null
exit $rc
