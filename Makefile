# SPDX-License-Identifier: GPL-2.0
#
# ipsecif: route-based IPsec devices for Linux.
#
#   make                 module (+ userspace) for the running kernel, or KDIR=
#   make install         install module, ipsecif tool, link_ipsec.so, man page
#   make check           build and run the selftests in VMs (KERNELS=, TESTS=,
#                        VMS=: VMs at once per kernel, one per host core;
#                        CPUS=: vCPUs per VM, 1, or 2 if VMS=1;
#                        LANES=: tests at once per VM, 1)
#   make check-busy      the same while CPU hogs keep every host core busy
#   make check-harness   the harness itself: a VM that dies mid-run is
#                        reported, and make check ends (one 6.1 VM)
#   make demo            the main job, end to end, in a VM
#   make bench           ipsecif vs xfrmi vs policy-based IPsec, one VM boot
#                        (BENCH=endpoint or BENCH=gateway: one topology;
#                        BENCH=scale: 10,000 devices of each kind created;
#                        BENCH=idle: the gateway's rate with and without
#                        10,000 idle devices beside the tunnel's)
#   make lint            checkpatch --strict, kernel-doc, sparse (C=2), W=1,
#                        shellcheck
#   make deb             ipsecif-dkms and ipsecif .debs into build/deb, lintian

KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
PWD	:= $(CURDIR)
PREFIX	?= /usr
DESTDIR	?=

KERNELS	?= 6.1 6.12 7.2
TESTS	?=
LANES	?= 1
VMS	?=
CPUS	?=
# rounds of make bench: 3, and 5 for BENCH=idle (its goal needs them)
ROUNDS	?= $(if $(filter idle,$(BENCH)),5,3)
BENCH_SECS ?= 5
VARIANTS ?=
ICOUNT	?=

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

userspace:
	$(MAKE) -C userspace

modules_install install-module:
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_DIR=updates modules_install

install: install-module install-userspace

install-userspace: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C userspace clean
	rm -rf .vm-out build

check:
	bash selftests/vm/run.sh --kernels "$(KERNELS)" --tests "$(TESTS)" --lanes "$(LANES)" --vms "$(VMS)" --cpus "$(CPUS)"

check-busy:
	bash scripts/busy-check.sh --kernels "$(KERNELS)" --tests "$(TESTS)" --lanes "$(LANES)" --vms "$(VMS)" --cpus "$(CPUS)"

check-harness:
	bash selftests/vm/harness.sh

demo:
	bash selftests/vm/run.sh --demo --kernels "$(firstword $(KERNELS))"

bench:
	BENCH_ICOUNT="$(ICOUNT)" BENCH_ARGS="$(if $(BENCH),--only $(BENCH)) $(ROUNDS) $(BENCH_SECS) $(VARIANTS)" bash selftests/vm/run.sh --bench \
		--kernels "$(firstword $(KERNELS))"

lint:
	bash scripts/lint.sh

deb:
	bash scripts/deb.sh $(CURDIR)/build/deb

.PHONY: all module userspace modules_install install-module install-userspace \
	install clean check check-busy check-harness demo bench lint deb
