#!/usr/bin/env bash
# DKMS and the Debian package, with Debian's dkms (3.0.10) and dh-dkms:
#   1. dkms add/build/install against the test kernel's build tree, with
#      private source, dkms and install trees (this machine's /usr/src,
#      /var/lib/dkms and /lib/modules are not touched); the install tree is
#      the test kernel's modules_install. dkms appends CC=clang LD=ld.lld to
#      its make command for this clang-built tree; the build must cope.
#      modules.dep must name ours for virtio_net, and a guest booted with
#      that tree must load what `modinfo -n` names; `dkms remove` cleans up.
#   2. a kernel without Rust, and one built with another rustc, are skipped
#      (status 77) with a message that says why.
#   3. dpkg-buildpackage builds net-failover-rs-dkms_<version>_all.deb;
#      it installs on this machine (its postinst reports on the running
#      kernel), DKMS builds the module from it for the test kernel, and
#      purging the package removes the source and DKMS's state. This step
#      does change the machine while it runs: the package is installed for
#      real (its source in /usr/src, its state in /var/lib/dkms, and, as any
#      DKMS package, its module for each installed kernel that has Rust and
#      its build tree), and it is purged on exit. It is skipped when the
#      package is already installed, so a user's copy is never removed.
# Ends with "N passed, M failed".
suite=dkms
. "$(dirname "$0")/lib.sh"
with_test_kernel "${1:-}"
name=net_failover_rs
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

# One version everywhere: dkms.conf, modinfo's (nf_helpers.c), the Debian changelog.
modver=$(sed -n 's/^MODULE_VERSION("\(.*\)");/\1/p' nf_helpers.c)
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
echo "    dkms.conf $version, MODULE_VERSION $modver, debian/changelog $debver"
check "dkms.conf, nf_helpers.c and debian/changelog agree on the version" \
	test -n "$version" -a "$version" = "$modver" -a "$version" = "${debver%-*}"

# The source as a user has it: the repository's files without the tests.
src=$out/src
mkdir -p "$src"
git ls-files -co --exclude-standard | grep -v '^tests/' | tar -cf - -T - | tar -xf - -C "$src"

# 1. dkms with private trees.
dk=$out/dkms
mkdir -p "$dk/source" "$dk/tree"
cp -r "$src" "$dk/source/$name-$version"
inst=$dk/root
modules_tree "$inst"
trees=(--sourcetree "$dk/source" --dkmstree "$dk/tree" --installtree "$inst/lib/modules" --no-depmod)
dkms=(dkms "${trees[@]}" -k "$release" --kernelsourcedir "$kdir")
run() { # run <what> <log> <command...>
	local what=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then pass "$what"; else
		sed 's/^/    /' "$log"
		fail "$what"
	fi
}
run "dkms add" "$out/add.log" "${dkms[@]}" add "$name/$version"
echo "    dkms build (about 10 s)" >&2
run "dkms build against the test kernel" "$out/build.log" "${dkms[@]}" build "$name/$version"
makelog=$dk/tree/$name/$version/$release/$(uname -m)/log/make.log
head -n 3 "$makelog" 2>/dev/null | tail -n 1 | sed 's/^/    make.log: /'
check "dkms added CC=clang LD=ld.lld and the build used the installed LLVM tools" \
	sh -c "grep -q 'CC=clang LD=ld.lld' '$out/build.log' && grep -q 'CC=clang-19 LD=ld.lld-19' '$makelog'"
run "dkms install" "$out/install.log" "${dkms[@]}" install "$name/$version"
depmod -b "$inst" "$release"
where=$(modinfo -b "$inst" -k "$release" -n net_failover)
echo "    modinfo -n net_failover: $where"
check "modinfo -n net_failover names the module dkms installed" \
	test "$where" = "$inst/lib/modules/$release/updates/dkms/net_failover.ko"
