#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Not a test of ipsecif: a VM that dies in the middle of the suite, for
# selftests/vm/harness.sh (make check-harness), which proves that make
# check then reports a failure for this script, for the VM, and "no VM
# took it" for the tests left, and ends. Never in TEST_PROGS. It powers the
# machine off, so it refuses to run anywhere but in a virtme-ng guest.
source "$(dirname "$0")/lib.sh"

grep -q 'virtme_hostname=' /proc/cmdline || ksft_skip_all "not in a virtme-ng guest: not powering this machine off"
echo "# vmdies: powering the VM off in the middle of the suite"
sync
echo o >/proc/sysrq-trigger
# Powering off takes a moment: no TAP plan, no exit code meanwhile.
while :; do sleep 1; done
