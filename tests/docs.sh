#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/docs.sh [--full] [SRC]: builds Documentation/networking/net_failover_rs.rst
# with the kernel's Sphinx configuration and extensions, warnings as errors.
#
# SRC is a 6.12 kernel source tree, or a build tree whose `source` link points
# to one (default: the test kernel's, `tests/setup.sh --print`). Nothing in it
# is changed: the kernel's Documentation/conf.py, sphinx/ (the extensions),
# sphinx-static/ and images/, and its top Makefile (conf.py reads the version
# from ../Makefile) are copied to a scratch tree, with Documentation/networking/
# holding our file and an index.rst whose toctree names it. sphinx-build then
# runs as the kernel's `make htmldocs SPHINXDIRS=networking` runs it (-c
# Documentation, SPHINX_CONF=networking/conf.py, the kerneldoc settings,
# version and release), with -W --keep-going.
#
# --full also builds the kernel's whole networking book with our file added to
# its networking/index.rst, and fails on any warning that names our file (the
# book has warnings of its own in a SPHINXDIRS=networking build: -W cannot be
# used there). It takes about a minute more.
#
# Needs Debian's python3-sphinx and graphviz (without dot(1) the kernel's
# kfigure extension warns, which -W makes an error). Output: tests/out/docs/
# (build logs, html/). Ends with "N passed, M failed".
suite=docs
. "$(dirname "$0")/lib.sh"
rst=Documentation/networking/net_failover_rs.rst

full=
if [ "${1:-}" = --full ]; then
	full=1
	shift
fi

# The kernel source: SRC, SRC/source, or the test kernel's build tree's source link.
src=${1:-}
if [ -z "$src" ]; then
	build=$(tests/setup.sh --print) || { fail "tests/setup.sh --print failed"; finish; }
	src=$build/source
fi
[ -f "$src/Documentation/conf.py" ] || [ ! -f "$src/source/Documentation/conf.py" ] || src=$src/source
src=$(readlink -f "$src")
if [ -f "$src/Documentation/conf.py" ] && [ -d "$src/Documentation/sphinx" ]; then
	pass "kernel source $src has Documentation/conf.py and Documentation/sphinx/"
else
	fail "no kernel source with Documentation/conf.py at ${src:-?}" \
		"(run tests/setup.sh, or pass the source tree: tests/docs.sh SRC)"
	finish
fi

if command -v sphinx-build >/dev/null 2>&1; then
	pass "sphinx-build: $(sphinx-build --version 2>&1)"
else
	fail "no sphinx-build (apt-get install python3-sphinx)"
	finish
fi
if command -v dot >/dev/null 2>&1; then
	pass "dot(1) for the kernel's kfigure extension: $(dot -V 2>&1)"
else
	fail "no dot(1): the kernel's kfigure extension warns without it (apt-get install graphviz)"
fi

# The kernel's heading conventions and licence line.
if [ "$(head -n 1 "$rst")" = ".. SPDX-License-Identifier: GPL-2.0" ]; then
	pass "$rst starts with the SPDX line"
else
	fail "$rst: first line is not '.. SPDX-License-Identifier: GPL-2.0'"
fi
if awk 'NR == 3 && /^=+$/ { o = length($0) } NR == 4 { t = length($0) }
	NR == 5 { exit !(o && $0 ~ /^=+$/ && length($0) == o && o >= t) }' "$rst"; then
	pass "the title has '=' above and below (Documentation/doc-guide/sphinx.rst)"
else
	fail "the title (lines 3-5) is not overlined and underlined with '='"
fi

version=$(sed -n 's/^VERSION = //p' "$src/Makefile")
patch=$(sed -n 's/^PATCHLEVEL = //p' "$src/Makefile")
sub=$(sed -n 's/^SUBLEVEL = //p' "$src/Makefile")
kversion=$version.$patch.$sub

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rm -rf "$out"
mkdir -p "$out"

# The kernel's Sphinx set-up, without the books.
setup_tree() { # setup_tree <dir>
	mkdir -p "$1/Documentation"
	cp "$src/Makefile" "$1/"
	cp -r "$src/Documentation/conf.py" "$src/Documentation/sphinx" \
		"$src/Documentation/sphinx-static" "$src/Documentation/images" "$1/Documentation/"
}

# sphinx-build as Documentation/Makefile's cmd_sphinx calls it for
# SPHINXDIRS=networking; the rest of the arguments are added.
sphinx() { # sphinx <tree> <log> <extra options...>
	local tree=$1 log=$2
	shift 2
	(cd "$tree/Documentation" &&
		PYTHONDONTWRITEBYTECODE=1 BUILDDIR="$tree/output" \
			SPHINX_CONF="$tree/Documentation/networking/conf.py" \
			sphinx-build -b html -c "$tree/Documentation" \
			-d "$tree/output/.doctrees/networking" \
			-D version="$kversion" -D release="$kversion" \
			-D kerneldoc_srctree="$src" -D kerneldoc_bin="$src/scripts/kernel-doc" \
			-q "$@" "$tree/Documentation/networking" "$tree/output/networking") >"$log" 2>&1
}

elapsed() { # elapsed <start in ns>: seconds since, one decimal
	local ds=$((($(date +%s%N) - $1) / 100000000))
	echo "$((ds / 10)).$((ds % 10))"
}
warnings() { grep -E '(WARNING|ERROR|SEVERE|CRITICAL):' "$1"; }

