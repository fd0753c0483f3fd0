#!/usr/bin/env bash
# The modprobe drop-in, tested with a real modules tree and Debian's kmod:
#   1. the test kernel's modules_install into a scratch root, then
#      `make install INSTALL_MOD_PATH=...`: modules.dep must give virtio_net
#      ours and no C failover module;
#   2. a guest whose /lib/modules is that tree runs `modprobe virtio_net`:
#      kmod loads ours, never the C failover/net_failover, and the group forms;
#   3. Debian's mkinitramfs (initramfs-tools) for that kernel, with virtio_net
#      and e1000e (the VF driver) in its module list, carries ours; a guest booted with the modules tree
#      taken out of that initramfs loads ours;
#   4. `make uninstall`: modules.dep is the C modules' again, the guest loads
#      them, and nothing of ours is left in the tree.
# mkinitramfs only reads /lib/modules and /boot: it runs in a private mount
# namespace where read-only overlays add the scratch tree and the kernel's
# config there, so this machine's own directories are never written.
# Ends with "N passed, M failed".
suite=install
. "$(dirname "$0")/lib.sh"
with_test_kernel "${1:-}"
# INSTALL_MOD_PATH=<scratch>/usr: the tree lands in <scratch>/usr/lib/modules,
# the layout of a merged-/usr Debian, so it can overlay /usr/lib below.
dest=$out/root/usr
tree=$dest/lib/modules/$release

deps_of_virtio_net() { grep '^kernel/drivers/net/virtio_net.ko:' "$tree/modules.dep"; }

modules_tree "$dest"
if make -s KDIR="$kdir" INSTALL_MOD_PATH="$dest" install >"$out/make-install.log" 2>&1; then
	pass "make install"
else
	cat "$out/make-install.log"
	fail "make install"
	finish
fi

dep=$(deps_of_virtio_net)
echo "    modules.dep: $dep"
case $dep in
*kernel/drivers/net/net_failover.ko* | *kernel/net/core/failover.ko*) fail "modules.dep still names a C module for virtio_net" ;;
*updates/net_failover.ko* | *updates/failover.ko* | *updates/net_failover_rs.ko*) pass "modules.dep gives virtio_net ours" ;;
*) fail "modules.dep gives virtio_net no failover module" ;;
esac
if grep -q 'kernel/drivers/net/net_failover.ko\|kernel/net/core/failover.ko' "$tree/modules.dep"; then
	fail "modules.dep still lists a C failover module"
else
	pass "depmod ignores the C modules that ours replaces"
fi
guest installed "$dest" rust "modprobe virtio_net loads ours"

# initramfs-tools: its mkinitramfs reads /lib/modules/<release> (on Debian,
# /usr/lib/modules) and /boot/config-<release>, which this machine lacks.
conf=$out/initramfs-tools
mkdir -p "$conf/boot"
cp -r /usr/share/initramfs-tools/conf.d "$conf/" 2>/dev/null || mkdir -p "$conf/conf.d"
printf '%s\n' MODULES=list BUSYBOX=n COMPRESS=gzip >"$conf/initramfs.conf"
printf "%s\n" virtio_net e1000e >"$conf/modules"
cp "$kdir/.config" "$conf/boot/config-$release"
img=$out/initrd.img-$release
if ! command -v mkinitramfs >/dev/null; then
	fail "mkinitramfs missing (tests/setup.sh installs initramfs-tools-core)"
elif ! unshare -m true 2>/dev/null; then
	echo "SKIP install: mkinitramfs: this machine allows no private mount namespace (unshare -m), which the test needs to show it the scratch tree"
else
	unshare -m sh -euc '
		mount -t overlay overlay -o "lowerdir=$1/lib:/usr/lib" /usr/lib
		mount -t overlay overlay -o "lowerdir=$2/boot:/boot" /boot
		mkinitramfs -d "$2" -o "$3" "$4"' sh "$dest" "$conf" "$img" "$release" >"$out/mkinitramfs.log" 2>&1
	if [ -s "$img" ]; then
		x=$out/initrd
		mkdir -p "$x" && unmkinitramfs "$img" "$x"
		listed=$(find "$x" -name '*failover*.ko' -printf '%P ')
		echo "    initramfs: $listed"
		xdep=$(grep '^kernel/drivers/net/virtio_net.ko:' "$x/usr/lib/modules/$release/modules.dep")
		echo "    its modules.dep: $xdep"
		if [ -f "$x/usr/lib/modules/$release/updates/net_failover_rs.ko" ] && ! echo "$listed" | grep -q kernel/; then
			pass "mkinitramfs carries ours and no C failover module"
		else
			fail "mkinitramfs: the initramfs does not carry ours alone"
		fi
		guest initramfs "$x/usr" rust "the initramfs's modules tree loads ours"
	else
		cat "$out/mkinitramfs.log"
		fail "mkinitramfs built nothing"
	fi
fi

if make -s KDIR="$kdir" INSTALL_MOD_PATH="$dest" uninstall >"$out/make-uninstall.log" 2>&1; then
	pass "make uninstall"
else
	cat "$out/make-uninstall.log"
	fail "make uninstall"
fi
left=$(find "$tree" -name 'net_failover_rs.ko' -o -path '*/updates/*failover.ko' | tr '\n' ' ')
[ -z "$left" ] && pass "make uninstall leaves nothing of ours" || fail "make uninstall left $left"
dep=$(deps_of_virtio_net)
echo "    modules.dep: $dep"
case $dep in
*kernel/drivers/net/net_failover.ko*kernel/net/core/failover.ko*) pass "modules.dep gives virtio_net the C modules again" ;;
*) fail "modules.dep after make uninstall" ;;
esac
guest uninstalled "$dest" c "modprobe virtio_net loads the C modules again"
finish
