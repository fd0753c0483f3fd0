# shellcheck shell=bash
# Sourced by the route tests (tests/install.sh, tests/dkms.sh, tests/docs.sh):
# the set-up they share and their PASS/FAIL tally. Set `suite` before sourcing.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
export PATH=$HOME/.cargo/bin:$PATH
out=$root/tests/out/$suite
harness=tests/harness/target/release/nf-harness
passed=0 failed=0
pass() { echo "PASS $suite: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $suite: $*"; failed=$((failed + 1)); }
finish() {
	echo "$passed passed, $failed failed"
	exit $((failed > 0))
}
# with_test_kernel [KDIR]: sets kdir (the argument, else tests/setup.sh's test
# kernel) and release, builds the harness, and empties $out.
with_test_kernel() {
	kdir=${1:-$(tests/setup.sh | tail -n 1)} || { fail "tests/setup.sh failed"; finish; }
	release=$(cat "$kdir/include/config/kernel.release")
	cargo build -q --release --manifest-path tests/harness/Cargo.toml || { fail "harness build"; finish; }
	rm -rf "$out"
	mkdir -p "$out"
}