# 1. The file alone, in a networking book of its own, -W.
alone=$scratch/alone
setup_tree "$alone"
mkdir -p "$alone/Documentation/networking"
cp "$rst" "$alone/Documentation/networking/"
cat >"$alone/Documentation/networking/index.rst" <<'EOF'
.. SPDX-License-Identifier: GPL-2.0

==========
Networking
==========

.. toctree::
   :maxdepth: 2

   net_failover_rs
EOF
start=$(date +%s%N)
sphinx "$alone" "$out/build.log" -W --keep-going
rc=$?
secs=$(elapsed "$start")
if [ "$rc" = 0 ] && ! warnings "$out/build.log" >/dev/null &&
	[ -s "$alone/output/networking/net_failover_rs.html" ]; then
	pass "$rst builds with the kernel's conf.py and extensions, sphinx-build -W (${secs} s)"
	cp -r "$alone/output/networking" "$out/html"
else
	sed 's/^/    /' "$out/build.log"
	fail "$rst: sphinx-build -W failed (exit $rc; log: tests/out/docs/build.log)"
fi

# 2. The check itself: a planted warning must fail the same build.
planted=$scratch/planted
cp -r "$alone" "$planted"
rm -rf "$planted/output"
printf '\nA reference to `no such section`_.\n' >>"$planted/Documentation/networking/net_failover_rs.rst"
if sphinx "$planted" "$out/planted.log" -W --keep-going; then
	fail "a planted undefined reference did not fail sphinx-build -W"
else
	pass "a planted undefined reference fails sphinx-build -W"
fi

# 3. What the document must cover (the strings that name each topic).
covers() { # covers <topic> <fixed string>...
	local topic=$1 s missing=()
	shift
	for s in "$@"; do
		grep -qF -- "$s" "$rst" || missing+=("$s")
	done
	if [ ${#missing[@]} = 0 ]; then
		pass "covers $topic"
	else
		fail "covers $topic: missing $(printf "'%s' " "${missing[@]}")"
	fi
}
covers "the overview and both models" "Overview" "The 3-netdev model" "VIRTIO_NET_F_STANDBY" \
	"net_failover_create()" "The 2-netdev model" "failover_register()" "netvsc"
covers "QEMU" "failover=on" "id=standby0" "failover_pair_id=standby0" "-device e1000e," \
	"-device vfio-pci,"
covers "libvirt" "<teaming type='persistent'/>" "<teaming type='transient' persistent='ua-" \
	"<alias name='ua-"
covers "the migration procedure" "Live migration" "wait-unplug" "-incoming" "migrate_cancel"
covers "the modprobe drop-in" 'make KDIR=/lib/modules/$(uname -r)/build install' \
	'make KDIR=/lib/modules/$(uname -r)/build uninstall' "updates/" "depmod" \
	"update-initramfs -u" "lsmod"
dkver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf 2>/dev/null)
dkver=${dkver:-1.0.0}
covers "DKMS" "dkms.conf" "git archive --prefix=net_failover_rs-$dkver/ HEAD" "dkms add net_failover_rs/$dkver" \
	"dkms build net_failover_rs/$dkver" "dkms install net_failover_rs/$dkver" \
	"dkms remove net_failover_rs/$dkver --all" "updates/dkms/"
covers "the Debian package" "dpkg-buildpackage -b -us -uc" "net-failover-rs-dkms_${dkver}_all.deb" \
	"apt install" "CONFIG_RUST"
covers "the in-tree build" "scripts/graft.sh" "drivers/net/net_failover_rs/" \
	"CONFIG_NET_FAILOVER_RUST" "NET_FAILOVER"
covers "module parameters" "Module parameters" "link_kind=1" "NetworkManager" "primary_open_delay_ms=3000" "version \`\`$dkver\`\`"
covers "the differences from C" "Differences from the C driver" "Master counters never go backwards" \
	"opaque handle" "called with RTNL held"

# 4. --full: the kernel's networking book with our file in it.
if [ -n "$full" ]; then
	book=$scratch/book
	setup_tree "$book"
	cp -r "$src/Documentation/networking" "$book/Documentation/"
	cp "$rst" "$book/Documentation/networking/"
	sed -i 's/^   net_failover$/&\n   net_failover_rs/' "$book/Documentation/networking/index.rst"
	start=$(date +%s%N)
	sphinx "$book" "$out/book.log" --keep-going
	rc=$?
	secs=$(elapsed "$start")
	ours=$(warnings "$out/book.log" | grep -F net_failover_rs)
	if ! grep -qx '   net_failover_rs' "$book/Documentation/networking/index.rst"; then
		fail "networking/index.rst of $src has no 'net_failover' entry to add ours after"
	elif [ "$rc" = 0 ] && [ -z "$ours" ] && [ -s "$book/output/networking/net_failover_rs.html" ]; then
		pass "the networking book builds with our file, no warning from it" \
			"($(warnings "$out/book.log" | wc -l) of the kernel's own; ${secs} s)"
	else
		printf '%s\n' "$ours" | sed 's/^/    /'
		fail "the networking book with our file (exit $rc; log: tests/out/docs/book.log)"
	fi
fi

finish
