#!/usr/bin/env bash
# In-tree build test of scripts/graft.sh:
#
#   tests/intree.sh [KDIR]    KDIR: the test kernel's O= build tree (default:
#                             tests/setup.sh --print); LLVM= as it was built (-19)
#
# Grafts the module into a scratch copy of KDIR's source tree (hard links:
# every file the graft or the build replaces is replaced, never written in
# place), switches CONFIG_NET_FAILOVER_RUST on in KDIR's configuration and runs
# the kernel's own `make` (all targets: vmlinux, bzImage, modules):
#
#   (a) with O=: in a copy of KDIR (cp -a keeps the mtimes), its paths moved
#       to the copies; each decision to rebuild is Kbuild's, commands included;
#   (b) without O=: KDIR's outputs copied into the source copy, so the kernel
#       is already built in the source tree. The commands an O= build recorded
#       name the source tree ($(srctree)/..., -I$(src) ...) where an in-source
#       build names none, and they do not map one to one (rewriting the paths
#       still left ~70 of them differing, and unmodified 1394 would rerun:
#       the whole 16-minute kernel build). So this build runs with
#       KBUILD_NOCMDDEP=1 (Kbuild rebuilds on changed prerequisites and missing
#       targets, not on changed commands) after removing the modules.order
#       lists, the only outputs of the other directories that the switch
#       changes and that only the command check would notice (they are text,
#       regenerated in no time). (a) checks the command-driven rebuilds.
#
# Then (c), in (a)'s tree, NET_FAILOVER=y: ours is built into vmlinux.
# Checks: the module is built and exports both C APIs, virtio_net now depends
# on it, the C failover.o/net_failover.o are not built, vmlinux and bzImage
# are not rebuilt (mtimes) nor is any other object but virtio_net's module
# link, a second make rebuilds nothing, the graft is idempotent and refuses a
# tree that is not 6.12 or lacks the lines it edits, and the cached trees are
# untouched. Prints PASS/FAIL lines and ends with "N passed, M failed".
# NF_KEEP=1 keeps the scratch directory.
suite=intree
. "$(dirname "$0")/lib.sh"
kdir=${1:-$("$root/tests/setup.sh" --print)}
kdir=$(cd "$kdir" 2>/dev/null && pwd) || { echo "usage: $0 KDIR (an O= kernel build tree)" >&2; exit 2; }
llvm=${LLVM:--19}
jobs=${JOBS:-$(($(nproc) + 1))}
t0=$SECONDS
step() { printf '[intree %4ds] %s\n' $((SECONDS - t0)) "$*"; }

src=$(readlink -f "$kdir/source" 2>/dev/null)
[ -f "$kdir/vmlinux" ] && [ -f "$kdir/.config" ] && [ -f "$src/Makefile" ] ||
	{ fail "$kdir is not a built O= kernel tree (vmlinux, .config, source link)"; finish; }
