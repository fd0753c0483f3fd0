#!/usr/bin/env bash
# The test command. On a Debian 12 machine it installs what is missing, builds
# the test kernel (cached outside the repository), the module and its KUnit
# module, then runs every suite:
#   - the layering checks (tests/layering.sh),
#   - the negative build test of the abstraction (tests/soundness/run.sh),
#   - host unit tests of the policy code (cargo test, tests/policy),
#   - the QEMU suites (tests/harness): KUnit in the guest and the failover
#     scenarios against the C modules and ours, in one run,
#   - the documentation build (tests/docs.sh) and the install routes
#     (tests/install.sh, tests/dkms.sh, tests/intree.sh),
#   - the reliability slice on the debug kernel (tests/debug.sh) when that
#     kernel is cached; otherwise it says so and which command builds it.
# It ends with one line "N passed, M failed" summing all suites.
# Results: tests/out/results.md (table) and tests/out/results.json.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export PATH=$HOME/.cargo/bin:$PATH
out=$root/tests/out
mkdir -p "$out"
passed=0 failed=0

step() { printf '\n== %s\n' "$*" >&2; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
broken() { echo "FAIL $*"; failed=$((failed + 1)); finish; }

step "set-up: packages, toolchain, test kernel"
kdir=$(tests/setup.sh | tail -n 1) || broken "setup: tests/setup.sh failed"

step "building net_failover_rs.ko and net_failover_rs_kunit.ko"
make -s KDIR="$kdir" >"$out/build.log" 2>&1 || { cat "$out/build.log"; broken "build"; }
if grep -E '^(warning|error)' "$out/build.log"; then broken "build: warnings"; fi

suite() { # suite <log> <command...>: runs a script that ends "N passed, M failed"
	local log=$1
	shift
	"$@" 2>&1 | tee "$log"
	read -r sp sf < <(tail -n 1 "$log" | awk '/passed, .* failed$/ { print $1, $3 }')
	[ -n "${sp:-}" ] || { sp=0 sf=1; echo "FAIL $*: no result line"; }
	passed=$((passed + sp)) failed=$((failed + sf))
}

step "layering checks (unsafe only at the FFI edges, imports pointing down, code size)"
suite "$out/layering.log" tests/layering.sh

step "negative build test: safe code trying each soundness hole must not compile"
suite "$out/soundness.log" tests/soundness/run.sh "$kdir" "$out"

step "host unit tests of policy.rs and of the harness"
cargo test -q --manifest-path tests/policy/Cargo.toml >"$out/host-tests.log" 2>&1
rc=$?
cargo test -q --release --manifest-path tests/harness/Cargo.toml >>"$out/host-tests.log" 2>&1 || rc=1
cat "$out/host-tests.log"
read -r hp hf < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$out/host-tests.log")
[ $rc = 0 ] || [ "$hf" != 0 ] || hf=1
passed=$((passed + hp)) failed=$((failed + hf))

step "QEMU suites (TCG): KUnit, and the scenarios on the C and the Rust stack"
cargo build -q --release --manifest-path tests/harness/Cargo.toml || broken "harness build"
tests/harness/target/release/nf-harness --kdir "$kdir" --out "$out" \
	--rust-module "$root/net_failover_rs.ko" \
	--kunit-module "$root/tests/kunit/net_failover_rs_kunit.ko" \
	--module "$root/tests/pvdrv/nf_pvtest.ko" --module "$root/tests/debugmod/nf_debugtest.ko" 2>&1 | tee "$out/harness.log"
read -r qp qf < <(tail -n 1 "$out/harness.log" | awk '/passed, .* failed$/ { print $1, $3 }')
[ -n "${qp:-}" ] || { qp=0 qf=1; echo "FAIL harness: no result line"; }
passed=$((passed + qp)) failed=$((failed + qf))

step "documentation: Documentation/networking/net_failover_rs.rst with the kernel's Sphinx set-up, -W"
suite "$out/docs.log" tests/docs.sh "$kdir"

step "install routes: the modprobe drop-in with a real modules tree, kmod and initramfs-tools"
suite "$out/install.log" tests/install.sh "$kdir"

step "install routes: DKMS and the Debian package"
suite "$out/dkms.log" tests/dkms.sh "$kdir"

step "install routes: grafted into a copy of the kernel tree, CONFIG_NET_FAILOVER_RUST (about 2 minutes)"
suite "$out/intree.log" tests/intree.sh "$kdir"

step "reliability slice on the debug kernel (KASAN, kmemleak, lockdep, refcount trackers, fault injection)"
suite "$out/debug.log" tests/debug.sh
if [ -f "$out/debug/reliability.md" ] && [ "$out/debug/reliability.md" -nt "$out/harness.log" ]; then
	printf '\n' >>"$out/results.md"
	cat "$out/debug/reliability.md" >>"$out/results.md"
fi
finish
