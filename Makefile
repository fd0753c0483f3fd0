# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of net_failover_rs.ko against a Rust-enabled 6.12 build
# tree: `make` uses the test kernel of tests/setup.sh, `make KDIR=/path` any
# other one (built with the same LLVM= setting, default -19).

KDIR ?= $(shell $(CURDIR)/tests/setup.sh --print)
LLVM ?= -19
export PATH := $(HOME)/.cargo/bin:$(PATH)
kmake = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM) CONFIG_NET_FAILOVER_RS=m

all: modules

modules clean:
	$(kmake) $@
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/kunit LLVM=$(LLVM) $@
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/pvdrv LLVM=$(LLVM) $@
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/debugmod LLVM=$(LLVM) $@

modules_install:
	$(kmake) INSTALL_MOD_DIR=updates modules_install

.PHONY: all modules clean modules_install
