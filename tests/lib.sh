# shellcheck shell=bash
# Sourced by the route tests (tests/install.sh, tests/dkms.sh, tests/docs.sh,
# tests/intree.sh): the set-up they share, their PASS/FAIL tally and the
# steps more than one of them takes. Set `suite` before sourcing.
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
check() { # check <what> <command...>: PASS if the command succeeds
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# with_test_kernel [KDIR]: sets kdir (the argument, else tests/setup.sh's test
# kernel) and release, builds the harness, and empties $out.
with_test_kernel() {
	kdir=${1:-$(tests/setup.sh | tail -n 1)} || { fail "tests/setup.sh failed"; finish; }
	release=$(cat "$kdir/include/config/kernel.release")
	cargo build -q --release --manifest-path tests/harness/Cargo.toml || { fail "harness build"; finish; }
	rm -rf "$out"
	mkdir -p "$out"
}
# modules_tree <root>: the test kernel's modules_install into <root>.
modules_tree() {
	make -s -C "$kdir" LLVM=-19 INSTALL_MOD_PATH="$1" modules_install >"$out/modules_install.log" 2>&1 ||
		{ cat "$out/modules_install.log"; fail "modules_install of the test kernel"; finish; }
}
# guest <tag> <root> <rust|c> <what>: a guest with <root>'s modules tree and
# Debian's kmod must load ours (rust) or the C modules (c) on modprobe
# virtio_net, and form the group (nf-harness --install-root).
guest() {
	local log=$out/guest-$1.log
	if "$harness" --kdir "$kdir" --out "$out/$1" --install-root "$2" --expect "$3" >"$log" 2>&1; then
		pass "$4"
	else
		fail "$4"
	fi
	sed 's/^/    /' "$log"
}
