#!/usr/bin/env bash
# Sets up everything the module and its tests need on a Debian 12 machine and
# builds the test kernel into a cache outside the repository.
#
#   tests/setup.sh                  install what is missing, build (or reuse) the kernel
#   tests/setup.sh --print          print the cached kernel's directory, nothing else
#   tests/setup.sh --debug          the same for the debug kernel (KASAN, kmemleak,
#                                   lockdep, refcount trackers, fault injection):
#                                   about 37 minutes on 2 cores
#   tests/setup.sh --debug --print  print where the debug kernel is (or would be) cached
#   tests/setup.sh --bench [--print] the same for the benchmark kernel (no lock
#                                   debugging, -O2, pktgen, bonding, vmxnet3)
#
# The kernel build directory is $NFRS_CACHE/kernel-<key> (kernel-debug-<key>),
# where <key> hashes the kernel source version, the config fragments
# (tests/kernel.config, and tests/kernel-debug.config or tests/kernel-bench.config
# on top for the debug or benchmark kernel) and the compiler versions. A second run with the same inputs takes
# seconds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${NFRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/net_failover_rs}
llvm=-19
pkgs=(clang-19 lld-19 llvm-19 libclang-19-dev bc flex bison libelf-dev libssl-dev
      cpio kmod make xz-utils linux-source-6.12 qemu-system-x86 busybox-static
      ethtool iproute2 fonts-dejavu-core initramfs-tools-core dkms dh-dkms
      debhelper dpkg-dev python3-sphinx graphviz)

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	log "installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

install_rust_tools() {
	export PATH=$HOME/.cargo/bin:$PATH
	command -v rustup >/dev/null || { log "rustup is required"; exit 1; }
	if ! rustup component list --installed | grep -q '^rust-src'; then
		log "adding rust-src"
		rustup component add rust-src >&2
	fi
	if ! command -v bindgen >/dev/null; then
		log "installing bindgen-cli (about a minute)"
		cargo install --locked bindgen-cli >&2
	fi
}

kernel_src() {
	local tar=/usr/src/linux-source-6.12.tar.xz
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	local src=$cache/src-$ver
	if [ ! -f "$src/.extracted" ]; then
		log "extracting $tar"
		rm -rf "$src"; mkdir -p "$src"
		tar -xJf "$tar" -C "$src" --strip-components=1
		touch "$src/.extracted"
	fi
	echo "$src"
}

key() {
	{
		dpkg-query -W -f='${Version}\n' linux-source-6.12
		cat "${fragments[@]}"
		clang$llvm --version | head -1
		rustc --version
		bindgen --version
	} | sha256sum | cut -c1-16
}

build_kernel() {
	local src=$1 out=$2
	if [ -f "$out/.built" ]; then
		log "kernel cached at $out"
		return
	fi
	mkdir -p "$out"
	local mk=(make -s -C "$src" O="$out" LLVM=$llvm)
	log "configuring kernel in $out"
	"${mk[@]}" tinyconfig >/dev/null
	(cd "$out" && KCONFIG_CONFIG=.config "$src/scripts/kconfig/merge_config.sh" \
		-m -O "$out" .config "${fragments[@]}" >/dev/null)
	"${mk[@]}" olddefconfig >/dev/null
	# Every option's last setting across the fragments must be in the result.
	local bad=0 line opt
	declare -A want=()
	while read -r line; do
		case "$line" in
		CONFIG_*=*) want[${line%%=*}]=$line ;;
		"# CONFIG_"*" is not set") opt=${line#\# }; want[${opt%% *}]=$line ;;
		esac
	done < <(cat "${fragments[@]}")
	for opt in "${!want[@]}"; do
		line=${want[$opt]}
		case "$line" in
		CONFIG_*) grep -qx "$line" "$out/.config" || { log "config: $line did not stick"; bad=1; } ;;
		*) ! grep -q "^$opt=" "$out/.config" || { log "config: $line did not stick"; bad=1; } ;;
		esac
	done
	[ $bad = 0 ] || exit 1
	"${mk[@]}" rustavailable >&2
	local jobs=$(( $(nproc) + 1 ))
	log "building the $kind kernel with -j$jobs ($minutes on 2 cores); progress below"
	local start=$SECONDS n=0 blog=$out/build.log
	make -C "$src" O="$out" LLVM=$llvm -j"$jobs" bzImage modules >"$blog" 2>&1 &
	local pid=$!
	while kill -0 $pid 2>/dev/null; do
		sleep 30
		log "  $((SECONDS - start)) s: $(wc -l <"$blog") build steps, at: $(tail -1 "$blog" | cut -c1-60)"
	done
	if ! wait $pid; then
		tail -30 "$blog" >&2
		log "kernel build failed (full log: $blog)"
		exit 1
	fi
	touch "$out/.built"
	log "kernel built in $((SECONDS - start)) s"
}

fragments=("$here/kernel.config")
kind=test name=kernel minutes="about 16 minutes"

main() {
	if [ "${1:-}" = --debug ]; then
		shift
		fragments+=("$here/kernel-debug.config")
		kind=debug name=kernel-debug minutes="about 37 minutes"
	elif [ "${1:-}" = --bench ]; then
		shift
		fragments+=("$here/kernel-bench.config")
		kind=benchmark name=kernel-bench minutes="about 16 minutes"
	fi
	if [ "${1:-}" = --print ]; then
		export PATH=$HOME/.cargo/bin:$PATH
		echo "$cache/$name-$(key)"
		return
	fi
	install_packages
	install_rust_tools
	local src out
	src=$(kernel_src)
	out=$cache/$name-$(key)
	build_kernel "$src" "$out"
	echo "$out"
}

main "$@"
