# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of net_failover_rs.ko against a Rust-enabled 6.12 build
# tree: `make` uses the test kernel of tests/setup.sh, `make KDIR=/path` any
# other one. The compiler follows the tree's .config: for a clang-built tree
# LLVM=-<major> when clang-<major> of the version that built it is installed
# (Debian 12's clang-19), else LLVM=1; for a GCC-built tree no LLVM. Set LLVM=
# to override. `make module` builds the module alone, `make modules` the test
# modules too.

KDIR ?= $(shell $(CURDIR)/tests/setup.sh --print)
kconfig = $(shell sed -n 's/^$(1)=//p' $(KDIR)/.config 2>/dev/null)
clang_major = $(shell expr $(call kconfig,CONFIG_CLANG_VERSION) / 10000 2>/dev/null)
LLVM ?= $(if $(filter y,$(call kconfig,CONFIG_CC_IS_CLANG)),$(if \
	$(shell command -v clang-$(clang_major) 2>/dev/null),-$(clang_major),1))
export PATH := $(HOME)/.cargo/bin:$(PATH)

# dkms appends unversioned CC=clang LD=ld.lld to its make command for a
# clang-built tree; where the tools carry a suffix (LLVM=-19: clang-19,
# ld.lld-19), hand the kernel's make the suffixed names instead. An explicit
# variable on the sub-make's command line wins over the inherited one.
llvm_suffix = $(filter -%,$(LLVM))
llvm_fix = $(if $(llvm_suffix),$(foreach v,CC LD,$(if $(filter command line,$(origin $(v))),$(if \
	$(filter clang ld.lld,$($(v))),$(v)=$($(v))$(llvm_suffix)))))
kbuild = $(MAKE) -C $(KDIR) LLVM=$(LLVM) $(llvm_fix)
kmake = $(kbuild) M=$(CURDIR) CONFIG_NET_FAILOVER_RS=m
test_modules = $(wildcard $(CURDIR)/tests/kunit $(CURDIR)/tests/pvdrv $(CURDIR)/tests/debugmod)

all: modules

modules: module
	+$(foreach d,$(test_modules),$(kbuild) M=$(d) modules &&) true

clean:
	+$(kmake) clean
	+$(foreach d,$(test_modules),$(kbuild) M=$(d) clean &&) true

# Under its own name only: not a drop-in for the C modules (see install).
modules_install:
	+$(kmake) INSTALL_MOD_DIR=updates modules_install

# The modprobe drop-in. kmod resolves a symbol exported by two modules to
# whichever depmod happened to process last, so installing ours next to the C
# modules would not decide anything. A module in updates/ does replace one of
# the same name in kernel/, and depmod then ignores the replaced file: so
# `install` puts net_failover_rs.ko in updates/ and links the C modules' two
# names, net_failover.ko and failover.ko, to it. modules.dep then names only
# ours for virtio_net (and for any user of failover_register()), and
# `uninstall` brings the C modules back. INSTALL_MOD_PATH installs into
# another root, as the kernel's own modules_install does.
krelease = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
# install and uninstall write into a kernel's modules: name it.
need_kdir = @case "$(origin KDIR)" in command\ line|environment) ;; \
	*) echo "make $@: give the kernel's build tree, e.g. KDIR=/lib/modules/\$$(uname -r)/build"; exit 1;; esac; \
	test -n "$(krelease)" || { echo "$(KDIR): no include/config/kernel.release"; exit 1; }
updates = $(INSTALL_MOD_PATH)/lib/modules/$(krelease)/updates
DEPMOD ?= depmod
depmod = $(DEPMOD) $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(krelease)

install:
	$(need_kdir)
	+$(MAKE) module
	install -D -m 644 net_failover_rs.ko $(updates)/net_failover_rs.ko
	ln -sf net_failover_rs.ko $(updates)/net_failover.ko
	ln -sf net_failover_rs.ko $(updates)/failover.ko
	$(depmod)

uninstall:
	$(need_kdir)
	@for n in net_failover failover; do \
		if [ "$$(readlink $(updates)/$$n.ko)" = net_failover_rs.ko ]; then rm -f $(updates)/$$n.ko; \
		elif [ -e $(updates)/$$n.ko ]; then echo "keeping $(updates)/$$n.ko: not a link to ours"; fi; \
	done
	rm -f $(updates)/net_failover_rs.ko
	$(depmod)

# The module alone, once scripts/check-kernel.sh has found the tree usable.
module:
	@$(CURDIR)/scripts/check-kernel.sh $(KDIR) $(LLVM)
	+$(kmake) modules

.PHONY: all module modules clean modules_install install uninstall
