# shellcheck shell=bash
# Sourced by the route tests (tests/install.sh, tests/dkms.sh): the set-up
# they share and their PASS/FAIL tally. Set `suite` before sourcing.
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
# The test kernel (argument 1, else tests/setup.sh's), its release, the harness.
kdir=${1:-$(tests/setup.sh | tail -n 1)} || { fail "tests/setup.sh failed"; finish; }
release=$(cat "$kdir/include/config/kernel.release")
cargo build -q --release --manifest-path tests/harness/Cargo.toml || { fail "harness build"; finish; }
rm -rf "$out"
mkdir -p "$out"
