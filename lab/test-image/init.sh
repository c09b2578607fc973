#!/bin/sh
# shellcheck shell=sh
#
# PID 1 of the lab's test image (lab/test-image.ts builds it): busybox sh in an initramfs.
# Every line meant for the lab starts with "TESTVM " (formats in lab/test-image.ts); the
# console is the serial port, which is what Nova keeps as the instance's console log.
#
#   TESTVM boot kernel=<release>
#   TESTVM dhcp ip=<address>/<prefix> router=<address|none> mtu=<n|none>   (udhcpc.sh)
#   TESTVM dhcp failed                   no lease after DHCP_WAIT s (udhcpc goes on trying)
#   TESTVM metadata uuid=<instance uuid> from /openstack/latest/meta_data.json
#   TESTVM metadata failed               nothing after METADATA_WAIT s of retries
#   TESTVM sshd port=22 keys=<n>         dropbear, root may log in with the n injected keys
#   TESTVM httpd port=80                 GET / answers "TESTVM <uuid>"
#   TESTVM ready
#   TESTVM disk <name> size=<bytes>      a virtio disk there (vda at first), hot-plugged or resized
#   TESTVM disk <name> removed           a virtio disk gone (disk-watch.sh, from "ready" on)
#   TESTVM ping <address> ok|fail        every 2 s, for each "ping=<address>" line of user data
#   TESTVM poweroff                      ACPI power button (Nova's soft stop)

PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH

DHCP_WAIT=120
METADATA_WAIT=120
METADATA=http://169.254.169.254
STATE=/run/testvm

say() {
	echo "TESTVM $*"
}

uptime_s() {
	cut -d. -f1 /proc/uptime
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$STATE" /run/dropbear
# Kernel messages would cut into the lines below: from here on only emergencies reach the console.
dmesg -n 1
hostname testvm
ip link set lo up

say "boot kernel=$(uname -r)"

while read -r module; do
	params=
	# The guest finishes its own TCP/UDP checksums: Open vSwitch's userspace datapath (the lab's)
	# forwards a checksum left to the NIC as it is, and the receiver drops the packet.
	if [ "$module" = virtio_net ]; then params="csum=0 gso=0"; fi
	# shellcheck disable=SC2086 # the parameters are words
	insmod "/lib/modules/$module.ko" $params || echo "insmod $module failed"
done </etc/modules

# The power button (Nova's soft stop and soft reboot) powers off at once. acpid exits at once
# if it cannot open its log file.
acpid -c /etc/acpi -l /run/acpid.log

# No udev: the kernel's own name, and the first virtio NIC is eth0.
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done

if [ -e /sys/class/net/eth0 ]; then
	ip link set eth0 up
	# Foreground and kept running (renewals); the script prints the "dhcp" line.
	# The pid file where CirrOS keeps it: Tempest renews the lease with kill -USR1.
	udhcpc -f -i eth0 -p /var/run/udhcpc.eth0.pid -s /etc/udhcpc.sh -t 5 -T 3 -A 5 -O mtu -O staticroutes >/dev/null 2>&1 &
	deadline=$(($(uptime_s) + DHCP_WAIT))
	while [ ! -e "$STATE/dhcp" ] && [ "$(uptime_s)" -lt "$deadline" ]; do
		sleep 0.2
	done
fi
[ -e "$STATE/dhcp" ] || say "dhcp failed"

# metadata PATH FILE: one try; the file only when the service answered. Debian's busybox wget
# has no -T (it crashes on it): timeout bounds it.
metadata() {
	timeout 10 wget -q -O "$2.part" "$METADATA/$1" 2>"$STATE/wget.err" && mv "$2.part" "$2"
	rm -f "$2.part"
	[ -e "$2" ]
}

uuid=
deadline=$(($(uptime_s) + METADATA_WAIT))
while :; do
	if metadata openstack/latest/meta_data.json "$STATE/meta_data.json"; then
		# Nova writes "uuid" first; split at JSON punctuation and take the first match.
		uuid=$(sed 's/[,{}]/\n/g' "$STATE/meta_data.json" |
			sed -n 's/^[[:space:]]*"uuid":[[:space:]]*"\([0-9a-fA-F-]*\)"[[:space:]]*$/\1/p' | head -n 1)
		[ -n "$uuid" ] || echo 'no "uuid" in meta_data.json' >"$STATE/wget.err"
		break
	fi
	[ "$(uptime_s)" -lt "$deadline" ] || break
	sleep 2
done
if [ -n "$uuid" ]; then
	say "metadata uuid=$uuid"
	# The server's name as Nova made it a host name, without the DHCP domain: what Tempest
	# compares with `hostname`, as cloud-init and CirrOS set it.
	host=$(sed 's/[,{}]/\n/g' "$STATE/meta_data.json" |
		sed -n 's/^[[:space:]]*"hostname":[[:space:]]*"\([A-Za-z0-9.-]*\)"[[:space:]]*$/\1/p' | head -n 1)
	if [ -n "$host" ]; then hostname "${host%%.*}"; fi
	# Optional: none when the instance has no key pair or no user data (404).
	metadata latest/meta-data/public-keys/0/openssh-key "$STATE/openssh-key" || true
	metadata openstack/latest/user_data "$STATE/user_data" || true
else
	echo "metadata: $METADATA/openstack/latest/meta_data.json: $(tail -n 1 "$STATE/wget.err" 2>/dev/null)"
	say "metadata failed"
fi

mkdir -p /root/.ssh
chmod 0700 /root /root/.ssh
: >/root/.ssh/authorized_keys
if [ -s "$STATE/openssh-key" ]; then
	grep '^[a-z]' "$STATE/openssh-key" >/root/.ssh/authorized_keys || true
fi
chmod 0600 /root/.ssh/authorized_keys
keys=$(grep -c . /root/.ssh/authorized_keys || true)
# Keys only (-s: no passwords), host keys made on the first connection (-R).
if dropbear -R -s -p 22 -P /run/dropbear/dropbear.pid; then
	say "sshd port=22 keys=$keys"
else
	say "sshd failed"
fi

mkdir -p /www
echo "TESTVM ${uuid:-unknown}" >/www/index.html
if httpd -p 80 -h /www; then
	say "httpd port=80"
else
	say "httpd failed"
fi

say ready

# The virtio disks from now on, every 0.5 s: a Cinder volume attached to the running guest.
/etc/disk-watch.sh &

pinger() {
	while :; do
		if ping -c 1 -W 1 "$1" >/dev/null 2>&1; then
			say "ping $1 ok"
		else
			say "ping $1 fail"
		fi
		sleep 2
	done
}

if [ -s "$STATE/user_data" ]; then
	tr -d '\r' <"$STATE/user_data" |
		sed -n 's/^ping=\([0-9][0-9.]*[0-9]\)[[:space:]]*$/\1/p' >"$STATE/ping-targets"
	while read -r target; do
		pinger "$target" &
	done <"$STATE/ping-targets"
fi

# PID 1 never exits; waiting also reaps orphans that end up here.
while :; do
	wait
	sleep 1
done