grep -q '^CONFIG_RUST=y' "$kdir/.config" && grep -q '^CONFIG_NET_FAILOVER=m' "$kdir/.config" ||
	{ fail "$kdir/.config needs CONFIG_RUST=y and CONFIG_NET_FAILOVER=m"; finish; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/nf-intree.XXXXXX")
if [ "${NF_KEEP:-}" = 1 ]; then
	trap 'echo "scratch kept: $scratch"' EXIT
else
	trap 'rm -rf "$scratch"' EXIT
fi
touch "$scratch/start"
sleep 1
tree=$scratch/src build=$scratch/build
graft=$root/scripts/graft.sh

# repoint DIR FROM TO...: in the dependency and command files of DIR, FROM
# paths become TO paths, mtimes kept (pairs: FROM1 TO1 FROM2 TO2 ...).
repoint() {
	local dir=$1 f args=()
	shift
	while [ $# -ge 2 ]; do args+=(-e "s|$1|$2|g"); shift 2; done
	grep -rlF -e "$src" -e "$kdir" --include='.*.cmd' --include='*.d' --include=auto.conf.cmd "$dir" |
		while read -r f; do
			touch -r "$f" "$scratch/ref"
			# tools/ has its own build (no KBUILD_NOCMDDEP): in-source it
			# records $(srctree)/scripts/include as ./scripts/include.
			case $dir:$f in "$tree":"$tree"/tools/*) sed -i "s|$src/scripts/include|./scripts/include|g" "$f" ;; esac
			sed -i "${args[@]}" "$f"
			touch -r "$scratch/ref" "$f"
		done
}
kmake() { # kmake DIR LOG ARGS...: the kernel's make in DIR
	local dir=$1 log=$2
	shift 2
	make -C "$dir" LLVM="$llvm" -j"$jobs" "$@" >"$log" 2>&1 ||
		{ echo "make $* failed in $dir:"; tail -25 "$log" | sed 's/^/    /'; return 1; }
}
mtime() { stat -c %Y "$1" 2>/dev/null; }
c_objs=(drivers/net/net_failover net/core/failover)
no_c_objs() { # no_c_objs DIR EXT...: none of the C objects with these extensions exists
	local dir=$1 o x
	shift
	for o in "${c_objs[@]}"; do for x in "$@"; do [ ! -e "$dir/$o.$x" ] || return 1; done; done
}
rm_c_objs() { # the C objects: gone, so that building them would show
	local o
	for o in "${c_objs[@]}"; do rm -f "$1/$o".{o,ko,mod,mod.c,mod.o} "$1/$(dirname "$o")/.$(basename "$o")".*.cmd; done
}

# checks_after_build NAME OBJTREE LOG: what the switched build must show.
checks_after_build() {
	local n=$1 o=$2 log=$3 ko=$2/drivers/net/net_failover_rs/net_failover_rs.ko s missing=
	if grep -iE '(^|[^-])warning' "$log" >"$scratch/warn"; then
		fail "$n: warnings in the build:"
		sed 's/^/    /' "$scratch/warn" | head -10
	else
		pass "$n: no warning in the build"
	fi
	check "$n: net_failover_rs.ko is built" test -f "$ko"
	if [ -f "$ko" ]; then
		pass "$n: modinfo: $(modinfo -F name "$ko") ($(modinfo -F description "$ko"); license $(modinfo -F license "$ko"); vermagic $(modinfo -F vermagic "$ko" | cut -d' ' -f1))"
	fi
	for s in net_failover_create net_failover_destroy failover_register failover_unregister failover_slave_unregister; do
		grep -qP "^0x[0-9a-f]+\t$s\tdrivers/net/net_failover_rs/net_failover_rs\t" "$o/Module.symvers" || missing+=" $s"
	done
	check "$n: Module.symvers: net_failover_rs exports both C APIs${missing:+ (missing:$missing)}" test -z "$missing"
	check "$n: virtio_net.ko now depends on net_failover_rs ($(modinfo -F depends "$o/drivers/net/virtio_net.ko"))" \
		test "$(modinfo -F depends "$o/drivers/net/virtio_net.ko")" = net_failover_rs
	check "$n: modules.order lists net_failover_rs, not failover nor net_failover" eval \
		"grep -qx drivers/net/net_failover_rs/net_failover_rs.o '$o/modules.order' &&
		 ! grep -qE '^(net/core/failover|drivers/net/net_failover)\.o$' '$o/modules.order'"
	check "$n: the C failover.o and net_failover.o are not built" no_c_objs "$o" o ko
	check "$n: vmlinux not rebuilt (mtime $(date -d @"$(mtime "$o/vmlinux")" '+%F %T'), as the cached kernel's)" \
		test "$(mtime "$o/vmlinux")" = "$(mtime "$kdir/vmlinux")"
	check "$n: bzImage not rebuilt" test "$(mtime "$o/arch/x86/boot/bzImage")" = "$(mtime "$kdir/arch/x86/boot/bzImage")"
	find "$o" -newer "$o/.nf-marker" -type f \( -name '*.o' -o -name '*.ko' -o -name '*.a' -o -name 'vmlinux*' \) \
		! -path "$o/drivers/net/net_failover_rs/*" -printf '%P\n' | sort >"$scratch/rebuilt"
	check "$n: nothing else rebuilt but virtio_net's module link ($(tr '\n' ' ' <"$scratch/rebuilt"))" \
		eval "[ -z \"\$(grep -vxE 'drivers/net/virtio_net\.(mod\.o|ko)' '$scratch/rebuilt')\" ]"
}

step "copying the source tree $src (hard links)"
cp -al "$src" "$tree" || { fail "cannot copy $src"; finish; }

step "graft: refusals"
mkdir -p "$scratch/old/drivers/net" "$scratch/old/net/core"
sed 's/^PATCHLEVEL = .*/PATCHLEVEL = 11/' "$src/Makefile" >"$scratch/old/Makefile"
cp "$src/drivers/net/Kconfig" "$src/drivers/net/Makefile" "$scratch/old/drivers/net/"
cp "$src/net/core/Makefile" "$scratch/old/net/core/"
msg=$("$graft" "$scratch/old" 2>&1)
rc=$?
refused() { [ "$rc" != 0 ] && grep -q "$1" <<<"$msg" && [ ! -e "$scratch/old/drivers/net/net_failover_rs" ] &&
	cmp -s "$src/drivers/net/Kconfig" "$scratch/old/drivers/net/Kconfig"; }
check "graft refuses a tree that is not 6.12 ($msg)" refused 'not 6\.12'
cp "$src/Makefile" "$scratch/old/Makefile"
grep -v 'net_failover\.o' "$src/drivers/net/Makefile" >"$scratch/old/drivers/net/Makefile"
msg=$("$graft" "$scratch/old" 2>&1)
rc=$?
check "graft refuses a tree without a line it edits, changing nothing ($msg)" refused 'drivers/net/Makefile: no line'

step "graft into the copy"
if "$graft" "$tree" >"$scratch/graft.log" 2>&1; then
	pass "graft: $(tail -1 "$scratch/graft.log")"
else
	fail "graft failed:"
	sed 's/^/    /' "$scratch/graft.log"
	finish
fi
d=$tree/drivers/net/net_failover_rs
check "graft: sources in drivers/net/net_failover_rs/, no tests/ nor generated bindings" eval \
	"[ -f '$d/Kbuild' ] && [ -f '$d/Kconfig' ] && [ -f '$d/net_failover.rs' ] && [ -f '$d/nf_helpers.c' ] &&
	 [ -f '$d/include/net_failover_rs.h' ] && [ -d '$d/netdev' ] && [ ! -e '$d/tests' ] &&
	 [ ! -e '$d/nf_bindings_generated.rs' ]"
sourced_after() { # the config entry before our source line in drivers/net/Kconfig
	awk '/^config /{ last = $2 } /^source "drivers\/net\/net_failover_rs\/Kconfig"/{ print last }' \
		"$tree/drivers/net/Kconfig"
}
check "graft: drivers/net/Kconfig sources ours right after the NET_FAILOVER entry" \
	test "$(sourced_after)" = NET_FAILOVER
check "graft: drivers/net/Makefile and net/core/Makefile switch on CONFIG_NET_FAILOVER_RUST" eval \
	"grep -qxF 'obj-\$(CONFIG_NET_FAILOVER) += net_failover_rs/' '$tree/drivers/net/Makefile' &&
	 grep -qx 'ifndef CONFIG_NET_FAILOVER_RUST' '$tree/net/core/Makefile'"
snap() { (cd "$tree" && find drivers/net/net_failover_rs drivers/net/Kconfig drivers/net/Makefile net/core/Makefile \
	-type f -printf '%p %s %T@\n' | sort && cat drivers/net/Kconfig drivers/net/Makefile net/core/Makefile | md5sum); }
snap >"$scratch/snap1"
"$graft" "$tree" >"$scratch/graft2.log" 2>&1
snap >"$scratch/snap2"
check "graft: a second run changes nothing ($(tail -1 "$scratch/graft2.log"))" cmp -s "$scratch/snap1" "$scratch/snap2"

# (a) ------------------------------------------------------------------------
step "(a) O=: copying the build tree $kdir"
cp -a "$kdir" "$build" || { fail "cannot copy $kdir"; finish; }
touch -r "$build/Makefile" "$scratch/ref"
sed -i "s|$src|$tree|g" "$build/Makefile"
touch -r "$scratch/ref" "$build/Makefile"
ln -sfn "$tree" "$build/source"
repoint "$build" "$src" "$tree" "$kdir" "$build"
step "(a) O=: CONFIG_NET_FAILOVER_RUST=y, olddefconfig"
"$tree/scripts/config" --file "$build/.config" --enable NET_FAILOVER_RUST
kmake "$build" "$scratch/a-config.log" olddefconfig
check "(a) O=: .config: NET_FAILOVER_RUST=y, NET_FAILOVER=m, FAILOVER=m" eval \
	"grep -qx CONFIG_NET_FAILOVER_RUST=y '$build/.config' && grep -qx CONFIG_NET_FAILOVER=m '$build/.config' &&
	 grep -qx CONFIG_FAILOVER=m '$build/.config'"
rm_c_objs "$build"
touch "$build/.nf-marker"
sleep 1
step "(a) O=: make O=$build (all targets) ..."
s=$SECONDS
if kmake "$build" "$scratch/a.log"; then
	pass "(a) O=: make all succeeds ($((SECONDS - s)) s)"
else
	fail "(a) O=: make all"
fi
checks_after_build "(a) O=" "$build" "$scratch/a.log"
check "(a) O=: the bindings are generated in the object tree, nothing is written in the source tree" eval \
	"[ -f '$build/drivers/net/net_failover_rs/nf_bindings_generated.rs' ] &&
	 [ -z \"\$(find '$tree/drivers/net/net_failover_rs' -newer '$build/.nf-marker')\" ]"
step "(a) O=: make again ..."
touch "$build/.nf-marker2"
sleep 1
kmake "$build" "$scratch/a2.log"
check "(a) O=: a second make rebuilds nothing ($(find "$build" -newer "$build/.nf-marker2" -type f \( -name '*.o' -o -name '*.ko' -o -name '*.rs' \) -printf '%P ' | head -c 200))" \
	eval "[ -z \"\$(find '$build' -newer '$build/.nf-marker2' -type f \( -name '*.o' -o -name '*.ko' -o -name '*.rs' -o -name vmlinux \))\" ]"

# (c) ------------------------------------------------------------------------
step "(c) O=, NET_FAILOVER=y: built into vmlinux ..."
"$tree/scripts/config" --file "$build/.config" --enable NET_FAILOVER --enable FAILOVER
kmake "$build" "$scratch/c-config.log" olddefconfig
rm_c_objs "$build"
s=$SECONDS
if kmake "$build" "$scratch/c.log"; then
	pass "(c) NET_FAILOVER=y: make all succeeds ($((SECONDS - s)) s)"
else
	fail "(c) NET_FAILOVER=y: make all"
fi
check "(c) NET_FAILOVER=y: vmlinux exports net_failover_create and failover_register, built from ours" eval \
	"grep -qP '^0x[0-9a-f]+\tnet_failover_create\tvmlinux\t' '$build/Module.symvers' &&
	 grep -qP '^0x[0-9a-f]+\tfailover_register\tvmlinux\t' '$build/Module.symvers' &&
	 [ -f '$build/drivers/net/net_failover_rs/built-in.a' ]"
check "(c) NET_FAILOVER=y: the C failover.o and net_failover.o are not built" no_c_objs "$build" o
rm -rf "$build"

# (b) ------------------------------------------------------------------------
step "(b) in-source: copying the kernel's outputs into the source copy"
(
	shopt -s dotglob
	for e in "$kdir"/*; do
		case ${e##*/} in Makefile | .gitignore | source) continue ;; esac
		cp -a --remove-destination "$e" "$tree/" || exit 1
	done
) || { fail "cannot copy $kdir into $tree"; finish; }
repoint "$tree" "$src" "$tree" "$kdir" "$tree"
nocmd=KBUILD_NOCMDDEP=1
step "(b) in-source: CONFIG_NET_FAILOVER_RUST=y, olddefconfig"
"$tree/scripts/config" --file "$tree/.config" --enable NET_FAILOVER_RUST
kmake "$tree" "$scratch/b-config.log" $nocmd olddefconfig
check "(b) in-source: .config: NET_FAILOVER_RUST=y" grep -qx CONFIG_NET_FAILOVER_RUST=y "$tree/.config"
rm_c_objs "$tree"
find "$tree" \( -name modules.order -o -name .modules.order.cmd \) -delete
touch "$tree/.nf-marker"
sleep 1
step "(b) in-source: make $nocmd (all targets) ..."
s=$SECONDS
if kmake "$tree" "$scratch/b.log" $nocmd; then
	pass "(b) in-source: make all succeeds ($((SECONDS - s)) s)"
else
	fail "(b) in-source: make all"
fi
checks_after_build "(b) in-source" "$tree" "$scratch/b.log"
check "(b) in-source: the bindings are generated beside the sources" \
	test -f "$tree/drivers/net/net_failover_rs/nf_bindings_generated.rs"
"$graft" "$tree" >"$scratch/graft3.log" 2>&1
check "(b) in-source: graft again on the built tree: $(tail -1 "$scratch/graft3.log"), outputs kept" eval \
	"grep -q 'up to date' '$scratch/graft3.log' && [ -f '$tree/drivers/net/net_failover_rs/net_failover_rs.ko' ] &&
	 [ -f '$tree/drivers/net/net_failover_rs/nf_bindings_generated.rs' ]"

step "checking the cached trees"
changed=$(find "$kdir" "$src" -newer "$scratch/start" -print 2>/dev/null | head -5)
check "the cached build and source trees are untouched${changed:+ (changed: $changed)}" eval \
	"[ -z '$changed' ] && ! grep -q net_failover_rs '$src/drivers/net/Makefile' '$src/drivers/net/Kconfig' '$src/net/core/Makefile'"
step "done in $((SECONDS - t0)) s"
finish
