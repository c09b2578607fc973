#!/bin/sh
# shellcheck shell=sh
#
# busybox acpid runs this for the ACPI power button (PWRF/00000080): Nova's soft stop and soft
# reboot. Nothing to save in the test image, so the machine powers off at once.
echo "TESTVM poweroff" >/dev/console
sync
poweroff -f