dep=$(grep '^kernel/drivers/net/virtio_net.ko:' "$inst/lib/modules/$release/modules.dep")
echo "    modules.dep: $dep"
case $dep in
*updates/dkms/*) pass "modules.dep gives virtio_net the module dkms installed" ;;
*) fail "modules.dep gives virtio_net $dep" ;;
esac
guest dkms "$inst" rust "a guest with dkms's modules tree loads ours"
run "dkms remove" "$out/remove.log" dkms "${trees[@]}" remove "$name/$version" --all
left=$(find "$inst/lib/modules/$release/updates" "$dk/tree" -name '*.ko' 2>/dev/null | tr '\n' ' ')
[ -z "$left" ] && pass "dkms remove leaves no module" || fail "dkms remove left $left"

# 2. kernels the module cannot be built for are skipped, and dkms says why.
skip_case() { # skip_case <what> <expected message> <.config lines...>
	local what=$1 want=$2 fake=$out/fake-$3
	shift 2
	mkdir -p "$fake/include/config"
	printf '%s\n' "$@" >"$fake/.config"
	echo "$release-fake" >"$fake/include/config/kernel.release"
	mkdir -p "$inst/lib/modules/$release-fake"
	local d=(dkms "${trees[@]}" -k "$release-fake" --kernelsourcedir "$fake")
	"${d[@]}" add "$name/$version" >/dev/null 2>&1
	"${d[@]}" build "$name/$version" >"$fake.log" 2>&1
	local rc=$?
	sed 's/^/    /' "$fake.log" | grep -v '^ *$' | head -n 4
	if [ $rc = 77 ] && grep -q "$want" "$fake.log"; then pass "$what"; else fail "$what (exit $rc)"; fi
	dkms "${trees[@]}" remove "$name/$version" --all >/dev/null 2>&1
}
skip_case "a kernel without Rust is skipped, saying so" "without Rust support" \
	norust 'CONFIG_CC_IS_CLANG=y' '# CONFIG_RUST is not set'
skip_case "a kernel built with another rustc is skipped, saying so" "was built with rustc 1.78.0" \
	oldrustc 'CONFIG_CC_IS_CLANG=y' 'CONFIG_RUST=y' 'CONFIG_RUSTC_VERSION_TEXT="rustc 1.78.0 (9b00956e5 2024-04-29)"'

# 3. The Debian package.
deb=$out/deb
mkdir -p "$deb"
cp -r "$src" "$deb/$name-$version"
if (cd "$deb/$name-$version" && dpkg-buildpackage -b -us -uc) >"$out/dpkg-buildpackage.log" 2>&1; then
	pass "dpkg-buildpackage builds the package"
else
	tail -n 20 "$out/dpkg-buildpackage.log"
	fail "dpkg-buildpackage builds the package"
	finish
fi
pkg=$deb/net-failover-rs-dkms_${debver}_all.deb
dpkg-deb -c "$pkg" | awk '{ print $6 }' | grep -c "^./usr/src/$name-$version/" | sed 's/^/    files in the source tree: /'
check "the package carries the DKMS source and dkms.conf" \
	sh -c "dpkg-deb -c '$pkg' | grep -q './usr/src/$name-$version/dkms.conf'"
if dpkg-query -W -f='${Status}' net-failover-rs-dkms 2>/dev/null | grep -q 'ok installed'; then
	echo "SKIP dkms: the package: net-failover-rs-dkms is already installed on this machine; not touching it"
	finish
fi
trap 'as_root dpkg --purge net-failover-rs-dkms >/dev/null 2>&1' EXIT
if as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >"$out/apt-install.log" 2>&1; then
	pass "the package installs"
else
	tail -n 20 "$out/apt-install.log"
	fail "the package installs"
fi
grep 'net-failover-rs-dkms:' "$out/apt-install.log" | sed 's/^/    postinst: /'
check "its postinst reports on the running kernel" grep -q 'net-failover-rs-dkms: .*running kernel' "$out/apt-install.log"
echo "    dkms build from the package (about 10 s)" >&2
if as_root dkms build "$name/$version" -k "$release" --kernelsourcedir "$kdir" >"$out/deb-build.log" 2>&1 &&
	[ -f "/var/lib/dkms/$name/$version/$release/$(uname -m)/module/$name.ko" ]; then
	pass "DKMS builds the module from the package for the test kernel"
else
	sed 's/^/    /' "$out/deb-build.log"
	fail "DKMS builds the module from the package for the test kernel"
fi
if as_root dpkg --purge net-failover-rs-dkms >"$out/purge.log" 2>&1 &&
	[ ! -e "/usr/src/$name-$version" ] && [ ! -e "/var/lib/dkms/$name" ]; then
	pass "purging the package removes its source and DKMS's state"
else
	sed 's/^/    /' "$out/purge.log"
	fail "purging the package removes its source and DKMS's state"
fi
finish
