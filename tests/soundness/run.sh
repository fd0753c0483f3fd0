#!/usr/bin/env bash
# Negative build test of the netdev abstraction.
#
#   tests/soundness/run.sh KDIR [OUT]
#
# Builds the module's Rust object from a copy of the tree, with
# --cfg nf_attempt="<name>" for each attempt of tests/soundness/attempts.rs:
# each must fail with exactly its expected error code, at a line of
# attempts.rs. One more build with every "<name>_ok" control must succeed
# without warnings, so no attempt fails for an unrelated reason. Prints one
# PASS/FAIL line per check and ends with "N passed, M failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kdir=${1:?usage: run.sh KDIR [OUT]}
out=${2:-$root/tests/out}/soundness
llvm=${LLVM:--19}
export PATH=$HOME/.cargo/bin:$PATH

# name and the error rustc must give.
attempts=(
	"forge_readside E0277"        # a ReadSide proof of our own (sealed trait)
	"any_proof E0277"             # any value as the read-side proof
	"rcu_literal E0423"           # Rcu built as a struct literal
	"rtnl_assume E0133"           # Rtnl::assume() without unsafe
	"rcu_escape E0521"            # a device kept after the RCU section
	"rtnl_escape E0597"           # a device kept after rtnl_unlock()
	"rtnl_send E0277"             # the RTNL proof sent to another thread
	"name_unlocked E0061"         # dev->name read without RTNL
	"other_vtables E0308"         # a MasterOps returning another type's tables
	"const_vtables E0515"         # tables from a promoted constant
	"untyped_rx_handler E0308"    # a typed rx handler for an untyped master
	"raw_rx_handler E0133"        # a C handler with any data, without unsafe
	"unlocked_sync E0308"         # address lists synced without their lock
	"forge_addr_lock E0133"       # the address-lock proof forged
	"skb_reuse E0382"             # an skb used after it was handed over
	"foreign_mtu_write E0599"     # dev->mtu written on a device not ours
	"unregistered_refcount E0599" # a refcount on a device not registered
	"slot_outlived E0515"         # a slot's device kept after the slot
	"ops_outlived E0515"          # a C driver's ops kept past their registration
	"forge_ref E0451"             # a tracked reference without its netdev_hold()
	"ref_outlived E0597"          # a device kept after its tracked reference
	"callers_rtnl E0133"          # a C caller's RTNL proof without unsafe
	"forge_slave_info E0451"      # a slave-data writer over any skb
	"forge_link_registration E0423" # a link-kind registration never registered
	"unpinned_work E0277"         # a delayed work moved out of its pinned place
)

passed=0 failed=0
pass() { echo "PASS soundness: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL soundness: $*"; failed=$((failed + 1)); }

rm -rf "$out"
mkdir -p "$out/src/tests"
cp -r "$root"/Kbuild "$root"/*.rs "$root"/nf_helpers.c "$root"/include "$root"/netdev "$out/src/"
cp -r "$root/tests/soundness" "$out/src/tests/"

build() { # build <log> [attempt...]
	local log=$1
	shift
	make -C "$kdir" M="$out/src" LLVM="$llvm" CONFIG_NET_FAILOVER_RS=m \
		NF_ATTEMPTS="$*" net_failover.o >"$log" 2>&1
}

controls=()
for a in "${attempts[@]}"; do controls+=("${a%% *}_ok"); done
if build "$out/controls.log" "${controls[@]}" && ! grep -q '^warning' "$out/controls.log"; then
	pass "the ${#controls[@]} controls (the legal paths) compile"
else
	fail "the controls do not compile cleanly:"
	grep -E '^(error|warning)' -A6 "$out/controls.log" | head -40
fi

for a in "${attempts[@]}"; do
	name=${a%% *} code=${a##* }
	log=$out/$name.log
	if build "$log" "$name"; then
		fail "$name compiled; expected error[$code]"
		continue
	fi
	codes=$(grep -oE '^error\[E[0-9]+\]' "$log" | sort -u | tr -d '\n')
	if [ "$codes" != "error[$code]" ]; then
		fail "$name: expected only error[$code], got: ${codes:-no error code}"
		grep -E '^error' -A4 "$log" | head -12
	elif ! grep -qE -- '--> .*tests/soundness/attempts\.rs:[0-9]+' "$log"; then
		fail "$name: error[$code] is not in attempts.rs"
	else
		pass "$name refused with error[$code] ($(grep -m1 -E "^error\[$code\]" "$log" | cut -c1-90))"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
