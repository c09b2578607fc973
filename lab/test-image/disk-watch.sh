#!/bin/sh
# shellcheck shell=sh
#
# The test image's disk watch (init.sh starts it in the background once the guest is ready):
# one console line per change of the virtio disks, looked at every half second. A Cinder volume
# attached to the running guest is hot-plugged (PCI) as the next vd* disk and goes when it is
# detached; there is no udev, so /sys/block is where the kernel shows it.
#
#   TESTVM disk <name> size=<bytes>      a disk appeared (or its size changed: an extended volume)
#   TESTVM disk <name> removed           a disk went
#
# The disks there when the watch starts (vda, the image) are reported in its first round, so
# that every disk of the latest boot has its "size=" line. <bytes> is /sys/block/<name>/size
# (512-byte sectors, whatever the disk's block size) times 512.
#
# DISK_WATCH_ROOT and DISK_WATCH_INTERVAL are for the unit test (a directory in place of
# /sys/block, a shorter pause).

ROOT=${DISK_WATCH_ROOT:-/sys/block}
INTERVAL=${DISK_WATCH_INTERVAL:-0.5}

say() {
	echo "TESTVM $*"
}

# "<name>:<sectors>" of every disk there now, each after a space.
disks_now() {
	for dev in "$ROOT"/vd*; do
		# No disk leaves the pattern itself; a disk that goes between the glob and the read is
		# seen gone in the next round.
		[ -e "$dev/size" ] || continue
		read -r sectors 2>/dev/null <"$dev/size" || continue
		printf ' %s:%s' "${dev##*/}" "$sectors"
	done
}

known=
while :; do
	now=$(disks_now)
	for disk in $now; do
		case "$known " in
		*" $disk "*) ;;
		*)
			name=${disk%%:*}
			bytes=$((${disk#*:} * 512))
			say "disk $name size=$bytes"
			;;
		esac
	done
	for disk in $known; do
		name=${disk%%:*}
		case "$now " in
		*" $name:"*) ;;
		*)
			say "disk $name removed"
			;;
		esac
	done
	known=$now
	sleep "$INTERVAL"
done
