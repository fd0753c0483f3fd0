#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-kernel.sh KDIR [LLVM]: whether net_failover_rs can be built against
# the kernel build tree KDIR: the kernel has Rust (CONFIG_RUST), the rustc in
# PATH (or root's rustup, ~/.cargo/bin) is the one that built it (rustc reads
# no crate metadata of another version, so the kernel crate would not load),
# bindgen is installed, and so are clang and ld.lld (with the suffix LLVM,
# e.g. -19) for a clang-built tree. Says what is wrong and exits 1 if
# anything is.
kdir=${1:?usage: check-kernel.sh KDIR [LLVM]}
# rustup's tools, as the Makefile adds them (dkms under dpkg has no such PATH).
PATH=$HOME/.cargo/bin:$PATH
config=$kdir/.config
me=net_failover_rs
release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo "$kdir")
fail() {
	echo "$me: cannot build for kernel $release: $*" >&2
	exit 1
}
[ -f "$config" ] || fail "$kdir is not a configured kernel build tree (no .config; install the kernel's headers or build tree)"
get() { sed -n "s/^$1=//p" "$config" | tr -d '"'; }
[ "$(get CONFIG_RUST)" = y ] || fail "the kernel was built without Rust support (CONFIG_RUST is not set in $config)"
want=$(get CONFIG_RUSTC_VERSION_TEXT)
command -v rustc >/dev/null 2>&1 || fail "no rustc in PATH; the kernel was built with $want"
have=$(rustc --version)
[ "$have" = "$want" ] || fail "the kernel was built with $want, but rustc in PATH is $have (crates of another rustc do not load)"
command -v bindgen >/dev/null 2>&1 || fail "no bindgen in PATH (the kernel was built with $(get CONFIG_BINDGEN_VERSION_TEXT))"
[ -f "$kdir/rust/libkernel.rmeta" ] ||
	fail "$kdir has no rust/libkernel.rmeta: the build tree lacks the Rust kernel crate"
if [ "$(get CONFIG_CC_IS_CLANG)" = y ]; then
	# The Makefile's default: clang-<major> of the version that built the
	# tree when it is installed, else the unsuffixed tools.
	v=$(get CONFIG_CLANG_VERSION)
	major=$((${v:-0} / 10000))
	llvm=${2:-$(command -v "clang-$major" >/dev/null 2>&1 && echo "-$major")}
	suffix=$llvm
	case $llvm in 1 | "") suffix= ;; esac
	for t in clang ld.lld; do
		command -v "$t$suffix" >/dev/null 2>&1 ||
			fail "the kernel was built with clang $(get CONFIG_CLANG_VERSION), and $t$suffix is not in PATH (set LLVM= to the suffix of the installed LLVM tools, e.g. LLVM=-19)"
	done
fi
exit 0
