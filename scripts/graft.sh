#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# graft.sh TREE: put net_failover_rs into a Linux 6.12 source tree.
#
# Copies the module's sources (Kbuild, Kconfig, *.rs, netdev/, nf_helpers.c,
# include/; not tests/) to TREE/drivers/net/net_failover_rs/, sources its
# Kconfig from drivers/net/Kconfig right after NET_FAILOVER, and makes
# CONFIG_NET_FAILOVER_RUST choose between the C objects and ours:
# drivers/net/Makefile builds net_failover_rs/ instead of net_failover.o, and
# net/core/Makefile does not build failover.o. Then, e.g.:
#
#   scripts/config --file .config --enable NET_FAILOVER_RUST
#   make olddefconfig && make
#
# Idempotent: a second run changes nothing (no file is rewritten, so no mtime
# moves). Files are replaced, never written in place, so a tree that is a
# hard-linked copy (cp -al) of another one leaves the other one untouched.
set -euo pipefail
me=graft.sh
root=$(cd "$(dirname "$0")/.." && pwd)
die() {
	echo "$me: $*" >&2
	exit 1
}
[ $# = 1 ] || die "usage: $me KERNEL_SOURCE_TREE"
tree=${1%/}
[ -d "$tree" ] || die "$tree: no such directory"
tree=$(cd "$tree" && pwd)
[ -f "$tree/Makefile" ] && [ -f "$tree/drivers/net/Kconfig" ] && [ -f "$tree/net/core/Makefile" ] ||
	die "$tree is not a Linux source tree (no Makefile, drivers/net/Kconfig or net/core/Makefile)"
version=$(sed -n 's/^VERSION = //p' "$tree/Makefile")
patchlevel=$(sed -n 's/^PATCHLEVEL = //p' "$tree/Makefile")
[ "$version.$patchlevel" = 6.12 ] || die "$tree is Linux ${version:-?}.${patchlevel:-?}, not 6.12"
[ -e "$tree/include/config/auto.conf" ] && [ ! -d "$tree/drivers/net/net_failover_rs" ] &&
	echo "$me: note: $tree is configured; run 'make olddefconfig' after grafting" >&2

dest=$tree/drivers/net/net_failover_rs
changed=0

# put SRC DST: DST gets SRC's contents unless it has them already.
put() {
	if cmp -s "$1" "$2"; then return; fi
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2.graft-tmp"
	chmod 644 "$2.graft-tmp"
	mv -f "$2.graft-tmp" "$2"
	echo "  GRAFT   ${2#"$tree"/}"
	changed=$((changed + 1))
}

# The files Kbuild needs (the generated bindings are the build's, not ours).
cd "$root"
files=(Kbuild Kconfig nf_helpers.c)
for f in *.rs netdev/*.rs include/*.h; do
	case $f in *_generated.rs) continue ;; esac
	[ -f "$f" ] && files+=("$f")
done
for f in Kbuild Kconfig nf_helpers.c net_failover.rs netdev.rs include/net_failover_rs.h; do
	[ -f "$f" ] || die "$root is missing $f"
done

# The edits: each function prints the new contents of the file on stdout, or
# fails with a message naming what it did not find.
kconfig_line='source "drivers/net/net_failover_rs/Kconfig"'
edit_kconfig() { # after the whole NET_FAILOVER entry, before the next one
	if grep -qxF "$kconfig_line" "$1"; then cat "$1"; return; fi
	grep -qx 'config NET_FAILOVER' "$1" || { echo "no 'config NET_FAILOVER' entry" >&2; return 1; }
	awk -v line="$kconfig_line" '
		in_entry && /^(config|menuconfig|source|if|endif|menu|endmenu|choice|endchoice|comment) / {
			print line; print ""; in_entry = 0; done = 1
		}
		in_entry && /^(endif|endmenu|endchoice)$/ { print line; print ""; in_entry = 0; done = 1 }
		{ print }
		/^config NET_FAILOVER$/ { in_entry = 1 }
		END { if (!done) { print "the NET_FAILOVER entry has no end" > "/dev/stderr"; exit 1 } }' "$1"
}
c_net_failover='obj-$(CONFIG_NET_FAILOVER) += net_failover.o'
rs_net_failover='obj-$(CONFIG_NET_FAILOVER) += net_failover_rs/'
edit_drivers_makefile() {
	if grep -qxF "$rs_net_failover" "$1"; then cat "$1"; return; fi
	[ "$(grep -cxF "$c_net_failover" "$1")" = 1 ] ||
		{ echo "no line '$c_net_failover'" >&2; return 1; }
	awk -v c="$c_net_failover" -v rs="$rs_net_failover" '
		$0 == c {
			print "# CONFIG_NET_FAILOVER_RUST: net_failover_rs/ replaces net_failover.o (and"
			print "# net/core/failover.o)."
			print "ifdef CONFIG_NET_FAILOVER_RUST"
			print rs
			print "else"
			print c
			print "subdir- += net_failover_rs"
			print "endif"
			next
		}
		{ print }' "$1"
}
c_failover='obj-$(CONFIG_FAILOVER) += failover.o'
edit_core_makefile() {
	if grep -qx 'ifndef CONFIG_NET_FAILOVER_RUST' "$1"; then cat "$1"; return; fi
	[ "$(grep -cxF "$c_failover" "$1")" = 1 ] ||
		{ echo "no line '$c_failover'" >&2; return 1; }
	awk -v c="$c_failover" '
		$0 == c {
			print "# CONFIG_NET_FAILOVER_RUST: drivers/net/net_failover_rs/ replaces failover.o."
			print "ifndef CONFIG_NET_FAILOVER_RUST"
			print c
			print "endif"
			next
		}
		{ print }' "$1"
}

# Check all three edits before changing anything.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
edit_kconfig "$tree/drivers/net/Kconfig" >"$tmp/Kconfig" 2>"$tmp/err" ||
	die "$tree/drivers/net/Kconfig: $(cat "$tmp/err")"
edit_drivers_makefile "$tree/drivers/net/Makefile" >"$tmp/drivers.Makefile" 2>"$tmp/err" ||
	die "$tree/drivers/net/Makefile: $(cat "$tmp/err")"
edit_core_makefile "$tree/net/core/Makefile" >"$tmp/core.Makefile" 2>"$tmp/err" ||
	die "$tree/net/core/Makefile: $(cat "$tmp/err")"

for f in "${files[@]}"; do put "$root/$f" "$dest/$f"; done
# Sources of ours that are no longer in the module (build outputs stay).
for f in "$dest"/*.rs "$dest"/netdev/*.rs "$dest"/include/*.h; do
	[ -f "$f" ] || continue
	case $f in *_generated.rs) continue ;; esac
	[ -f "$root/${f#"$dest"/}" ] && continue
	rm -f "$f"
	echo "  REMOVE  ${f#"$tree"/}"
	changed=$((changed + 1))
done
put "$tmp/Kconfig" "$tree/drivers/net/Kconfig"
put "$tmp/drivers.Makefile" "$tree/drivers/net/Makefile"
put "$tmp/core.Makefile" "$tree/net/core/Makefile"
if [ "$changed" = 0 ]; then
	echo "$me: $tree is up to date"
else
	echo "$me: grafted net_failover_rs into $tree ($changed files changed)"
fi
